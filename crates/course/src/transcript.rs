//! Normalising a step's output into a transcript a chapter can quote: no
//! trace of the machine it ran on, and what varies from run to run masked.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

/// Where a learner's copy of lab `ID` lives, as the book shows it.
pub fn learner_dir(lab: &str) -> String {
    format!("~/mlops-course/labs/{lab}")
}

/// (pattern, replacement): what varies between runs of the same step.
static MASKS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        // Terminal colours and cursor moves.
        (r"\x1b\[[0-9;?]*[A-Za-z]", ""),
        // ISO 8601 timestamps, with or without a zone.
        (
            r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?",
            "<timestamp>",
        ),
        // Compact ISO timestamps, as in file names: 2026-12-06T202625Z.
        (r"\b\d{4}-\d{2}-\d{2}T\d{6}Z?", "<timestamp>"),
        // Dates: 2026-12-06, 2026/12/06.
        (r"\b\d{4}[-/]\d{2}[-/]\d{2}\b", "<date>"),
        // Clock times with a zone, seconds or not: "20:48 UTC".
        (
            r"\b\d{1,2}:\d{2}(?::\d{2})? (UTC|GMT|CET|CEST|EST|EDT|PST|PDT)\b",
            "<time> $1",
        ),
        // Clock times as loggers print them.
        (r"\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b", "<time>"),
        // What Prometheus and Alertmanager say of the machine and their build.
        (
            r#"\b(host_details|fd_limits|vm_limits|build_context|build_user)=(?:"[^"]*"|\S+)"#,
            "$1=<machine>",
        ),
        // The kernel a tool reports (uname).
        (r"\bLinux \d+\.\d+\.\d+[^\s)\x22]*", "Linux <kernel>"),
        // A client's ephemeral port in server logs (127.0.0.1:34564 - "GET ...").
        (
            r"\b(127\.0\.0\.1|localhost|\[::1\]):(?:3[2-9]\d{3}|[4-6]\d{4})\b",
            "$1:<port>",
        ),
        // Temporary folders Python's tempfile names at random.
        (r"/tmp/tmp[A-Za-z0-9_]{6,}", "/tmp/<tmpdir>"),
        // Addresses of private networks (a container's, a laptop's LAN).
        (
            r"\b(?:10\.\d{1,3}|172\.(?:1[6-9]|2\d|3[01])|192\.168)\.\d{1,3}\.\d{1,3}\b",
            "<ip>",
        ),
        // Where the machine's Python lives (uv names it).
        (r"(interpreter at: )\S+", "$1<python>"),
        // UUIDs, then run ids, digests and container ids.
        (
            r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
            "<id>",
        ),
        // How long something took: "in 1.23s", "in 345ms", "took 2.1 s".
        (
            r"\b(in|took|after) \d+(?:\.\d+)?\s?(?:ms|µs|us|s|seconds|secs?|m|min)\b",
            "$1 <duration>",
        ),
        // Process ids in server logs: "process [12345]", "pid 12345", "PID: 12345".
        (r"(?i)\b(process \[|pid[:= ]\s*)\d+", "$1<pid>"),
    ]
    .into_iter()
    .filter_map(|(p, r)| Regex::new(p).ok().map(|re| (re, r)))
    .collect()
});

/// Normalises `text`: the learner's copy at `dir` shown as
/// `~/mlops-course/labs/ID`, the course checkout and the home folder
/// replaced, the host's name removed, and timestamps, ids, durations and
/// process ids masked. Trailing spaces go too.
pub fn normalise(text: &str, dir: &Path, lab: &str, course_root: &Path) -> String {
    let mut out = text.to_owned();
    let mut places: Vec<(String, String)> = Vec::new();
    for d in [dir.to_path_buf(), dir.canonicalize().unwrap_or_default()] {
        if !d.as_os_str().is_empty() {
            places.push((d.display().to_string(), learner_dir(lab)));
        }
        if let Some(parent) = d.parent().filter(|p| p.as_os_str().len() > 1) {
            places.push((parent.display().to_string(), "~/mlops-course/labs".into()));
        }
    }
    if course_root.as_os_str().len() > 1 {
        places.push((
            course_root.display().to_string(),
            "~/mlops-course/course".into(),
        ));
    }
    // Longest first, so a folder inside another is replaced as a whole.
    places.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
    for (from, to) in &places {
        out = out.replace(from.as_str(), to);
    }
    if let Some(home) = std::env::var_os("HOME").filter(|h| h.len() > 1) {
        out = replace_home(&out, &home.to_string_lossy());
    }
    if let Some(host) = hostname().filter(|h| h.len() > 2 && h != "localhost") {
        out = out.replace(&host, "HOST");
    }
    for (re, with) in MASKS.iter() {
        out = re.replace_all(&out, *with).into_owned();
    }
    out = mask_hex_ids(&out);
    let mut lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let mut joined = lines.join("\n");
    joined.push('\n');
    joined
}

