//! `{{#lab-output LAB STEP}}` → a fenced code block of what the step printed
//! when `course lab follow LAB --record` ran it.

use std::ops::Range;

use crate::directives::Cut;

/// The line that stands for the lines a head or a tail leaves out.
const ELLIPSIS: &str = "…";

/// The fenced code block (info string `text`) of a transcript's `output`,
/// cut as asked. No trailing newline: [`in_place`] puts it on its lines.
pub(crate) fn code_block(output: &str, cut: Option<Cut>) -> String {
    // `split_inclusive` keeps every byte of a line (a `\r` too): the block
    // shows the output exactly as recorded.
    let lines: Vec<&str> = output.split_inclusive('\n').collect();
    let kept: Vec<&str> = match cut {
        Some(Cut::Head(n)) if n < lines.len() => {
            let mut kept = lines[..n].to_vec();
            kept.push(ELLIPSIS);
            kept
        }
        Some(Cut::Tail(n)) if n < lines.len() => {
            let mut kept = vec![ELLIPSIS];
            kept.extend_from_slice(&lines[lines.len() - n..]);
            kept
        }
        _ => lines,
    };
    let longest_run = output.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    let mut block = format!("{fence}text\n");
    for line in kept {
        block.push_str(&defuse_links(line));
        if !line.ends_with('\n') {
            block.push('\n');
        }
    }
    block.push_str(&fence);
    block
}

/// mdBook's `links` preprocessor runs after us and reads `{{#include …}}`
/// even inside code blocks, so output that prints one would be replaced by
/// a file. Its escape is `\{{#…}}`, and its pattern for an escape runs to
/// the last `}}` of the line: escaping the first `{{#` of a line keeps the
/// whole line as it is (the backslash is removed again by `links`).
fn defuse_links(line: &str) -> String {
    match line.find("{{#") {
        Some(i) if line[i..].contains("}}") => format!("{}\\{}", &line[..i], &line[i..]),
        _ => line.to_owned(),
    }
}

/// What replaces the directive at `range` of `text`: `block` on lines of
/// its own, each continued with the markers of the line the directive is
/// on (a list item's indentation, a block quote's `>`), so that the block
/// stays inside the list item or quote that holds the directive.
pub(crate) fn in_place(text: &str, range: Range<usize>, block: &str) -> String {
    let line_start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
    let prefix = &text[line_start..range.start];
    let (container_len, indent) = container(prefix);
    let rest_of_line = text[range.end..].split('\n').next().unwrap_or("");
    let mut out = String::with_capacity(block.len() + 8 * indent.len());
    if container_len < prefix.len() {
        // After text on its line: a fence must open a line.
        out.push('\n');
        out.push_str(&indent);
    }
    for (i, line) in block.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            // No trailing spaces on a blank line; a quote's `>` stays.
            out.push_str(if line.is_empty() {
                indent.trim_end()
            } else {
                &indent
            });
        }
        out.push_str(line);
    }
    if !rest_of_line.trim().is_empty() {
        // Text after the directive on its line: it must not follow the
        // closing fence on the same line.
        out.push('\n');
        out.push_str(&indent);
    }
    out
}

/// The container markers at the start of a line's `prefix` (indentation,
/// `>` of block quotes, list markers): how many bytes they take, and the
/// prefix that continues them on the next lines (a list marker becomes
/// spaces of its width).
fn container(prefix: &str) -> (usize, String) {
    let b = prefix.as_bytes();
    let mut indent = String::new();
    let mut i = 0;
    let spaced = |j: usize| matches!(b.get(j), Some(b' ' | b'\t'));
    while let Some(&c) = b.get(i) {
        match c {
            b' ' | b'\t' | b'>' => {
                indent.push(char::from(c));
                i += 1;
            }
            b'-' | b'*' | b'+' if spaced(i + 1) => {
                indent.push(' ');
                i += 1;
            }
            b'0'..=b'9' => {
                let digits = b[i..].iter().take_while(|d| d.is_ascii_digit()).count();
                if digits > 9
                    || !matches!(b.get(i + digits), Some(b'.' | b')'))
                    || !spaced(i + digits + 1)
                {
                    break;
                }
                indent.push_str(&" ".repeat(digits + 1));
                i += digits + 1;
            }
            _ => break,
        }
    }
    (i, indent)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUT: &str = "one\ntwo\nthree\nfour\n";

    #[test]
    fn the_whole_output_in_a_text_block() {
        assert_eq!(code_block(OUT, None), "```text\none\ntwo\nthree\nfour\n```");
        assert_eq!(code_block("", None), "```text\n```");
        // A last line without a newline still ends before the fence.
        assert_eq!(code_block("a\nb", None), "```text\na\nb\n```");
        // Nothing is stripped: trailing spaces and a `\r` stay.
        assert_eq!(code_block(" a  \r\n", None), "```text\n a  \r\n```");
    }

    #[test]
    fn a_head_or_a_tail_says_what_it_left_out() {
        assert_eq!(
            code_block(OUT, Some(Cut::Head(2))),
            "```text\none\ntwo\n…\n```"
        );
        assert_eq!(code_block(OUT, Some(Cut::Tail(1))), "```text\n…\nfour\n```");
        // Nothing left out, no ellipsis.
        assert_eq!(code_block(OUT, Some(Cut::Head(4))), code_block(OUT, None));
        assert_eq!(code_block(OUT, Some(Cut::Tail(9))), code_block(OUT, None));
    }

    #[test]
    fn the_fence_is_longer_than_any_backtick_run() {
        let block = code_block("a ``` b\n`````\n", None);
        assert!(block.starts_with("``````text\n"), "{block}");
        assert!(block.ends_with("\n``````"), "{block}");
        assert!(code_block("`x`\n", None).starts_with("```text\n"));
    }

    #[test]
    fn includes_in_the_output_are_escaped_for_mdbook() {
        assert_eq!(
            code_block("see {{#include a.rs}} and {{#title x}}\n{{#open\n", None),
            "```text\nsee \\{{#include a.rs}} and {{#title x}}\n{{#open\n```"
        );
    }

    fn spliced(text: &str, directive: &str, block: &str) -> String {
        let start = text.find(directive).expect("directive");
        let range = start..start + directive.len();
        let mut out = text.to_owned();
        out.replace_range(range.clone(), &in_place(text, range, block));
        out
    }

    #[test]
    fn the_block_keeps_the_container_of_its_line() {
        let block = "```text\na\n\nb\n```";
        assert_eq!(
            spliced("Intro.\n\nD\n\nAfter.\n", "D", block),
            "Intro.\n\n```text\na\n\nb\n```\n\nAfter.\n"
        );
        assert_eq!(
            spliced("1. Run it:\n\n   D\n2. Next\n", "D", block),
            "1. Run it:\n\n   ```text\n   a\n\n   b\n   ```\n2. Next\n"
        );
        assert_eq!(
            spliced("> - D\n", "D", block),
            "> - ```text\n>   a\n>\n>   b\n>   ```\n"
        );
        assert_eq!(
            spliced("10) D\n", "D", block),
            "10) ```text\n    a\n\n    b\n    ```\n"
        );
    }

    #[test]
    fn after_text_the_block_opens_a_line_and_text_after_it_too() {
        let block = "```text\na\n```";
        assert_eq!(
            spliced("You see: D and more.\n", "D", block),
            "You see: \n```text\na\n```\n and more.\n"
        );
        assert_eq!(
            spliced("- Output: D\n", "D", block),
            "- Output: \n  ```text\n  a\n  ```\n"
        );
    }
}
