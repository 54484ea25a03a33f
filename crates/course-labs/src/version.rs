use std::cmp::Ordering;
use std::fmt;

/// A dotted version number such as `3.11` or `1.30.2`, compared numerically
/// part by part (missing parts count as zero, so `3.11` == `3.11.0`).
#[derive(Debug, Clone)]
pub struct Version(Vec<u64>);

impl Version {
    /// Parses `MAJOR[.MINOR[.PATCH...]]`, with an optional leading `v`.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        if text.is_empty() {
            return None;
        }
        let parts: Option<Vec<u64>> = text.split('.').map(|p| p.parse().ok()).collect();
        parts.filter(|p| p.len() <= 6).map(Version)
    }

    /// Finds the first version-looking token (`digits.digits[...]`) in a
    /// tool's output, e.g. `Python 3.11.7` or `Docker version 28.2.2, build`.
    pub fn find_in(output: &str) -> Option<Version> {
        let bytes = output.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i].is_ascii_digit()
                && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'v')
            {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                    i += 1;
                }
                let token = output[start..i].trim_end_matches('.');
                if token.contains('.')
                    && let Some(v) = Version::parse(token)
                {
                    return Some(v);
                }
            } else {
                i += 1;
            }
        }
        None
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.0.len().max(other.0.len());
        for k in 0..n {
            let a = self.0.get(k).copied().unwrap_or(0);
            let b = other.0.get(k).copied().unwrap_or(0);
            match a.cmp(&b) {
                Ordering::Equal => {}
                unequal => return unequal,
            }
        }
        Ordering::Equal
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u64::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_numerically() {
        let v = |s| Version::parse(s).expect("valid");
        assert!(v("3.11") > v("3.9"));
        assert_eq!(v("3.11"), v("3.11.0"));
        assert!(v("1.30.2") >= v("1.30"));
        assert!(Version::parse("3.x").is_none());
        assert!(Version::parse("").is_none());
    }

    #[test]
    fn finds_versions_in_tool_output() {
        let f = |s| Version::find_in(s).map(|v| v.to_string());
        assert_eq!(f("Python 3.11.7").as_deref(), Some("3.11.7"));
        assert_eq!(
            f("Docker version 28.2.2, build e6534b4").as_deref(),
            Some("28.2.2")
        );
        assert_eq!(
            f("Docker Compose version v2.29.1").as_deref(),
            Some("2.29.1")
        );
        assert_eq!(
            f("uv 0.9.5 (d5f39331a 2025-10-21)").as_deref(),
            Some("0.9.5")
        );
        assert_eq!(
            f("kind v0.27.0 go1.23.6 linux/amd64").as_deref(),
            Some("0.27.0")
        );
        assert_eq!(f("no digits here"), None);
    }
}
