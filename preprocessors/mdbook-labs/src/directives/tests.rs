//! Tests of finding the directives in a chapter.

use super::*;

fn kinds(text: &str) -> Vec<DirectiveKind> {
    find_directives(text).into_iter().map(|d| d.kind).collect()
}

#[test]
fn finds_a_directive_with_its_place() {
    let d = find_directives("# T\n\nText.\n\n{{#lab model-serving}}\n");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].kind, DirectiveKind::Lab("model-serving".into()));
    assert_eq!((d[0].line, d[0].column), (5, 1));
}

#[test]
fn code_stays_literal() {
    assert!(kinds("Write `{{#lab x}}` in a chapter.").is_empty());
    assert!(kinds("```md\n{{#lab x}}\n```\n").is_empty());
    assert!(kinds("    {{#lab x}}\n").is_empty());
}

#[test]
fn raw_html_code_and_pre_stay_literal_too() {
    assert!(kinds("Write <code>{{#lab x}}</code> in a chapter.").is_empty());
    assert!(kinds("<pre><code>{{#lab x}}\n</code></pre>\n").is_empty());
    assert!(kinds("<PRE class=\"x\">\n{{#lab x}}\n</PRE>\n").is_empty());
    // Only inside: before and after, and in other elements, they work.
    assert_eq!(
        kinds("{{#lab a}} <code>{{#lab x}}</code> {{#lab b}}"),
        vec![
            DirectiveKind::Lab("a".into()),
            DirectiveKind::Lab("b".into())
        ]
    );
    assert_eq!(
        kinds("<codex>{{#lab a}}</codex>"),
        vec![DirectiveKind::Lab("a".into())]
    );
    assert_eq!(
        kinds("<div>\n\n{{#lab a}}\n\n</div>\n"),
        vec![DirectiveKind::Lab("a".into())]
    );
}

#[test]
fn html_comments_stay_literal() {
    assert!(kinds("<!-- {{#lab x}} -->\n").is_empty());
    assert!(kinds("Text <!-- {{#lab x}} --> more.").is_empty());
    assert!(kinds("<!--\nnot yet:\n\n{{#lab x}}\n\n-->\n").is_empty());
    assert!(kinds("<!-- never closed\n\n{{#lab x}}\n").is_empty());
    // Markup inside a comment is not markup: no `<code>` opens there.
    assert_eq!(
        kinds("<!-- <code> -->\n\n{{#lab a}}\n"),
        vec![DirectiveKind::Lab("a".into())]
    );
    // `<!-->` is a whole (empty) comment.
    assert_eq!(
        kinds("<!--> {{#lab a}}"),
        vec![DirectiveKind::Lab("a".into())]
    );
    assert_eq!(
        kinds("<!-- x --> {{#lab a}} <!-- {{#lab b}} -->"),
        vec![DirectiveKind::Lab("a".into())]
    );
}

#[test]
fn symptoms_are_directives_and_malformed_ones_say_why() {
    let text = "### Port taken\n{{#symptom output=\"in use\" port=5000 from=\"f.txt\"}}\n\nFix.\n";
    let d = find_directives(text);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].kind, DirectiveKind::Symptom);
    assert_eq!((d[0].line, d[0].column), (2, 1));
    assert_eq!(
        &text[d[0].range.clone()],
        "{{#symptom output=\"in use\" port=5000 from=\"f.txt\"}}"
    );
    assert!(
        matches!(&kinds("{{#symptom output=\"(\" from=\"f\"}}")[..], [DirectiveKind::Invalid(why)] if why.contains("regular expression"))
    );
    assert!(kinds("`{{#symptom exit=1 from=\"f\"}}`").is_empty());
    assert!(kinds("<pre>{{#symptom exit=1 from=\"f\"}}</pre>").is_empty());
    assert_eq!(
        kinds("{{#lab b}} {{#symptom exit=1 from=\"f\"}} {{#lab a}}"),
        vec![
            DirectiveKind::Lab("b".into()),
            DirectiveKind::Symptom,
            DirectiveKind::Lab("a".into())
        ]
    );
}

