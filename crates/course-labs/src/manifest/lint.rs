//! What a step's or a check's shell command must not do: stop processes by
//! name, or (in a check) change what it observes.

use super::reader::Reader;
use super::tree::At;

/// Words that stop processes by name: they match other labs' and other
/// people's processes, and `pkill -f` even the shell that runs it.
pub(super) const KILL_BY_PATTERN: [&str; 2] = ["pkill", "killall"];

/// Words a check must not run: a check observes, cheaply and read-only, and
/// runs every couple of seconds while a page is open. Proving that tests pass
/// is a step's exit status; creating `.venv` (`uv run`) or sending load
/// would change what the check looks at.
pub(super) const NOT_IN_A_CHECK: [(&str, &str); 9] = [
    (
        "uv run",
        "it creates or syncs `.venv`; call `.venv/bin/python` or check a file instead",
    ),
    ("uv sync", "it changes the environment"),
    ("pip install", "it changes the environment"),
    (
        "pytest",
        "proving that tests pass is the step's exit status, not a check",
    ),
    (
        "loadtest",
        "a check must not send traffic; check what the step wrote instead",
    ),
    (
        "docker build",
        "a check must not build; `docker image inspect` observes",
    ),
    (
        "docker run",
        "a check must not start containers; `docker inspect` observes",
    ),
    (
        "compose up",
        "a check must not start containers; `docker compose ps` observes",
    ),
    (
        "kubectl apply",
        "a check must not change the cluster; `kubectl get` observes",
    ),
];

/// Programs that change something whatever their arguments.
const WRITERS: [&str; 11] = [
    "rm", "mv", "cp", "touch", "mkdir", "rmdir", "tee", "dd", "truncate", "ln", "kill",
];

/// Subcommands that act, by program (`docker compose up` is `docker`
/// followed by `compose up`).
const ACTING_SUBCOMMANDS: [(&str, &[&str]); 6] = [
    (
        "docker",
        &[
            "run",
            "start",
            "stop",
            "restart",
            "rm",
            "rmi",
            "kill",
            "build",
            "tag",
            "push",
            "pull",
            "commit",
            "compose up",
            "compose down",
            "compose start",
            "compose stop",
            "compose rm",
            "compose run",
            "compose exec",
            "compose build",
            "compose pull",
            "volume rm",
            "volume create",
            "network rm",
            "network create",
            "image rm",
            "container rm",
            "system prune",
            "buildx build",
        ],
    ),
    (
        "kubectl",
        &[
            "apply",
            "create",
            "delete",
            "patch",
            "replace",
            "scale",
            "label",
            "annotate",
            "drain",
            "cordon",
            "uncordon",
            "rollout restart",
            "rollout undo",
            "run",
            "set",
            "edit",
            "expose",
            "autoscale",
            "port-forward",
            "taint",
        ],
    ),
    (
        "helm",
        &["install", "upgrade", "uninstall", "rollback", "delete"],
    ),
    ("kind", &["create", "delete", "load"]),
    (
        "git",
        &[
            "commit", "push", "checkout", "switch", "reset", "add", "tag", "merge",
        ],
    ),
    ("sed", &["-i"]),
];

/// What in a check's shell command changes state, with why: writing files,
/// sending data or load, starting or stopping things, looping.
pub(crate) fn acts(command: &str) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    // Simple commands: split at pipes, lists, substitutions and new lines.
    for part in command.split(['|', ';', '&', '\n', '(', ')', '`']) {
        let words: Vec<&str> = part.split_whitespace().collect();
        // Skip `!`, `VAR=value` and `sudo` in front.
        let at = words
            .iter()
            .position(|w| !(*w == "!" || *w == "sudo" || (w.contains('=') && !w.starts_with('-'))))
            .unwrap_or(words.len());
        let Some(&program) = words.get(at) else {
            continue;
        };
        let program = program.rsplit('/').next().unwrap_or(program);
        let found = program_acts(program, &words[at + 1..])
            .into_iter()
            .chain(redirects(&words));
        for (what, why) in found {
            if !out.iter().any(|(w, _)| *w == what) {
                out.push((what, why));
            }
        }
    }
    out
}

/// What running `program` with `args` changes, if anything.
fn program_acts(program: &str, args: &[&str]) -> Option<(String, &'static str)> {
    if matches!(program, "for" | "while" | "until") {
        return Some((
            program.to_owned(),
            "a loop repeats what it does; a check runs once and looks",
        ));
    }
    if WRITERS.contains(&program) && !(program == "kill" && args.first() == Some(&"-0")) {
        return Some((program.to_owned(), "it changes files or processes"));
    }
    match program {
        "curl" => curl_acts(args),
        "wget"
            if !args
                .iter()
                .any(|a| *a == "--spider" || *a == "-O-" || *a == "-qO-") =>
        {
            Some((
                "wget".to_owned(),
                "it writes a file; use an http check or `curl -fsS`",
            ))
        }
        _ => subcommand_acts(program, args),
    }
}

/// A curl that sends data, uses a writing method, or saves to a file.
fn curl_acts(args: &[&str]) -> Option<(String, &'static str)> {
    let method = args
        .iter()
        .position(|a| *a == "-X" || *a == "--request")
        .and_then(|i| args.get(i + 1))
        .map(|m| {
            m.trim_matches(|c| c == '\'' || c == '"')
                .to_ascii_uppercase()
        });
    let sends = args.iter().any(|a| {
        ["-d", "-F", "-T", "--form", "--upload-file", "--json"].contains(a)
            || a.starts_with("--data")
    });
    let writes = args
        .iter()
        .position(|a| *a == "-o" || *a == "--output")
        .and_then(|i| args.get(i + 1))
        .is_some_and(|f| *f != "/dev/null");
    if method.as_deref().is_some_and(|m| m != "GET" && m != "HEAD") || sends {
        Some((
            "curl".to_owned(),
            "it sends data; an http check with a read-only URL observes",
        ))
    } else if writes {
        Some(("curl -o".to_owned(), "it writes a file"))
    } else {
        None
    }
}

