use std::path::Path;

use syntect::highlighting::{Highlighter, Style};
use syntect::parsing::{ParseState, Scope, ScopeStack};
use syntect::util::LinesWithEndings;

use super::{Kind, PLAIN, tokenize};
use crate::highlight::{LOADED_THEMES, SYNTAXES};

/// The tokens of `src` as (text, kind) pairs.
fn tokens(src: &str) -> Vec<(&str, Kind)> {
    tokenize(src)
        .into_iter()
        .map(|(a, b, k)| (&src[a..b], k))
        .collect()
}

fn kind_of(toks: &[(&str, Kind)], text: &str) -> Vec<Kind> {
    toks.iter()
        .filter(|(t, _)| *t == text)
        .map(|(_, k)| *k)
        .collect()
}

#[test]
fn definitions_parameters_calls_and_keyword_arguments() {
    let src = "@app.get(\"/x\", status_code=200)\nasync def handler(self, n: int = 3, *args, **kw) -> None:\n    return len(args) + helper(n, key=n == 2)\n";
    let t = tokens(src);
    assert_eq!(kind_of(&t, "app"), [Kind::DecoratorPart]);
    assert_eq!(kind_of(&t, "get"), [Kind::Decorator]);
    assert_eq!(kind_of(&t, "status_code"), [Kind::Parameter]);
    assert_eq!(kind_of(&t, "handler"), [Kind::FunctionName]);
    assert_eq!(kind_of(&t, "self"), [Kind::Parameter]);
    assert_eq!(
        kind_of(&t, "n"),
        [Kind::Parameter],
        "only in the definition"
    );
    assert_eq!(kind_of(&t, "int"), [Kind::BuiltinType]);
    assert_eq!(kind_of(&t, "kw"), [Kind::Parameter]);
    assert_eq!(kind_of(&t, "None"), [Kind::Constant]);
    assert_eq!(kind_of(&t, "len"), [Kind::CallBuiltin]);
    assert_eq!(kind_of(&t, "helper"), [Kind::Call]);
    assert_eq!(kind_of(&t, "key"), [Kind::Parameter]);
    assert_eq!(kind_of(&t, "=="), [Kind::Comparison]);
    assert_eq!(kind_of(&t, "return"), [Kind::KeywordFlow]);
}

#[test]
fn strings_docstrings_and_fstring_fields() {
    let src = "\"\"\"Module doc.\"\"\"\nx = f'{a!r:>{w}} and {b[\"k\"]}' + r'\\d' + 'tab\\t%s' # note\nd = {\"key\": 1}\n";
    let t = tokens(src);
    assert_eq!(t[0], ("\"\"\"", Kind::Docstring));
    assert_eq!(kind_of(&t, "f"), [Kind::StrPrefix]);
    assert_eq!(kind_of(&t, "!r"), [Kind::Conversion]);
    assert_eq!(
        kind_of(&t, "w"),
        Vec::<Kind>::new(),
        "a name inside a spec stays in the spec"
    );
    assert_eq!(
        kind_of(&t, "\\d"),
        [Kind::Str],
        "raw strings have no escapes"
    );
    assert_eq!(kind_of(&t, "\\t"), [Kind::StrEscape]);
    assert_eq!(kind_of(&t, "%s"), [Kind::Placeholder]);
    assert_eq!(kind_of(&t, "k"), [Kind::Str], "a string inside a field");
    assert_eq!(kind_of(&t, " note"), [Kind::Comment]);
    assert_eq!(kind_of(&t, "key"), [Kind::StrKey]);
    assert!(kind_of(&t, "{").contains(&Kind::Interpolation));
}

#[test]
fn classes_numbers_and_raise_from() {
    let src = "class Store(Base, metaclass=Meta):\n    LIMIT: int = 1_000\n    rate = 2.5e-3\n    raise ValueError('x') from err\n";
    let t = tokens(src);
    assert_eq!(kind_of(&t, "Store"), [Kind::ClassName]);
    assert_eq!(kind_of(&t, "Base"), [Kind::InheritedClass]);
    assert_eq!(kind_of(&t, "Meta"), Vec::<Kind>::new());
    assert_eq!(kind_of(&t, "LIMIT"), [Kind::UpperConstant]);
    assert_eq!(kind_of(&t, "1_000"), [Kind::Number]);
    assert_eq!(kind_of(&t, "2"), [Kind::Float]);
    assert_eq!(kind_of(&t, "5e-3"), [Kind::Float]);
    assert_eq!(kind_of(&t, "ValueError"), [Kind::CallException]);
    assert_eq!(kind_of(&t, "from"), [Kind::RaiseFrom]);
}

