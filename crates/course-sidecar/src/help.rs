//! "Ask for help": a plain-text bundle of what a helper needs to see about
//! a lab on this machine — the step that failed and its last output, the
//! checks, the OS and architecture, the versions of the tools the lab
//! requires, and who holds its ports — with what identifies the learner
//! taken out: the sidecar's token, the home folder, the host name, the user
//! name and the values of environment variables.
//!
//! It runs only the version commands of the tools the lab's manifest
//! `requires`, each bounded in time and output, and sends nothing anywhere:
//! the page shows the text and the learner copies it.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use course_labs::Lab;

use crate::checks::{CheckResult, CheckState, ports_in_use};
use crate::doctor::{self, Ran};
use crate::runner::OutputLine;
use crate::state::{LabEntry, lock};

/// Lines of the failed step's output in the bundle.
pub(crate) const OUTPUT_LINES: usize = 50;
/// How long one tool's version command may run.
const VERSION_TIMEOUT: Duration = Duration::from_secs(5);

/// The bundle for `entry`, redacted. `token` is the sidecar's token.
pub(crate) async fn bundle(entry: &LabEntry, token: &str) -> String {
    let lab = &entry.lab;
    let (failed, output, checks) = snapshot(entry);
    let mut text = String::new();
    let _ = writeln!(text, "Lab: {} ({})", lab.id, lab.title);
    let _ = writeln!(
        text,
        "Copy: {}{}",
        entry.dir.display(),
        if entry.exported() {
            ""
        } else {
            " (not exported)"
        }
    );
    let _ = writeln!(
        text,
        "Step: {}",
        failed
            .as_deref()
            .unwrap_or("none failed (a check may still fail)")
    );
    text.push_str("\nChecks:\n");
    if checks.is_empty() {
        text.push_str("  (this lab has no checks)\n");
    }
    for (step, result) in &checks {
        let state = match result.state {
            CheckState::Pass => "pass",
            CheckState::Fail => "FAIL",
            CheckState::Pending => "not checked yet",
        };
        let _ = writeln!(text, "  {step}: {state}: {}", result.message);
    }
    if let Some(step) = &failed {
        let _ = writeln!(
            text,
            "\nLast {} lines of the output of step {step}:",
            output.len()
        );
        for line in &output {
            let _ = writeln!(text, "  {}", line.text);
        }
    }
    let _ = writeln!(
        text,
        "\nSystem: {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    text.push_str("\nTools:\n");
    if lab.requires.is_empty() {
        text.push_str("  (this lab requires none)\n");
    }
    // All at once: the bundle takes at most one version command's time.
    let versions =
        futures_util::future::join_all(lab.requires.iter().map(|r| tool_version(&r.tool))).await;
    for (r, version) in lab.requires.iter().zip(versions) {
        let wanted = r
            .version
            .as_ref()
            .map(|v| format!(" (needs {v} or newer)"))
            .unwrap_or_default();
        let _ = writeln!(text, "  {}{wanted}: {version}", r.tool);
    }
    text.push_str(&ports_section(lab));
    Redactor::from_environment(token).redact(&text)
}

/// The step that failed last (its run, or else its check), its last output
/// lines, and every check's result.
fn snapshot(entry: &LabEntry) -> (Option<String>, Vec<OutputLine>, Vec<(String, CheckResult)>) {
    let checks: Vec<(String, CheckResult)> = entry
        .checked_steps()
        .into_iter()
        .map(|(s, r)| (s.id.clone(), r))
        .collect();
    let steps = lock(&entry.steps);
    let failed_run = entry
        .lab
        .steps
        .iter()
        .filter_map(|s| {
            let exit = steps.by_id.get(&s.id)?.last_exit.as_ref()?;
            (!exit.succeeded()).then_some((exit.finished_at_ms, &s.id))
        })
        .max()
        .map(|(_, id)| id.clone());
    let failed = failed_run.clone().or_else(|| {
        checks
            .iter()
            .find(|(_, r)| r.state == CheckState::Fail)
            .map(|(id, _)| id.clone())
    });
    let output = failed_run
        .and_then(|id| steps.by_id.get(&id))
        .map(|run| {
            let lines = &run.output.lines;
            lines
                .iter()
                .skip(lines.len().saturating_sub(OUTPUT_LINES))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    (failed, output, checks)
}

fn ports_section(lab: &Lab) -> String {
    let mut text = String::from("\nPorts:\n");
    if lab.ports.is_empty() {
        text.push_str("  (this lab binds none)\n");
    }
    let busy = ports_in_use(&lab.ports);
    for p in &lab.ports {
        let state = if !busy.contains(&p.port) {
            "free".to_owned()
        } else {
            match crate::proc::port_listener(p.port) {
                Some((pid, command)) => format!("in use by process {pid} ({command})"),
                None => "in use (by a process this user cannot see)".to_owned(),
            }
        };
        let _ = writeln!(text, "  {} ({}): {state}", p.port, p.service);
    }
    text
}

/// The first line a tool's version command prints, or why there is none:
/// the doctor's command for the tool, run within the doctor's bounds.
async fn tool_version(tool: &str) -> String {
    let Some((program, args)) = doctor::version_command(tool) else {
        return "(not a tool name)".into();
    };
    let shown = format!("{program} {}", args.join(" "));
    match doctor::run_bounded(Path::new(program), args, VERSION_TIMEOUT).await {
        Ran::Missing => format!("not found (`{program}` is not on PATH)"),
        Ran::TimedOut => format!(
            "(`{shown}` did not answer within {} s)",
            VERSION_TIMEOUT.as_secs()
        ),
        Ran::Failed(e) => format!("could not run `{shown}`: {e}"),
        Ran::Exited { output, .. } => output
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(|l| l.chars().take(200).collect())
            .unwrap_or_else(|| "(printed no version)".into()),
    }
}

/// What is taken out of a bundle, and what replaces it.
pub(crate) struct Redactor {
    token: String,
    /// Home folders, longest first.
    homes: Vec<String>,
    hosts: Vec<String>,
    users: Vec<String>,
    env_names: HashSet<String>,
}

impl Redactor {
    /// The values of this process: its environment, home, host and user.
    pub(crate) fn from_environment(token: &str) -> Redactor {
        let env_names = std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .collect();
        let mut homes: Vec<String> = Vec::new();
        if let Some(home) = std::env::var_os("HOME").and_then(|h| h.into_string().ok()) {
            let home = home.trim_end_matches('/').to_owned();
            if let Ok(real) = std::fs::canonicalize(&home)
                && let Some(real) = real.to_str()
            {
                homes.push(real.to_owned());
            }
            homes.push(home);
        }
        let mut users: Vec<String> = ["USER", "LOGNAME", "USERNAME"]
            .iter()
            .filter_map(|k| std::env::var(k).ok())
            .collect();
        let mut hosts: Vec<String> = std::env::var("HOSTNAME").into_iter().collect();
        #[cfg(unix)]
        {
            let uname = rustix::system::uname();
            let node = uname.nodename().to_string_lossy().into_owned();
            if let Some(short) = node.split('.').next() {
                hosts.push(short.to_owned());
            }
            hosts.push(node);
            users.extend(user_of_uid(rustix::process::getuid().as_raw()));
        }
        Redactor::new(token, homes, hosts, users, env_names)
    }

    pub(crate) fn new(
        token: &str,
        homes: Vec<String>,
        hosts: Vec<String>,
        users: Vec<String>,
        env_names: HashSet<String>,
    ) -> Redactor {
        // Too short to take out without mangling the text around it.
        let keep = |v: &String| v.len() >= 2 && v != "/";
        let mut homes: Vec<String> = homes.into_iter().filter(keep).collect();
        homes.sort_by_key(|h| std::cmp::Reverse(h.len()));
        homes.dedup();
        let mut hosts: Vec<String> = hosts.into_iter().filter(keep).collect();
        hosts.sort_by_key(|h| std::cmp::Reverse(h.len()));
        hosts.dedup();
        let mut users: Vec<String> = users.into_iter().filter(keep).collect();
        users.sort_by_key(|h| std::cmp::Reverse(h.len()));
        users.dedup();
        Redactor {
            token: token.to_owned(),
            homes,
            hosts,
            users,
            env_names,
        }
    }

    /// `text` with the token, environment values, home folders, host names
    /// and user names replaced.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = if self.token.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.token, "<token>")
        };
        out = self.redact_env(&out);
        for home in &self.homes {
            out = out.replace(home.as_str(), "~");
        }
        for host in &self.hosts {
            out = replace_word(&out, host, "<host>");
        }
        for user in &self.users {
            out = replace_word(&out, user, "<user>");
        }
        out
    }

    /// `NAME=value` → `NAME=<redacted>` for every NAME of the environment;
    /// a quoted value up to its closing quote, else up to white space.
    fn redact_env(&self, text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'=' {
                i += 1;
                continue;
            }
            let start = text[..i]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |p| p + 1);
            let name = &text[start..i];
            if name.is_empty() || !self.env_names.contains(name) {
                i += 1;
                continue;
            }
            let value_start = i + 1;
            let value_end = match bytes.get(value_start) {
                Some(q @ (b'"' | b'\'')) => {
                    match bytes[value_start + 1..]
                        .iter()
                        .position(|b| b == q || *b == b'\n')
                    {
                        Some(p) if bytes[value_start + 1 + p] == *q => value_start + p + 2,
                        Some(p) => value_start + 1 + p,
                        None => bytes.len(),
                    }
                }
                _ => bytes[value_start..]
                    .iter()
                    .position(u8::is_ascii_whitespace)
                    .map_or(bytes.len(), |p| value_start + p),
            };
            out.push_str(&text[copied..value_start]);
            out.push_str("<redacted>");
            copied = value_end;
            i = value_end.max(i + 1);
        }
        out.push_str(&text[copied.min(text.len())..]);
        out
    }
}