#[test]
fn the_progress_directive() {
    assert_eq!(kinds("{{#lab-progress}}"), vec![DirectiveKind::Progress]);
    assert_eq!(kinds("\\{{#lab-progress}}"), vec![DirectiveKind::Escaped]);
    assert!(matches!(
        kinds("{{#lab-progress x}}")[0],
        DirectiveKind::Invalid(_)
    ));
    assert!(kinds("{{#lab-progressive}}").is_empty());
}

#[test]
fn escapes_and_other_directives() {
    assert_eq!(kinds("\\{{#lab x}}"), vec![DirectiveKind::Escaped]);
    assert!(kinds("{{#labels x}} {{#include a.md}}").is_empty());
    assert!(matches!(kinds("{{#lab}}")[0], DirectiveKind::Invalid(_)));
    assert!(matches!(
        kinds("{{#lab a b}}")[0],
        DirectiveKind::Invalid(_)
    ));
    assert!(matches!(kinds("{{#lab a")[0], DirectiveKind::Invalid(_)));
}

fn output(lab: &str, step: &str, cut: Option<Cut>) -> DirectiveKind {
    DirectiveKind::Output {
        lab: lab.into(),
        step: step.into(),
        cut,
    }
}

fn invalid(text: &str) -> String {
    match kinds(text).as_slice() {
        [DirectiveKind::Invalid(why)] => why.clone(),
        other => panic!("{text:?} gave {other:?}"),
    }
}

#[test]
fn the_output_directive_with_its_place() {
    let d = find_directives("Run it:\n\n  {{#lab-output model-serving train}}\n");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].kind, output("model-serving", "train", None));
    assert_eq!((d[0].line, d[0].column), (3, 3));
    assert_eq!(d[0].range, 11..46);
    assert_eq!(
        kinds("{{#lab-output  a   b }}"),
        vec![output("a", "b", None)]
    );
}

#[test]
fn output_takes_a_head_or_a_tail() {
    assert_eq!(
        kinds("{{#lab-output a b head=3}} {{#lab-output a b tail=12}}"),
        vec![
            output("a", "b", Some(Cut::Head(3))),
            output("a", "b", Some(Cut::Tail(12)))
        ]
    );
}

#[test]
fn output_in_code_or_escaped_stays_literal() {
    assert!(kinds("Write `{{#lab-output a b}}` in a chapter.").is_empty());
    assert!(kinds("``` md\n{{#lab-output a b}}\n```\n").is_empty());
    assert!(kinds("~~~\n{{#lab-output a b}}\n~~~\n").is_empty());
    assert!(kinds("    {{#lab-output a b}}\n").is_empty());
    let d = find_directives("x \\{{#lab-output a b}} y");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].kind, DirectiveKind::Escaped);
    assert_eq!(d[0].range, 2..22, "the range holds the backslash");
    assert!(kinds("{{#lab-outputs a b}} {{#lab-out a b}}").is_empty());
}

#[test]
fn malformed_output_directives_say_why() {
    assert!(invalid("{{#lab-output}}").contains("needs a lab id and a step id"));
    assert!(invalid("{{#lab-output a}}").contains("needs a lab id and a step id"));
    assert!(invalid("{{#lab-output a\nb}}").contains("fit on one line"));
    assert!(invalid("{{#lab-output a b").contains("`{{#lab-output` is never closed"));
    assert!(invalid("{{#lab-output a b c}}").contains("unknown option `c`"));
    assert!(invalid("{{#lab-output a b lines=3}}").contains("unknown option `lines=3`"));
    assert!(
        invalid("{{#lab-output a b head=3 tail=2}}")
            .contains("takes one of head=N or tail=N after the step id, found `head=3 tail=2`")
    );
    for bad in [
        "head=0", "head=", "head=x", "tail=-1", "tail=+2", "head=1.5",
    ] {
        let why = invalid(&format!("{{{{#lab-output a b {bad}}}}}"));
        assert!(
            why.contains("takes a number of lines, 1 or more"),
            "{bad}: {why}"
        );
    }
}
