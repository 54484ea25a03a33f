//! String literals: prefixes, quotes, escapes, `%` placeholders,
//! docstrings, mapping keys and f-string fields.

use super::{Bracket, Kind, Lexer, is_name_char};

impl Lexer<'_> {
    /// The length of a string's prefix and opening quote position, when a
    /// string starts here: `"`, `'`, or up to two prefix letters then one.
    pub(super) fn string_prefix(&self, at: usize) -> Option<usize> {
        let mut i = at;
        while i < at + 2 && matches!(self.peek(i).to_ascii_lowercase(), b'r' | b'b' | b'u' | b'f') {
            i += 1;
        }
        matches!(self.peek(i), b'"' | b'\'').then_some(i - at)
    }

    pub(super) fn string(&mut self, start: usize, prefix: usize, docstring_place: bool) {
        let letters = self.src[start..start + prefix].to_ascii_lowercase();
        let raw = letters.contains('r');
        let fstring = letters.contains('f');
        let bytes = letters.contains('b');
        let q = self.peek(start + prefix);
        let open = start + prefix;
        let triple = self.peek(open + 1) == q && self.peek(open + 2) == q;
        let quote_len = if triple { 3 } else { 1 };
        let body = open + quote_len;
        let kind = if triple && docstring_place && !fstring {
            Kind::Docstring
        } else if fstring {
            Kind::FStr
        } else if triple {
            Kind::StrBlock
        } else {
            Kind::Str
        };
        let first_token = self.out.len();
        if kind == Kind::Docstring {
            self.push(start, body, kind);
        } else {
            let quote = if fstring {
                Kind::FStrQuote
            } else {
                Kind::StrQuote
            };
            self.push(start, open, Kind::StrPrefix);
            self.push(open, body, quote);
        }
        let mut i = body;
        let mut run_start = body;
        let (close, terminated) = loop {
            let Some(&ch) = self.b.get(i) else {
                break (self.b.len(), false);
            };
            if ch == b'\\' {
                if !raw && kind != Kind::Docstring {
                    self.push(run_start, i, kind);
                    let len = escape_len(&self.src[i..]);
                    self.push(i, i + len, Kind::StrEscape);
                    i += len;
                    run_start = i;
                } else {
                    i = (i + 2).min(self.b.len());
                }
                continue;
            }
            if ch == q && (!triple || (self.peek(i + 1) == q && self.peek(i + 2) == q)) {
                break (i, true);
            }
            if ch == b'\n' && !triple {
                break (i, false);
            }
            if fstring && ch == b'{' {
                if self.peek(i + 1) == b'{' {
                    i += 2;
                    continue;
                }
                self.push(run_start, i, kind);
                i = self.field(i, triple);
                run_start = i;
                continue;
            }
            if !fstring && !bytes && kind != Kind::Docstring {
                // `{{` and `}}` are str.format's escapes; `%s` and `{name}` its fields.
                let doubled = matches!(&self.b[i..], [b'{', b'{', ..] | [b'}', b'}', ..]);
                let piece = if doubled {
                    Some((2, Kind::StrEscape))
                } else {
                    placeholder_len(&self.b[i..]).map(|len| (len, Kind::Placeholder))
                };
                if let Some((len, piece)) = piece {
                    self.push(run_start, i, kind);
                    self.push(i, i + len, piece);
                    i += len;
                    run_start = i;
                    continue;
                }
            }
            i += 1;
        };
        self.push(run_start, close, kind);
        let end = if terminated { close + quote_len } else { close };
        if terminated {
            let quote = match kind {
                Kind::Docstring => Kind::Docstring,
                Kind::FStr => Kind::FStrQuote,
                _ => Kind::StrQuote,
            };
            self.push(close, end, quote);
        }
        self.pos = end;
        if self.is_mapping_key(start, end) {
            for token in &mut self.out[first_token..] {
                token.2 = match token.2 {
                    Kind::Str => Kind::StrKey,
                    Kind::StrQuote => Kind::StrKeyQuote,
                    other => other,
                };
            }
        }
    }

    /// Whether the string from `start` to `end` is a key of a `{…}` display.
    fn is_mapping_key(&self, start: usize, end: usize) -> bool {
        self.brackets.last() == Some(&Bracket::Brace)
            && self.src[..start].trim_end().ends_with(['{', ','])
            && self.src[end..].trim_start().starts_with(':')
    }

    /// An f-string field from its `{`; returns where the field ends. The
    /// field of a one-line string ends with its line at the latest.
    fn field(&mut self, open: usize, multiline: bool) -> usize {
        self.push(open, open + 1, Kind::Interpolation);
        let saved = (self.statement_start, self.after, self.param_position);
        let saved_brackets = std::mem::take(&mut self.brackets);
        self.pos = open + 1;
        let limit = if multiline {
            self.b.len()
        } else {
            self.src[open..]
                .find('\n')
                .map_or(self.b.len(), |n| open + n)
        };
        self.run(limit, true);
        self.brackets = saved_brackets;
        (self.statement_start, self.after, self.param_position) = saved;
        let mut i = self.pos;
        // A conversion and a format spec, up to the closing brace.
        if self.peek(i) == b'!' {
            let len = if is_name_char(self.peek(i + 1)) { 2 } else { 1 };
            self.push(i, i + len, Kind::Conversion);
            i += len;
        }
        if self.peek(i) == b':' {
            let spec_start = i;
            while i < limit && self.peek(i) != b'}' && self.peek(i) != b'\n' {
                i += 1;
            }
            self.push(spec_start, i, Kind::FormatSpec);
        }
        if self.peek(i) == b'}' {
            self.push(i, i + 1, Kind::Interpolation);
            i += 1;
        }
        i
    }
}

