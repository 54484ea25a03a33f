//! Versions resolved by `uv.lock`, matched to pyproject names.

/// The version each package has in `uv.lock` (`[[package]] name, version`).
pub fn locked_versions(lock: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut name: Option<String> = None;
    for line in lock.lines() {
        if line == "[[package]]" {
            name = None;
        } else if let Some(v) = line.strip_prefix("name = ") {
            name = Some(v.trim_matches('"').to_owned());
        } else if let Some(v) = line.strip_prefix("version = ")
            && let Some(n) = name.take()
        {
            out.push((n, v.trim_matches('"').to_owned()));
        }
    }
    out
}

/// PEP 503 normalisation, to match pyproject names with the lock's.
pub fn normalize_package(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_versions_and_names() {
        let lock =
            "version = 1\n[[package]]\nname = \"scikit-learn\"\nversion = \"1.7.2\"\nsource = {}\n";
        assert_eq!(
            locked_versions(lock),
            [("scikit-learn".to_owned(), "1.7.2".to_owned())]
        );
        assert_eq!(normalize_package("Scikit_Learn"), "scikit-learn");
    }
}
