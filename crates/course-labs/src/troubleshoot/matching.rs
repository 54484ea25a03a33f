//! Matching a failure against the symptoms of the entries.

use super::{Entry, Failure, Symptom, TAIL_BYTES};

impl Symptom {
    /// Whether every key of the symptom matches `f`.
    pub fn matches(&self, f: &Failure<'_>) -> bool {
        self.output
            .as_ref()
            .is_none_or(|re| re.is_match(tail(f.output)))
            && self
                .check
                .as_ref()
                .is_none_or(|re| f.check.is_some_and(|m| re.is_match(tail(m))))
            && self.exit.is_none_or(|code| f.exit == Some(code))
            && self.port.is_none_or(|port| (f.held)(port))
    }
}

/// The last [`TAIL_BYTES`] of `text`, on a character boundary.
pub fn tail(text: &str) -> &str {
    let mut start = text.len().saturating_sub(TAIL_BYTES);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

impl Entry {
    /// Whether one of its symptoms matches `f`.
    pub fn matches(&self, f: &Failure<'_>) -> bool {
        self.matching(f).is_some()
    }

    /// The first of its symptoms that matches `f`.
    pub fn matching(&self, f: &Failure<'_>) -> Option<&Symptom> {
        self.symptoms.iter().find(|s| s.matches(f))
    }

    /// The fix to show for `symptom`, one of this entry's: its own, else the entry's.
    pub fn fix_for<'a>(&'a self, symptom: &'a Symptom) -> &'a str {
        symptom.fix.as_deref().unwrap_or(&self.fix)
    }
}

/// The entry that `f`, a failure in a lab of `module`, is known as: the
/// first of the module's entries that matches, else the first of the
/// appendix's. None when nothing matches: never a guess.
pub fn find_known<'e>(entries: &'e [Entry], module: u8, f: &Failure<'_>) -> Option<&'e Entry> {
    let of = |m: Option<u8>| entries.iter().filter(move |e| e.module == m);
    of(Some(module)).chain(of(None)).find(|e| e.matches(f))
}
