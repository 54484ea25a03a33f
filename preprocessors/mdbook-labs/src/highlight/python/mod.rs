//! A Python tokenizer for the file pages, in place of syntect's Python
//! grammar.
//!
//! Python is nine tenths of the lab code, and syntect runs the Sublime
//! Python grammar at under 1 MB/s: on a first build, highlighting Python
//! was most of the time spent beyond plain mdBook. This tokenizer reads
//! Python's lexical structure directly (comments, strings with their
//! prefixes, f-string fields, numbers, keywords, names) plus the bits of
//! syntax that themes colour (definitions, parameters, calls, keyword
//! arguments, decorators, docstrings), and names each token with the scope
//! the Sublime grammar gives it, so every theme colours it the same way.
//! `tests.rs` measures how often both agree on the lab files.

mod kinds;
mod names;
mod strings;
#[cfg(test)]
mod tests;

pub(super) use kinds::{Kind, PLAIN};
use names::{
    BUILTIN_FUNCTIONS, BUILTIN_TYPES, is_dunder, is_exception, is_upper_constant, keyword,
};

/// One token: a byte range of the file and what it is.
pub(super) type Token = (usize, usize, Kind);

/// What an open bracket is, for parameters and keyword arguments.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Bracket {
    /// The parameter list of a `def` (ends at `)`).
    Params,
    /// The parameters of a `lambda` (end at `:`).
    Lambda,
    /// A call's arguments.
    Call,
    /// A class's bases.
    Bases,
    /// Any other `(`.
    Paren,
    Square,
    Brace,
}

/// The keyword a statement starts with, where it matters.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Statement {
    /// `class`: its `:` opens the class body.
    Class,
    /// `raise`: its `from` is part of it.
    Raise,
    /// A compound statement (`def`, `if`, `for`, …): its `:` opens a block.
    Block,
    /// Anything else (a `:` there annotates a variable).
    Simple,
}

/// The tokens of a Python file, in order, not overlapping. Never fails: text
/// it does not understand is left plain.
pub(super) fn tokenize(src: &str) -> Vec<Token> {
    let mut lexer = Lexer {
        src,
        b: src.as_bytes(),
        pos: 0,
        out: Vec::with_capacity(src.len() / 6),
        brackets: Vec::new(),
        statement_start: true,
        statement: Statement::Simple,
        after: After::Nothing,
        param_position: false,
    };
    lexer.run(src.len(), false);
    lexer.out
}

/// What the previous significant token asks of the next name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum After {
    Nothing,
    Def,
    Class,
    /// A class's name: its `(` opens the bases.
    ClassName,
    Dot,
    At,
}

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    out: Vec<Token>,
    brackets: Vec<Bracket>,
    /// The next token starts a statement (a string there is a docstring).
    statement_start: bool,
    statement: Statement,
    after: After,
    /// In a parameter list, the next name is a parameter.
    param_position: bool,
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

