use super::render::normalise;
use super::*;
use crate::directives::find_directives;

const GOOD: &str = "# Self-check\n\n{{#quiz}}\n**1. Serve models.** What does `/ready` answer\nwithout a model?\n\n\
    - [ ] 200, with a warning.\n  Why not: traffic would reach a replica\n  that cannot predict.\n\
    - [x] 503.\n- [ ] 500.\n  Why not: nothing failed; the service is not ready *yet*.\n\n\
    <details><summary>Answer</summary>\n\n503: not ready **yet**.\n\n</details>\n{{#endquiz}}\n\nAfter.\n";

fn one(text: &str) -> Directive {
    let mut found = find_directives(text);
    assert_eq!(found.len(), 1, "{found:#?}");
    found.remove(0)
}

fn problem(text: &str) -> (usize, usize, String) {
    match one(text) {
        Directive {
            line,
            column,
            kind: DirectiveKind::Invalid(why),
            ..
        } => (line, column, why),
        other => panic!("{other:#?}"),
    }
}

#[test]
fn parses_question_choices_reasons_and_explanation() {
    let d = one(GOOD);
    assert_eq!((d.line, d.column), (3, 1));
    assert_eq!(&GOOD[d.range.clone()][..9], "{{#quiz}}");
    assert!(GOOD[d.range.clone()].ends_with("{{#endquiz}}"));
    let DirectiveKind::Quiz(q) = d.kind else {
        panic!("{:?}", d.kind)
    };
    assert_eq!(q.index, 1);
    assert_eq!(
        q.question,
        "**1. Serve models.** What does `/ready` answer\nwithout a model?"
    );
    let Answer::Choices(c) = &q.answer else {
        panic!()
    };
    assert_eq!(c.len(), 3);
    assert_eq!(c[0].text, "200, with a warning.");
    assert_eq!(
        c[0].why_not,
        "traffic would reach a replica that cannot predict."
    );
    assert!(!c[0].right && c[1].right && !c[2].right);
    assert_eq!(c[1].why_not, "");
    assert_eq!(q.explanation, "503: not ready **yet**.");
}

#[test]
fn renders_an_accessible_fieldset_and_the_answer_for_no_script() {
    let DirectiveKind::Quiz(q) = one(GOOD).kind else {
        panic!()
    };
    let html = render(&q, "03-model-serving/troubleshooting");
    assert!(html.starts_with(
        "<div class=\"quiz\" id=\"quiz-03-model-serving-troubleshooting-1\" data-quiz=\"03-model-serving/troubleshooting:1\" data-kind=\"single\">\n<fieldset class=\"quiz-box\">\n<legend class=\"quiz-question\"><strong>1. Serve models.</strong> What does <code>/ready</code> answer without a model?</legend>"
    ), "{html}");
    assert!(html.contains("<label for=\"quiz-03-model-serving-troubleshooting-1-2\"><input type=\"radio\" id=\"quiz-03-model-serving-troubleshooting-1-2\" name=\"quiz-03-model-serving-troubleshooting-1\" value=\"2\" disabled> <span class=\"quiz-text\">503.</span></label>"), "{html}");
    assert!(html.contains("data-right=\"true\""));
    assert!(html.contains("<span class=\"quiz-why\" hidden><span aria-hidden=\"true\">✗</span> Wrong: nothing failed; the service is not ready <em>yet</em>.</span>"), "{html}");
    assert!(html.contains("<p class=\"quiz-status\" role=\"status\"></p>"));
    assert!(html.contains("<p class=\"quiz-actions\" hidden><button type=\"button\" class=\"quiz-check\">Check</button>"));
    // Without a script the key and the explanation are in <details>.
    let details = &html[html.find("<details").expect("details")..];
    assert!(
        details.contains("<strong>Right:</strong> 503."),
        "{details}"
    );
    assert!(details.contains("<strong>Wrong:</strong> 500. — nothing failed"));
    assert!(details.contains("\n\n503: not ready **yet**.\n\n</details>\n\n</div>"));
    // The fieldset is one HTML block: no blank line before the answer.
    let form = &html[..html.find("<details").expect("details")];
    assert_eq!(form.matches("\n\n").count(), 1, "{form}");
}

