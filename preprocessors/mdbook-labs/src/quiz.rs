//! Self-check questions that the reader answers on the page:
//!
//! ````md
//! {{#quiz}}
//! **1. Deploy models as APIs with FastAPI.** What does `/ready` answer
//! while the model file is missing?
//!
//! - [ ] 200, with a warning in the body.
//!   Why not: a 200 sends traffic to a replica that cannot predict.
//! - [x] 503.
//!
//! <details><summary>Answer</summary>
//!
//! The explanation, in markdown.
//!
//! </details>
//! {{#endquiz}}
//! ````
//!
//! One `[x]` makes radio buttons, several make checkboxes; every wrong
//! choice says why it is wrong on an indented `Why not:` line. Instead of a
//! choice list, `Short answer: 422 | unprocessable entity` takes a typed
//! answer, compared without case and spaces. In plain Markdown the block
//! reads as the question, a task list and the answer; the preprocessor
//! turns it into a fieldset that `quiz.js` makes answerable, and without
//! JavaScript the answer stays in its `<details>`.

use mdbook_markdown::pulldown_cmark::html::push_html;
use mdbook_markdown::pulldown_cmark::{Event, Tag, TagEnd};
use mdbook_markdown::{MarkdownOptions, new_cmark_parser};

use crate::directives::{Directive, DirectiveKind, at};
use crate::html::{as_markdown_block, escape};

/// Opens a quiz, on a line of its own.
pub const OPEN: &str = "{{#quiz}}";
/// Closes it, on a line of its own.
pub const CLOSE: &str = "{{#endquiz}}";
const SUMMARY: &str = "<summary>Answer</summary>";
const WHY_NOT: &str = "Why not:";
const SHORT: &str = "Short answer:";

/// A question that parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quiz {
    /// 1-based rank among the chapter's quizzes: with the page, its id.
    pub index: usize,
    /// The question, as markdown.
    pub question: String,
    /// How it is answered.
    pub answer: Answer,
    /// The markdown inside `<details><summary>Answer</summary>`.
    pub explanation: String,
}

/// How a quiz is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Pick among choices: one right (radio buttons) or several (checkboxes).
    Choices(Vec<Choice>),
    /// Type one of these.
    Short(Vec<String>),
}

/// One choice of a quiz.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// Its text, as markdown.
    pub text: String,
    /// Whether it is (one of) the right answer(s).
    pub right: bool,
    /// Why it is wrong (markdown), for a wrong choice.
    pub why_not: String,
}

/// A line of the chapter: its byte range (without the newline) and text.
struct Line<'a> {
    start: usize,
    text: &'a str,
}

fn lines_of(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for piece in text.split_inclusive('\n') {
        let line = piece.strip_suffix('\n').unwrap_or(piece);
        let line = line.strip_suffix('\r').unwrap_or(line);
        out.push(Line { start, text: line });
        start += piece.len();
    }
    out
}

/// Every `{{#quiz}}` … `{{#endquiz}}` of `text` outside code (`in_code`
/// says which offsets are code), parsed, or the first problem of each.
pub(crate) fn find(text: &str, in_code: &dyn Fn(usize) -> bool) -> Vec<Directive> {
    let mut found = Vec::new();
    let mut open: Option<(usize, usize)> = None; // (line index, offset of `{{`)
    let lines = lines_of(text);
    let mut index = 0;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.text.trim();
        let indent = line.text.len() - line.text.trim_start().len();
        let here = line.start + indent;
        if trimmed != OPEN
            && trimmed != CLOSE
            && trimmed.strip_prefix('\\') != Some(OPEN)
            && trimmed.strip_prefix('\\') != Some(CLOSE)
        {
            continue;
        }
        if in_code(here) {
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('\\') {
            found.push(at(
                text,
                here..here + 1 + rest.len(),
                DirectiveKind::Escaped,
            ));
            continue;
        }
        match (trimmed == OPEN, open) {
            (true, None) => open = Some((i, here)),
            (true, Some(_)) => found.push(at(
                text,
                here..here + OPEN.len(),
                DirectiveKind::Invalid(format!(
                    "`{OPEN}` inside a quiz: close the one before with `{CLOSE}`"
                )),
            )),
            (false, None) => found.push(at(
                text,
                here..here + CLOSE.len(),
                DirectiveKind::Invalid(format!("`{CLOSE}` without a `{OPEN}` before it")),
            )),
            (false, Some((first, start))) => {
                open = None;
                index += 1;
                let range = start..here + CLOSE.len();
                found.push(match parse(&lines[first + 1..i], index) {
                    Ok(quiz) => at(text, range, DirectiveKind::Quiz(Box::new(quiz))),
                    Err((offset, why)) => {
                        // The place of the problem, the range of the whole quiz.
                        let place = at(text, offset..offset, DirectiveKind::Escaped);
                        Directive {
                            range,
                            line: place.line,
                            column: place.column,
                            kind: DirectiveKind::Invalid(why),
                        }
                    }
                });
            }
        }
    }
    if let Some((_, start)) = open {
        found.push(at(
            text,
            start..start + OPEN.len(),
            DirectiveKind::Invalid(format!(
                "`{OPEN}` is never closed: end the quiz with `{CLOSE}` on a line of its own"
            )),
        ));
    }
    found
}