impl Lexer<'_> {
    fn peek(&self, at: usize) -> u8 {
        self.b.get(at).copied().unwrap_or(0)
    }

    /// Where the next character that is not a space or a tab is, from `at`.
    fn skip_blanks(&self, at: usize) -> usize {
        let mut j = at;
        while matches!(self.peek(j), b' ' | b'\t') {
            j += 1;
        }
        j
    }

    fn push(&mut self, start: usize, end: usize, kind: Kind) {
        if end > start {
            self.out.push((start, end, kind));
        }
    }

    /// Tokenizes up to `end`; in an f-string field (`in_field`, whose
    /// caller sets the brackets aside) stops at the `}`, `!` or `:` that
    /// closes the field's expression.
    fn run(&mut self, end: usize, in_field: bool) {
        while self.pos < end {
            let c = self.peek(self.pos);
            let start = self.pos;
            match c {
                b'\n' => {
                    self.pos += 1;
                    if self.brackets.is_empty() && !in_field {
                        self.statement_start = true;
                        self.after = After::Nothing;
                    }
                    continue;
                }
                b' ' | b'\t' | b'\r' | b'\x0c' => {
                    self.pos += 1;
                    continue;
                }
                b'\\' => {
                    self.pos += 1;
                    continue;
                }
                b'#' => {
                    let stop = self.src[start..end].find('\n').map_or(end, |i| start + i);
                    self.push(start, start + 1, Kind::CommentMark);
                    self.push(start + 1, stop, Kind::Comment);
                    self.pos = stop;
                    continue;
                }
                _ => {}
            }
            let at_statement_start = std::mem::replace(&mut self.statement_start, false);
            if at_statement_start && !in_field {
                self.statement = self.statement_kind(start);
            }
            if in_field && self.brackets.is_empty() {
                // The end of a field's expression: `}`, a conversion `!r`, a spec `:`.
                if c == b'}' || (c == b'!' && self.peek(self.pos + 1) != b'=') || c == b':' {
                    return;
                }
            }
            if let Some(len) = self.string_prefix(start) {
                self.string(start, len, at_statement_start);
                self.after = After::Nothing;
                continue;
            }
            if is_name_start(c) {
                self.name(start);
                continue;
            }
            if c.is_ascii_digit() || (c == b'.' && self.peek(start + 1).is_ascii_digit()) {
                self.number(start);
                continue;
            }
            self.operator(start, at_statement_start);
        }
    }

    /// What kind of statement starts at `at`.
    fn statement_kind(&self, at: usize) -> Statement {
        let word_end = self.src[at..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(self.src.len(), |n| at + n);
        match &self.src[at..word_end] {
            "class" => Statement::Class,
            "raise" => Statement::Raise,
            "def" | "if" | "elif" | "else" | "for" | "while" | "try" | "except" | "finally"
            | "with" | "async" | "match" | "case" => Statement::Block,
            _ => Statement::Simple,
        }
    }

    fn name(&mut self, start: usize) {
        let mut i = start;
        while i < self.b.len() && is_name_char(self.b[i]) {
            i += 1;
        }
        self.pos = i;
        let word = &self.src[start..i];
        let after = std::mem::replace(&mut self.after, After::Nothing);
        let in_params = matches!(
            self.brackets.last(),
            Some(Bracket::Params | Bracket::Lambda)
        );
        let param_position = std::mem::replace(&mut self.param_position, false);
        // After a dot a keyword-like word is an attribute; `match`, `case`
        // and `type` are soft keywords, left as names.
        if let Some(kind) = keyword(word).filter(|_| after != After::Dot) {
            match kind {
                Kind::Def => self.after = After::Def,
                Kind::Class => self.after = After::Class,
                Kind::Lambda => {
                    self.brackets.push(Bracket::Lambda);
                    self.param_position = true;
                }
                _ => {}
            }
            if kind == Kind::SelfName && in_params && param_position {
                self.push(start, i, Kind::Parameter);
            } else if word == "from" && self.statement == Statement::Raise {
                self.push(start, i, Kind::RaiseFrom);
            } else {
                self.push(start, i, kind);
            }
            return;
        }
        match after {
            After::Def => {
                let kind = if is_dunder(word) {
                    Kind::MagicFunctionName
                } else {
                    Kind::FunctionName
                };
                self.push(start, i, kind);
                // Its `(` opens the parameter list.
                self.after = After::Def;
                return;
            }
            After::Class => {
                self.push(start, i, Kind::ClassName);
                self.after = After::ClassName;
                return;
            }
            After::At => {
                if self.peek(i) == b'.' {
                    self.push(start, i, Kind::DecoratorPart);
                    self.push(i, i + 1, Kind::DecoratorAccessor);
                    self.after = After::At;
                    self.pos = i + 1;
                } else if BUILTIN_FUNCTIONS.contains(&word) {
                    self.push(start, i, Kind::DecoratorBuiltin);
                } else {
                    self.push(start, i, Kind::Decorator);
                }
                return;
            }
            After::Dot | After::Nothing | After::ClassName => {}
        }
        if self.brackets.last() == Some(&Bracket::Bases) && after != After::Dot {
            let j = self.skip_blanks(i);
            // `metaclass=Meta` names no base.
            let keyword_argument =
                self.peek(j) == b'=' || self.src[..start].trim_end().ends_with('=');
            if !keyword_argument {
                self.push(start, i, Kind::InheritedClass);
            }
            return;
        }
        if in_params && param_position {
            self.push(start, i, Kind::Parameter);
            return;
        }
        let j = self.skip_blanks(i);
        let next = self.peek(j);
        if next == b'(' && !(after == After::Dot && is_dunder(word)) {
            let kind = if after == After::Dot {
                Kind::Call
            } else if BUILTIN_FUNCTIONS.contains(&word) || matches!(word, "range" | "type") {
                Kind::CallBuiltin
            } else if BUILTIN_TYPES.contains(&word) {
                Kind::CallType
            } else if is_exception(word) {
                Kind::CallException
            } else {
                Kind::Call
            };
            self.push(start, i, kind);
            return;
        }
        if next == b'=' && self.peek(j + 1) != b'=' && self.brackets.last() == Some(&Bracket::Call)
        {
            self.push(start, i, Kind::Parameter);
            return;
        }
        if after == After::Dot {
            if is_upper_constant(word) {
                self.push(start, i, Kind::UpperConstant);
            }
            return;
        }
        if BUILTIN_TYPES.contains(&word) {
            self.push(start, i, Kind::BuiltinType);
        } else if is_exception(word) {
            self.push(start, i, Kind::Exception);
        } else if is_dunder(word) {
            self.push(start, i, Kind::Magic);
        } else if is_upper_constant(word) {
            self.push(start, i, Kind::UpperConstant);
        }
    }

    fn number(&mut self, start: usize) {
        let mut i = start;
        while i < self.b.len() {
            let c = self.b[i];
            let exponent_sign = matches!(c, b'+' | b'-')
                && matches!(self.b[i - 1], b'e' | b'E')
                && !self.src[start..i].starts_with("0x");
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || exponent_sign {
                i += 1;
            } else {
                break;
            }
        }
        let text = &self.src[start..i];
        let hex_like = text.len() > 1
            && text.as_bytes()[0] == b'0'
            && text.as_bytes()[1].is_ascii_alphabetic();
        match text.find('.') {
            Some(dot) if !hex_like => {
                self.push(start, start + dot, Kind::Float);
                self.push(start + dot, start + dot + 1, Kind::FloatDot);
                self.push(start + dot + 1, i, Kind::Float);
            }
            None if !hex_like && text.contains(['e', 'E']) => self.push(start, i, Kind::Float),
            _ => self.push(start, i, Kind::Number),
        }
        self.pos = i;
        self.after = After::Nothing;
    }

    fn operator(&mut self, start: usize, at_statement_start: bool) {
        let c = self.peek(start);
        let c2 = self.peek(start + 1);
        let c3 = self.peek(start + 2);
        let in_params = matches!(
            self.brackets.last(),
            Some(Bracket::Params | Bracket::Lambda)
        );
        let (len, kind) = match (c, c2, c3) {
            (b'-', b'>', _) => (2, Some(Kind::Arrow)),
            (b'*', b'*', b'=') | (b'/', b'/', b'=') | (b'>', b'>', b'=') | (b'<', b'<', b'=') => {
                (3, Some(Kind::AugAssignment))
            }
            (b'=' | b'!' | b'<' | b'>', b'=', _) => (2, Some(Kind::Comparison)),
            (b':', b'=', _) => (2, Some(Kind::Assignment)),
            (b'+' | b'-' | b'*' | b'/' | b'%' | b'&' | b'|' | b'^' | b'@', b'=', _) => {
                (2, Some(Kind::AugAssignment))
            }
            (b'*', b'*', _) | (b'/', b'/', _) | (b'<', b'<', _) | (b'>', b'>', _) => {
                (2, Some(Kind::Arithmetic))
            }
            (b'<' | b'>', _, _) => (1, Some(Kind::Comparison)),
            (b'=', _, _) => (1, Some(Kind::Assignment)),
            (b'@', _, _) if at_statement_start => (1, Some(Kind::DecoratorMark)),
            (b'+' | b'-' | b'*' | b'/' | b'%' | b'&' | b'|' | b'^' | b'~' | b'@', _, _) => {
                (1, Some(Kind::Arithmetic))
            }
            (b'.', b'.', b'.') => (3, Some(Kind::Constant)),
            (b'.', _, _) => (1, Some(Kind::Accessor)),
            _ => (1, None),
        };
        let len = if c >= 0x80 {
            self.src[start..].chars().next().map_or(1, char::len_utf8)
        } else {
            len
        };
        self.pos = start + len;
        match kind {
            Some(Kind::DecoratorMark) => {
                self.push(start, start + 1, Kind::DecoratorMark);
                self.after = After::At;
                return;
            }
            Some(Kind::Accessor) => {
                self.after = After::Dot;
                self.push(start, start + 1, Kind::Accessor);
                return;
            }
            Some(Kind::Arithmetic) if in_params && matches!(c, b'*') => {
                self.push(start, start + len, Kind::Arithmetic);
                self.param_position = true;
                return;
            }
            Some(Kind::Assignment) if in_params && len == 1 => {
                self.push(start, start + len, Kind::Assignment);
                return;
            }
            Some(k) => self.push(start, start + len, k),
            None => {}
        }
        let after = self.after;
        self.after = After::Nothing;
        match c {
            b'(' => {
                let bracket = if after == After::Def {
                    self.param_position = true;
                    Bracket::Params
                } else if after == After::ClassName {
                    Bracket::Bases
                } else if self.previous_is_callee(start) {
                    Bracket::Call
                } else {
                    Bracket::Paren
                };
                self.brackets.push(bracket);
            }
            b'[' => self.brackets.push(Bracket::Square),
            b'{' => self.brackets.push(Bracket::Brace),
            b')' | b']' | b'}' => {
                self.brackets.pop();
            }
            b',' => {
                // Top-level commas (`a, b = …`) and subscripts' are plain.
                if !matches!(self.brackets.last(), None | Some(Bracket::Square)) {
                    self.push(start, start + 1, Kind::Comma);
                }
                if in_params {
                    self.param_position = true;
                }
            }
            b':' => {
                let kind = match self.brackets.last() {
                    Some(Bracket::Lambda) => {
                        self.brackets.pop();
                        None
                    }
                    Some(Bracket::Params) => Some(Kind::ColonParameter),
                    Some(Bracket::Brace) => Some(Kind::ColonMapping),
                    Some(Bracket::Square) => Some(Kind::ColonSlice),
                    Some(_) => None,
                    None => match self.statement {
                        Statement::Class => Some(Kind::ColonClass),
                        Statement::Simple => Some(Kind::ColonVariable),
                        Statement::Raise | Statement::Block => None,
                    },
                };
                if let Some(kind) = kind {
                    self.push(start, start + 1, kind);
                }
            }
            b';' if self.brackets.is_empty() => self.statement_start = true,
            _ => {}
        }
    }

    /// Whether the `(` at `at` follows a name that is not a keyword, or a
    /// closing bracket: then it opens a call.
    fn previous_is_callee(&self, at: usize) -> bool {
        let before = self.src[..at].trim_end_matches([' ', '\t']);
        let word_start = before
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(0, |i| {
                i + before[i..].chars().next().map_or(1, char::len_utf8)
            });
        let word = &before[word_start..];
        match before.bytes().last() {
            Some(b')' | b']') => true,
            Some(c) if is_name_char(c) => {
                !word.starts_with(|c: char| c.is_ascii_digit())
                    && keyword(word).is_none_or(|k| k == Kind::SelfName)
            }
            _ => false,
        }
    }
}
