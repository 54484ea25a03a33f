//! Small HTML helpers.

/// Escapes text for HTML content and attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Makes HTML safe to drop into a markdown chapter as one HTML block:
/// - no blank line (a blank line ends the block and the rest would be read
///   as markdown): inside `<pre>` newlines become `&#10;`, outside empty
///   lines are dropped;
/// - no `{{#` (mdBook's `links` preprocessor runs after us and must not
///   expand text from a lab file).
pub(crate) fn as_markdown_block(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + html.len() / 16);
    let mut in_pre = 0usize;
    let mut rest = html;
    while !rest.is_empty() {
        if rest.starts_with("<pre") && rest[4..].starts_with([' ', '>']) {
            in_pre += 1;
        } else if rest.starts_with("</pre>") {
            in_pre = in_pre.saturating_sub(1);
        }
        let c = rest.chars().next().unwrap_or(' ');
        if c == '\n' {
            if in_pre > 0 {
                out.push_str("&#10;");
            } else if !out.ends_with('\n') && !out.is_empty() {
                out.push('\n');
            }
        } else if c == '{' && rest.starts_with("{{#") {
            out.push_str("&#123;");
        } else if (c == ' ' || c == '\t') && in_pre == 0 && (out.is_empty() || out.ends_with('\n'))
        {
            // Leading indentation outside <pre>: four spaces would make an
            // indented code block.
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_blank_lines_and_pre_kept() {
        let html = "<div>\n\n    <p>a</p>\n<pre class=\"x\">line1\n\n  line3\n</pre>\n\n</div>\n";
        let out = as_markdown_block(html);
        assert!(!out.lines().any(|l| l.trim().is_empty()), "{out}");
        assert!(out.contains("line1&#10;&#10;  line3&#10;</pre>"), "{out}");
        assert!(!out.contains("\n    "), "{out}");
    }

    #[test]
    fn directives_from_lab_files_are_defused() {
        assert_eq!(
            as_markdown_block("<p>{{#include x}}</p>"),
            "<p>&#123;{#include x}}</p>"
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
