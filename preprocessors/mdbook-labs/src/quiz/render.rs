//! A parsed quiz as HTML: the fieldset that `quiz.js` makes answerable,
//! then the answer key and explanation in `<details>`.

use mdbook_markdown::pulldown_cmark::html::push_html;
use mdbook_markdown::pulldown_cmark::{Event, Tag, TagEnd};
use mdbook_markdown::{MarkdownOptions, new_cmark_parser};

use super::{Answer, Quiz};
use crate::html::{as_markdown_block, escape};

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
pub(super) fn normalise(answer: &str) -> String {
    answer
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}