/// `- [x] text` or `- [ ] text` (also `*`): whether it is right, and the text.
fn choice_start(line: &str) -> Option<(bool, &str)> {
    let rest = line
        .strip_prefix("- ")
        .or_else(|| line.strip_prefix("* "))?;
    let (right, text) = if let Some(t) = rest
        .strip_prefix("[x]")
        .or_else(|| rest.strip_prefix("[X]"))
    {
        (true, t)
    } else {
        (false, rest.strip_prefix("[ ]")?)
    };
    (text.is_empty() || text.starts_with(' ')).then(|| (right, text.trim()))
}

type Problem = (usize, String);

/// The quiz in `body`, the lines between its `{{#quiz}}` and `{{#endquiz}}`.
fn parse(body: &[Line<'_>], index: usize) -> Result<Quiz, Problem> {
    let top = body.first().map_or(0, |l| l.start);
    let mut question: Vec<&str> = Vec::new();
    let mut choices: Vec<(usize, Choice)> = Vec::new();
    let mut short: Option<(usize, Vec<String>)> = None;
    let mut rest = body.len();
    let mut in_why = false;
    for (i, line) in body.iter().enumerate() {
        if let Some((right, text)) = choice_start(line.text) {
            if short.is_some() {
                return Err((
                    line.start,
                    format!("a quiz takes a choice list or a `{SHORT}` line, not both"),
                ));
            }
            choices.push((
                line.start,
                Choice {
                    text: text.to_owned(),
                    right,
                    why_not: String::new(),
                },
            ));
            in_why = false;
            continue;
        }
        let trimmed = line.text.trim();
        if choices.is_empty() && short.is_none() {
            if let Some(answers) = trimmed.strip_prefix(SHORT) {
                let accepted: Vec<String> = answers
                    .split('|')
                    .map(|a| a.trim().trim_matches('`').trim().to_owned())
                    .filter(|a| !a.is_empty())
                    .collect();
                if accepted.is_empty() {
                    return Err((
                        line.start,
                        format!(
                            "`{SHORT}` needs at least one accepted answer, e.g. `{SHORT} 503 | service unavailable`"
                        ),
                    ));
                }
                short = Some((line.start, accepted));
                continue;
            }
            question.push(line.text);
            continue;
        }
        let continues = !trimmed.is_empty() && line.text.starts_with([' ', '\t']);
        if let (true, Some((_, last))) = (continues, choices.last_mut()) {
            if let Some(why) = trimmed.strip_prefix(WHY_NOT) {
                in_why = true;
                last.why_not = why.trim().to_owned();
            } else {
                let part = if in_why {
                    &mut last.why_not
                } else {
                    &mut last.text
                };
                part.push(' ');
                part.push_str(trimmed);
            }
            continue;
        }
        if trimmed.is_empty() {
            // A loose list: the choices go on after a blank line.
            let next = body[i + 1..].iter().find(|l| !l.text.trim().is_empty());
            if next.is_some_and(|l| choice_start(l.text).is_some()) && !choices.is_empty() {
                continue;
            }
            if short.is_some() || !choices.is_empty() {
                rest = i;
                break;
            }
            continue;
        }
        rest = i;
        break;
    }
    let question = question.join("\n").trim().to_owned();
    if question.is_empty() {
        return Err((top, "a quiz needs its question before the choices".into()));
    }
    let answer = match short {
        Some((_, accepted)) => Answer::Short(accepted),
        None if choices.is_empty() => {
            return Err((
                top,
                format!(
                    "a quiz needs a choice list (`- [x] right`, `- [ ] wrong`) or a `{SHORT} a | b` line after its question"
                ),
            ));
        }
        None => {
            let first = choices[0].0;
            if choices.len() < 2 {
                return Err((first, "a quiz needs at least two choices".into()));
            }
            if !choices.iter().any(|(_, c)| c.right) {
                return Err((
                    first,
                    "no choice is marked right: mark the right one(s) `- [x]`".into(),
                ));
            }
            if let Some((at, _)) = choices
                .iter()
                .find(|(_, c)| !c.right && c.why_not.is_empty())
            {
                return Err((
                    *at,
                    format!(
                        "this wrong choice does not say why it is wrong: add an indented `{WHY_NOT} …` line under it"
                    ),
                ));
            }
            if let Some((at, _)) = choices.iter().find(|(_, c)| c.text.is_empty()) {
                return Err((*at, "a choice without text".into()));
            }
            Answer::Choices(choices.into_iter().map(|(_, c)| c).collect())
        }
    };
    let tail = &body[rest.min(body.len())..];
    let tail_start = tail.first().map_or(top, |l| l.start);
    let tail: Vec<&str> = tail.iter().map(|l| l.text).collect();
    let tail = tail.join("\n");
    let explanation = explanation(tail.trim()).ok_or_else(|| {
        (
            tail_start,
            format!(
                "a quiz ends with its answer: `<details>{SUMMARY}` … `</details>` after the choices"
            ),
        )
    })?;
    Ok(Quiz {
        index,
        question,
        answer,
        explanation,
    })
}

/// The markdown inside `<details><summary>Answer</summary>` … `</details>`.
fn explanation(tail: &str) -> Option<String> {
    let inner = tail.strip_prefix("<details>")?.trim_start();
    let inner = inner.strip_prefix(SUMMARY)?;
    let inner = inner.trim_end().strip_suffix("</details>")?;
    let inner = inner.trim();
    (!inner.is_empty()).then(|| inner.to_owned())
}

/// Markdown → HTML without block tags (for a legend, a label): paragraphs
/// become line breaks.
fn inline(markdown: &str) -> String {
    let markdown = literal_start(markdown);
    let mut paragraphs = 0;
    let events = new_cmark_parser(&markdown, &MarkdownOptions::default()).filter_map(|e| match e {
        Event::Start(Tag::Paragraph) => {
            paragraphs += 1;
            (paragraphs > 1).then_some(Event::Html("<br>".into()))
        }
        Event::End(TagEnd::Paragraph) => None,
        Event::SoftBreak => Some(Event::Text(" ".into())),
        other => Some(other),
    });
    let mut html = String::new();
    push_html(&mut html, events);
    html.trim().to_owned()
}

/// A choice's text is inline: `503.` is not an ordered list starting at
/// 503, nor `- x` a list or `# x` a heading.
fn literal_start(text: &str) -> String {
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let after = &text[digits..];
    let marker_at = if digits > 0 && after.starts_with(['.', ')']) {
        Some(digits)
    } else if text.starts_with(['#', '>', '-', '+', '*'])
        && text[1..].starts_with(|c: char| c.is_whitespace() || c == '#')
    {
        Some(0)
    } else {
        None
    };
    match marker_at {
        Some(i) => format!("{}\\{}", &text[..i], &text[i..]),
        None => text.to_owned(),
    }
}

/// What replaces a quiz on the page at `page` (the chapter's path without
/// `.md`, e.g. `03-model-serving/troubleshooting`): the fieldset, then the
/// answer in `<details>` with the key of the choices before the explanation.
pub(crate) fn render(quiz: &Quiz, page: &str) -> String {
    let n = quiz.index;
    // Unique on the print page too, where every chapter is on one page.
    let slug: String = page
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let id = format!("quiz-{slug}-{n}");
    let (kind, body, key) = match &quiz.answer {
        Answer::Choices(choices) => {
            let multiple = choices.iter().filter(|c| c.right).count() > 1;
            let input = if multiple { "checkbox" } else { "radio" };
            let mut body = String::new();
            let mut key = String::from("<ul class=\"quiz-key\">\n");
            if multiple {
                body.push_str(&format!(
                    "<p class=\"quiz-hint\" id=\"{id}-hint\">Choose every right answer.</p>\n"
                ));
            }
            body.push_str("<ul class=\"quiz-choices\">\n");
            for (j, c) in choices.iter().enumerate() {
                let j = j + 1;
                let text = inline(&c.text);
                let (mark, word, why) = if c.right {
                    ("✓", "Right", String::new())
                } else {
                    ("✗", "Wrong", inline(&c.why_not))
                };
                let describedby = if multiple {
                    format!(" aria-describedby=\"{id}-hint\"")
                } else {
                    String::new()
                };
                body.push_str(&format!(
                    "<li class=\"quiz-choice\" data-right=\"{right}\"><label for=\"{id}-{j}\"><input type=\"{input}\" id=\"{id}-{j}\" name=\"{id}\" value=\"{j}\"{describedby} disabled> <span class=\"quiz-text\">{text}</span></label>\
                     <span class=\"quiz-why\" hidden><span aria-hidden=\"true\">{mark}</span> {word}{sep}{why}</span></li>\n",
                    right = c.right,
                    sep = if why.is_empty() { "." } else { ": " },
                ));
                key.push_str(&format!(
                    "<li><span aria-hidden=\"true\">{mark}</span> <strong>{word}:</strong> {text}{sep}{why}</li>\n",
                    sep = if why.is_empty() { "" } else { " — " },
                ));
            }
            body.push_str("</ul>\n");
            key.push_str("</ul>\n");
            (if multiple { "multiple" } else { "single" }, body, key)
        }
        Answer::Short(accepted) => {
            let normalised: Vec<String> = accepted.iter().map(|a| normalise(a)).collect();
            let data = escape(&serde_json::to_string(&normalised).unwrap_or_default());
            let body = format!(
                "<p class=\"quiz-short\"><label for=\"{id}-text\">Your answer</label> \
                 <input type=\"text\" id=\"{id}-text\" class=\"quiz-input\" data-accept=\"{data}\" autocomplete=\"off\" spellcheck=\"false\" disabled></p>\n"
            );
            let list: Vec<String> = accepted
                .iter()
                .map(|a| format!("<code>{}</code>", escape(a)))
                .collect();
            let key = format!(
                "<p class=\"quiz-key\"><strong>Accepted answers:</strong> {}</p>\n",
                list.join(", ")
            );
            ("short", body, key)
        }
    };
    let form = format!(
        "<div class=\"quiz\" id=\"{id}\" data-quiz=\"{page}:{n}\" data-kind=\"{kind}\">\n\
         <fieldset class=\"quiz-box\">\n\
         <legend class=\"quiz-question\">{question}</legend>\n\
         {body}\
         <p class=\"quiz-actions\" hidden><button type=\"button\" class=\"quiz-check\">Check</button> <button type=\"button\" class=\"quiz-reset\">Reset</button></p>\n\
         <p class=\"quiz-status\" role=\"status\"></p>\n\
         </fieldset>\n",
        page = escape(page),
        question = inline(&quiz.question),
    );
    format!(
        "{}\n\n<details class=\"quiz-answer\"><summary>Answer</summary>\n{}\n\n{}\n\n</details>\n\n</div>",
        as_markdown_block(&form).trim_end(),
        as_markdown_block(&key).trim_end(),
        quiz.explanation,
    )
}

/// How answers are compared: lower case, without white space.
fn normalise(answer: &str) -> String {
    answer
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
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
}
