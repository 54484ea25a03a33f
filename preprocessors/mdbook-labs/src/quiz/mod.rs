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

use crate::directives::{Directive, DirectiveKind, at};

mod render;
#[cfg(test)]
mod tests;

pub(crate) use render::render;

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