/// `text` with each whole-word `word` (not inside a longer name) replaced.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let part = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + word.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(part) || after.is_some_and(part) {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// The login name of `uid` from `/etc/passwd`, where there is one.
#[cfg(unix)]
fn user_of_uid(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?;
        (id.parse::<u32>().ok()? == uid).then(|| name.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor() -> Redactor {
        Redactor::new(
            "a1b2c3d4",
            vec!["/home/ada".into()],
            vec!["adas-laptop".into()],
            vec!["ada".into()],
            ["SECRET_KEY".to_owned(), "HOME".to_owned()].into(),
        )
    }

    #[test]
    fn each_kind_of_value_is_replaced() {
        let r = redactor();
        let text = "token a1b2c3d4\ncd /home/ada/mlops-course\nada@adas-laptop:~$ \nSECRET_KEY=hunter2 next\nexport SECRET_KEY=\"two words\" x\nOTHER=kept\nadam and ada_x stay\n";
        let out = r.redact(text);
        assert_eq!(
            out,
            "token <token>\ncd ~/mlops-course\n<user>@<host>:~$ \nSECRET_KEY=<redacted> next\nexport SECRET_KEY=<redacted> x\nOTHER=kept\nadam and ada_x stay\n"
        );
    }

    #[test]
    fn env_values_at_the_end_and_empty() {
        let r = redactor();
        assert_eq!(r.redact("SECRET_KEY="), "SECRET_KEY=<redacted>");
        assert_eq!(r.redact("HOME=/x"), "HOME=<redacted>");
        assert_eq!(r.redact("a == b"), "a == b");
    }
}