#[test]
fn any_input_gives_ordered_tokens_on_char_boundaries() {
    // Every prefix of awkward input: unterminated strings and fields, stray
    // brackets, non-ASCII names, a backslash at the very end.
    let src =
        "def é(a=\"x\\\nf'{ {x: [1, (2,}' \"\"\"open\nb'\\xff' 0x1F 1. .5 @ lambda q: q ** 2 \\";
    for end in (0..=src.len()).filter(|&i| src.is_char_boundary(i)) {
        let s = &src[..end];
        let mut pos = 0;
        for (a, b, _) in tokenize(s) {
            assert!(a >= pos && b > a && b <= s.len(), "{s:?}: token {a}..{b}");
            assert!(s.is_char_boundary(a) && s.is_char_boundary(b), "{s:?}");
            pos = b;
        }
    }
}

/// The looks (colour and font in all five themes) of a scope stack.
fn looks(highlighters: &[Highlighter<'_>], stack: &[Scope]) -> Vec<Style> {
    highlighters
        .iter()
        .map(|h| h.style_for_stack(stack))
        .collect()
}

/// On the Python of two labs, the tokenizer and syntect's Python grammar
/// colour at least 99 % of the visible characters alike in every theme.
#[test]
fn agrees_with_the_sublime_grammar_on_lab_code() {
    let labs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../labs");
    let mut files = Vec::new();
    for lab in ["advanced-deployment", "monitoring"] {
        for entry in walkdir::WalkDir::new(labs.join(lab)).sort_by_file_name() {
            let entry = entry.expect("walking the lab");
            let path = entry.path();
            let ignored = path.components().any(|c| {
                matches!(
                    c.as_os_str().to_str(),
                    Some(".venv" | "__pycache__" | ".pytest_cache")
                )
            });
            if !ignored && path.extension().is_some_and(|e| e == "py") {
                files.push(std::fs::read_to_string(path).expect("reading a lab file"));
            }
        }
    }
    assert!(
        files.len() > 5,
        "too few lab files found under {}",
        labs.display()
    );
    let syntax = SYNTAXES
        .find_syntax_by_name("Python")
        .expect("Python syntax");
    let highlighters: Vec<Highlighter<'_>> = LOADED_THEMES.iter().map(Highlighter::new).collect();
    let (mut total, mut differ) = (0usize, [0usize; 5]);
    for src in &files {
        let mut theirs: Vec<Vec<Scope>> = vec![Vec::new(); src.len()];
        let (mut state, mut stack, mut base) = (ParseState::new(syntax), ScopeStack::new(), 0);
        for line in LinesWithEndings::from(src) {
            let ops = state
                .parse_line(line, &SYNTAXES)
                .expect("syntect parses lab code");
            let mut pos = 0;
            for (at, op) in ops {
                theirs[base + pos..base + at].fill(stack.as_slice().to_vec());
                pos = at;
                stack.apply(&op).expect("a valid scope op");
            }
            theirs[base + pos..base + line.len()].fill(stack.as_slice().to_vec());
            base += line.len();
        }
        let mut ours: Vec<&[Scope]> = vec![&PLAIN[..]; src.len()];
        for (a, b, kind) in tokenize(src) {
            ours[a..b].fill(kind.stack());
        }
        for (i, _) in src.char_indices().filter(|(_, c)| !c.is_whitespace()) {
            total += 1;
            let (t, o) = (
                looks(&highlighters, &theirs[i]),
                looks(&highlighters, ours[i]),
            );
            for theme in 0..5 {
                differ[theme] += usize::from(t[theme] != o[theme]);
            }
        }
    }
    for (theme, d) in differ.iter().enumerate() {
        let share = *d as f64 / total as f64;
        assert!(
            share < 0.01,
            "theme {theme}: {d} of {total} characters differ ({:.2} %)",
            share * 100.0
        );
    }
}