/// The home folder as `~`, where a path starts with it: after a space, a
/// quote or a bracket, or at a line's start. A path inside a container (a
/// Dockerfile's `target=/root/.cache/uv`) is the image's, not the machine's,
/// and stays.
fn replace_home(text: &str, home: &str) -> String {
    let Ok(re) = Regex::new(&format!(
        r#"(^|[\s'"(\[])({})(/|\b|$)"#,
        regex::escape(home)
    )) else {
        return text.to_owned();
    };
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        out.push_str(&re.replace_all(line, "${1}~${3}"));
    }
    out
}

/// Run ids, digests and container ids: 12 to 64 hex digits with at least
/// one letter, not the decimals of a number (`0.123456789012`).
fn mask_hex_ids(text: &str) -> String {
    static HEX: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\b[0-9a-f]{12,64}\b").ok());
    let Some(hex) = HEX.as_ref() else {
        return text.to_owned();
    };
    hex.replace_all(text, |caps: &regex::Captures<'_>| {
        let m = caps.get(0).map_or("", |m| m.as_str());
        let start = caps.get(0).map_or(0, |m| m.start());
        let after_point = text[..start].ends_with('.');
        if after_point || !m.bytes().any(|b| b.is_ascii_alphabetic()) {
            m.to_owned()
        } else {
            "<id>".to_owned()
        }
    })
    .into_owned()
}

fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|h| h.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_the_learners_and_what_varies_is_masked() {
        let dir = Path::new("/tmp/course-follow-abc123/model-serving");
        let text = "\x1b[32mwrote /tmp/course-follow-abc123/model-serving/model/model.joblib\x1b[0m\n\
                    Installed 80 packages in 345ms\n\
                    run 0f1e2d3c4b5a69788796a5b4c3d2e1f0 at 2026-12-06T20:01:02.123Z   \n\
                    INFO:     Started server process [12345]\n\
                    10 passed in 3.21s\n\n\n";
        let got = normalise(text, dir, "model-serving", Path::new("/srv/checkout"));
        assert_eq!(
            got,
            "wrote ~/mlops-course/labs/model-serving/model/model.joblib\n\
             Installed 80 packages in <duration>\n\
             run <id> at <timestamp>\n\
             INFO:     Started server process [<pid>]\n\
             10 passed in <duration>\n"
        );
    }

    #[test]
    fn dates_kernels_and_interpreters_are_masked() {
        let text = "2026/12/06 20:26:25 INFO mlflow\n\
                    wrote reports/drift-2026-12-06T202625Z.json\n\
                    kernel: Linux 6.18.44-fc-v1300 #1 SMP x86_64\n\
                    Using CPython 3.12.8 interpreter at: /opt/python/bin/python3.12\n\
                    INFO:     127.0.0.1:34564 - \"GET /ready HTTP/1.1\" 200 OK on 127.0.0.1:8000\n\
                    Created directory /tmp/tmpf9mizxcx for the run\n\
                    Network URL: http://10.213.0.2:8501\n\
                    built on Sun 6 Dec <date> 20:48 UTC\n\
                    msg=\"Starting\" host_details=\"(Linux 6.1 x86_64 vm (none))\" fd_limits=\"(soft=1024)\"\n";
        assert_eq!(
            normalise(text, Path::new("/x/lab"), "lab", Path::new("/y")),
            "<date> <time> INFO mlflow\n\
             wrote reports/drift-<timestamp>.json\n\
             kernel: Linux <kernel> #1 SMP x86_64\n\
             Using CPython 3.12.8 interpreter at: <python>\n\
             INFO:     127.0.0.1:<port> - \"GET /ready HTTP/1.1\" 200 OK on 127.0.0.1:8000\n\
             Created directory /tmp/<tmpdir> for the run\n\
             Network URL: http://<ip>:8501\n\
             built on Sun 6 Dec <date> <time> UTC\n\
             msg=\"Starting\" host_details=<machine> fd_limits=<machine>\n"
        );
    }

    #[test]
    fn the_home_folder_is_replaced_where_a_path_starts_with_it() {
        let text = "uv at /home/ada/.local/bin/uv\n\
                    \"/home/ada/x\"\n\
                    RUN --mount=type=cache,target=/home/ada/.cache/uv\n\
                    /home/adam/other\n";
        assert_eq!(
            replace_home(text, "/home/ada"),
            "uv at ~/.local/bin/uv\n\
             \"~/x\"\n\
             RUN --mount=type=cache,target=/home/ada/.cache/uv\n\
             /home/adam/other\n"
        );
    }

    #[test]
    fn figures_that_are_the_output_stay() {
        let text = "test accuracy 0.978\nthroughput 812.4 req/s, p50 3.1 ms\n\
                    rate 0.0222222222222 and 1.765432101234e+09, id 123456789012\n";
        assert_eq!(
            normalise(text, Path::new("/x/lab"), "lab", Path::new("/y")),
            text
        );
    }
}