/// `docker compose up`, `kubectl scale`, `sed -i`…: a subcommand that acts.
fn subcommand_acts(program: &str, args: &[&str]) -> Option<(String, &'static str)> {
    let (_, subs) = ACTING_SUBCOMMANDS.iter().find(|(p, _)| *p == program)?;
    // The first words that are not options: `docker compose up`.
    let plain: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with('-') || **a == "-i")
        .copied()
        .take(3)
        .collect();
    subs.iter()
        .find(|sub| {
            let sub_words: Vec<&str> = sub.split(' ').collect();
            if program == "sed" {
                args.iter().any(|a| a.starts_with("-i"))
            } else if program == "kubectl" || program == "helm" {
                // Global flags with values (`--context kind-wine`) come first.
                verb_after_flags(args).starts_with(&sub_words)
            } else {
                plain.starts_with(&sub_words)
            }
        })
        .map(|sub| (format!("{program} {sub}"), "it changes what the lab runs"))
}

/// Output redirected to a file (not `/dev/null`, not another descriptor).
fn redirects(words: &[&str]) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let Some(t) = w.strip_prefix(">>").or_else(|| {
            w.trim_start_matches(|c: char| c.is_ascii_digit())
                .strip_prefix('>')
        }) else {
            continue;
        };
        let target = if t.is_empty() {
            words.get(i + 1).copied().unwrap_or("")
        } else {
            t
        };
        let target = target.trim_start_matches('>');
        if !(target == "/dev/null" || target.starts_with('&') || target.is_empty()) {
            out.push((format!("> {target}"), "it writes a file"));
        }
    }
    out
}

/// The verb of a kubectl or helm command line: its first words that are not
/// options or option values (`--context kind-wine -n wine get pods` → get pods).
fn verb_after_flags<'a>(args: &[&'a str]) -> Vec<&'a str> {
    // Options that take a value as the next word.
    const WITH_VALUE: [&str; 6] = [
        "--context",
        "--kube-context",
        "-n",
        "--namespace",
        "--kubeconfig",
        "-o",
    ];
    let mut out = Vec::new();
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
            continue;
        }
        if WITH_VALUE.contains(a) {
            skip = true;
        } else if !a.starts_with('-') {
            out.push(*a);
            if out.len() == 2 {
                break;
            }
        }
    }
    out
}

/// Reports commands that stop processes by pattern.
pub(super) fn lint_command(r: &mut Reader<'_>, cmd: &At<String>, field: &str) {
    for word in KILL_BY_PATTERN {
        if has_word(&cmd.value, word) {
            r.problem(
                cmd.at,
                format!("the `{field}` command uses `{word}`, which stops processes by name"),
                "a reset stops the process groups the sidecar started itself: drop the command for a service, or name what the step made (`docker compose down`, a container the lab labels)",
            );
        }
    }
}

/// Whether `word` occurs in `text` as a whole word (or phrase).
pub(super) fn has_word(text: &str, word: &str) -> bool {
    let is_word_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    text.match_indices(word).any(|(i, _)| {
        let before = text.as_bytes().get(i.wrapping_sub(1)).copied();
        let after = text.as_bytes().get(i + word.len()).copied();
        (i == 0 || !before.is_some_and(is_word_byte)) && !after.is_some_and(is_word_byte)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acted(command: &str) -> Vec<String> {
        acts(command)
            .into_iter()
            .map(|(w, _)| w)
            .collect::<Vec<_>>()
    }

    #[test]
    fn checks_that_act_are_named() {
        assert_eq!(
            acted("for i in $(seq 150); do curl -s http://127.0.0.1:8100/predict; done"),
            ["for"]
        );
        assert_eq!(
            acted("curl -sS -X POST http://127.0.0.1:8100/admin/canary/promote"),
            ["curl"]
        );
        assert_eq!(
            acted("curl -fsS --data-binary @x.json http://127.0.0.1:8000/predict"),
            ["curl"]
        );
        assert_eq!(
            acted("curl -fsS http://127.0.0.1:8000/ready > ready.json"),
            ["> ready.json"]
        );
        assert_eq!(
            acted("kubectl --context kind-wine -n wine scale deployment wine-api --replicas 3"),
            ["kubectl scale"]
        );
        assert_eq!(
            acted("helm --kube-context kind-wine rollback wine-api 1"),
            ["helm rollback"]
        );
        assert_eq!(
            acted("docker compose up -d && docker compose ps"),
            ["docker compose up"]
        );
        assert_eq!(acted("test -f a && rm -f a"), ["rm"]);
        assert_eq!(acted("sed -i.bak s/a/b/ f"), ["sed -i"]);
    }

    #[test]
    fn checks_that_look_are_not() {
        for command in [
            "docker version --format '{{.Server.Version}}' 2>/dev/null",
            "test \"$(docker inspect --format '{{.State.Health.Status}}' wine-api)\" = healthy",
            "kubectl --context kind-wine get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status} {end}'",
            "helm --kube-context kind-wine --namespace wine status wine-api",
            "command -v kind >/dev/null && ! kind get clusters 2>&1 | grep -qx wine",
            "curl -fsS -o /dev/null http://127.0.0.1:8000/ready",
            "kubectl --context kind-wine rollout status deployment/wine-api -n wine",
            "grep -q 'node/wine-worker drained' drain.log",
            "kill -0 $(cat server.pid)",
        ] {
            assert!(acted(command).is_empty(), "{command}: {:?}", acted(command));
        }
    }
}