/// The length of an escape sequence at the start of `s` (which starts with `\`).
fn escape_len(s: &str) -> usize {
    let b = s.as_bytes();
    let digits = |from: usize, max: usize, ok: fn(u8) -> bool| {
        let mut n = from;
        while n < b.len() && n < from + max && ok(b[n]) {
            n += 1;
        }
        n
    };
    match b.get(1) {
        None => 1,
        Some(b'x') => digits(2, 2, |c| c.is_ascii_hexdigit()),
        Some(b'u') => digits(2, 4, |c| c.is_ascii_hexdigit()),
        Some(b'U') => digits(2, 8, |c| c.is_ascii_hexdigit()),
        Some(b'N') if b.get(2) == Some(&b'{') => b
            .iter()
            .position(|&c| c == b'}' || c == b'\n')
            .map_or(b.len(), |i| i + 1),
        Some(b'0'..=b'7') => digits(1, 3, |c| (b'0'..=b'7').contains(&c)),
        Some(_) => 1 + s[1..].chars().next().map_or(0, char::len_utf8),
    }
}

/// The length of a `%`-format placeholder or a `{name}` field at the
/// start of `b`, if one is there.
fn placeholder_len(b: &[u8]) -> Option<usize> {
    if b.first() == Some(&b'{') {
        let len = b[1..]
            .iter()
            .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_' || c == b'.'))?;
        return (b[1 + len] == b'}').then_some(len + 2);
    }
    if b.first() != Some(&b'%') {
        return None;
    }
    let mut i = 1;
    if b.get(i) == Some(&b'(') {
        i += b[i..].iter().position(|&c| c == b')' || c == b'\n')?;
        if b[i] != b')' {
            return None;
        }
        i += 1;
    }
    while i < b.len() && matches!(b[i], b'-' | b'+' | b' ' | b'#' | b'0'..=b'9' | b'.' | b'*') {
        i += 1;
    }
    matches!(
        b.get(i),
        Some(
            b'd' | b'i'
                | b'o'
                | b'u'
                | b'x'
                | b'X'
                | b'e'
                | b'E'
                | b'f'
                | b'F'
                | b'g'
                | b'G'
                | b'c'
                | b'r'
                | b's'
                | b'a'
                | b'%'
        )
    )
    .then_some(i + 1)
}