#[test]
fn several_right_choices_make_checkboxes() {
    let text = GOOD.replace(
        "- [ ] 500.\n  Why not: nothing failed; the service is not ready *yet*.",
        "- [X] 503 again.",
    );
    let DirectiveKind::Quiz(q) = one(&text).kind else {
        panic!()
    };
    let html = render(&q, "p");
    assert!(html.contains("data-kind=\"multiple\""));
    assert!(html.contains("type=\"checkbox\""));
    assert!(html.contains("aria-describedby=\"quiz-p-1-hint\""));
    assert!(!html.contains("type=\"radio\""));
}

#[test]
fn short_answers_compare_without_case_and_spaces() {
    let text = "{{#quiz}}\n**2. Q.** Which status?\n\nShort answer: `503` | Service  Unavailable\n\n<details><summary>Answer</summary>\nIt is 503.\n</details>\n{{#endquiz}}\n";
    let DirectiveKind::Quiz(q) = one(text).kind else {
        panic!()
    };
    assert_eq!(
        q.answer,
        Answer::Short(vec!["503".into(), "Service  Unavailable".into()])
    );
    let html = render(&q, "p");
    assert!(html.contains("data-kind=\"short\""));
    assert!(
        html.contains("data-accept=\"[&quot;503&quot;,&quot;serviceunavailable&quot;]\""),
        "{html}"
    );
    assert!(html.contains("<label for=\"quiz-p-1-text\">Your answer</label>"));
    assert_eq!(normalise(" Ser vice\tUNavailable "), "serviceunavailable");
}

#[test]
fn malformed_quizzes_say_where_and_why() {
    let no_right = GOOD.replace("- [x] 503.", "- [ ] 503.\n  Why not: x");
    assert_eq!(
        problem(&no_right),
        (
            7,
            1,
            "no choice is marked right: mark the right one(s) `- [x]`".into()
        )
    );
    let no_list = "{{#quiz}}\nQuestion?\n\n<details><summary>Answer</summary>\nA.\n</details>\n{{#endquiz}}\n";
    let (line, _, why) = problem(no_list);
    assert_eq!(line, 2);
    assert!(why.contains("needs a choice list"), "{why}");
    let no_reason = GOOD.replace(
        "  Why not: nothing failed; the service is not ready *yet*.\n",
        "",
    );
    let (line, _, why) = problem(&no_reason);
    assert_eq!(line, 11);
    assert!(why.contains("does not say why it is wrong"), "{why}");
    let no_answer = "{{#quiz}}\nQ?\n\n- [x] a\n- [ ] b\n  Why not: c\n{{#endquiz}}\n";
    assert!(problem(no_answer).2.contains("ends with its answer"));
    let one_choice = "{{#quiz}}\nQ?\n\n- [x] a\n\n<details><summary>Answer</summary>\nA\n</details>\n{{#endquiz}}\n";
    assert!(problem(one_choice).2.contains("at least two choices"));
    let no_question = "{{#quiz}}\n- [x] a\n- [ ] b\n  Why not: c\n{{#endquiz}}\n";
    assert!(problem(no_question).2.contains("needs its question"));
    assert!(problem("{{#quiz}}\nQ?\n").2.contains("never closed"));
    assert!(
        problem("text\n{{#endquiz}}\n")
            .2
            .contains("without a `{{#quiz}}`")
    );
}

#[test]
fn code_and_escapes_stay_literal() {
    assert!(find_directives("```md\n{{#quiz}}\nQ\n{{#endquiz}}\n```\n").is_empty());
    let found = find_directives("\\{{#quiz}}\n");
    assert_eq!(found[0].kind, DirectiveKind::Escaped);
    assert_eq!(found[0].range, 0..10);
    // A lab directive inside a quiz is the quiz's text.
    let text = GOOD.replace("503: not ready", "{{#lab x}} not ready");
    assert!(matches!(one(&text).kind, DirectiveKind::Quiz(_)));
}

#[test]
fn quizzes_are_numbered_in_their_chapter() {
    let text = format!("{GOOD}\n{GOOD}");
    let idx: Vec<usize> = find_directives(&text)
        .into_iter()
        .filter_map(|d| match d.kind {
            DirectiveKind::Quiz(q) => Some(q.index),
            _ => None,
        })
        .collect();
    assert_eq!(idx, [1, 2]);
}
