//! Every way a lab.yaml can be wrong gives a clear diagnostic with its place,
//! never a panic.

use std::path::{Path, PathBuf};

use course_labs::{CheckSpec, Diagnostic, load_catalog, load_lab, parse_lab};

/// A lab folder in a temp dir with the given files.
fn lab_dir(id: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join(id);
    for (rel, content) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, content).expect("write");
    }
    (tmp, dir)
}

const GOOD: &str = "\
id: demo
title: Demo
module: 3
summary: A demo.
minutes: 10
files:
  - path: app.py
steps:
  - id: one
    title: One
    run: echo one
    check:
      kind: file
      path: app.py
";

fn errors(manifest: &str, extra: &[(&str, &str)]) -> Vec<Diagnostic> {
    let mut files = vec![("lab.yaml", manifest), ("app.py", "print(1)\n")];
    files.extend_from_slice(extra);
    let (_tmp, dir) = lab_dir("demo", &files);
    match load_lab(&dir) {
        Ok(lab) => panic!("expected errors, got a lab {}", lab.id),
        Err(e) => e,
    }
}

fn one(manifest: &str) -> String {
    let errs = errors(manifest, &[]);
    eprintln!(
        "{}",
        errs.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(errs.len(), 1, "{errs:#?}");
    errs[0].to_string()
}

#[test]
fn a_good_manifest_loads() {
    let (_tmp, dir) = lab_dir("demo", &[("lab.yaml", GOOD), ("app.py", "x")]);
    let lab = load_lab(&dir).expect("valid");
    assert_eq!(lab.id, "demo");
    assert_eq!(lab.files.len(), 1);
    assert!(matches!(
        lab.steps[0].check.as_ref().map(|c| &c.spec),
        Some(CheckSpec::File { .. })
    ));
}

#[test]
fn yaml_syntax_error_has_line_and_column() {
    let msg = one("id: demo\ntitle: [unclosed\nmodule: 3\n");
    assert!(msg.contains("lab.yaml:"), "{msg}");
    let place: Vec<&str> = msg
        .split(": error:")
        .next()
        .expect("place")
        .rsplitn(3, ':')
        .collect();
    assert!(
        place[0].parse::<u32>().is_ok_and(|c| c > 0),
        "no column in {msg}"
    );
    assert!(
        place[1].parse::<u32>().is_ok_and(|l| l >= 2),
        "no line in {msg}"
    );
}

#[test]
fn unknown_field_is_named_with_the_allowed_ones() {
    let msg = one(&GOOD.replace("title: Demo", "titel: Demo"));
    assert!(msg.contains("lab.yaml:2:"), "{msg}");
    assert!(msg.contains("unknown field `titel`"), "{msg}");
    assert!(
        msg.contains("expected one of id, title,"),
        "allowed fields not listed: {msg}"
    );
}

#[test]
fn unknown_check_kind_lists_the_kinds() {
    let msg = one(&GOOD.replace("kind: file", "kind: htp"));
    assert!(msg.contains(":13:"), "{msg}");
    assert!(msg.contains("htp"), "{msg}");
    for kind in ["http", "tcp", "file", "command"] {
        assert!(msg.contains(kind), "{kind} missing from {msg}");
    }
}

#[test]
fn field_of_another_check_kind_is_rejected() {
    let msg = one(&GOOD
        .replace("path: app.py\n\"", "")
        .replace("      path: app.py", "      url: http://127.0.0.1:1/"));
    assert!(
        msg.contains("field `url` does not apply to a file check"),
        "{msg}"
    );
    assert!(msg.contains("a file check takes: path, contains"), "{msg}");
}

#[test]
fn missing_required_field_is_named() {
    let msg = one(&GOOD.replace("minutes: 10\n", ""));
    assert!(msg.contains("missing field `minutes`"), "{msg}");
    assert!(msg.contains("lab.yaml:"), "{msg}");
}

#[test]
fn id_must_match_the_folder() {
    let msg = one(&GOOD.replace("id: demo", "id: other"));
    assert!(msg.contains("lab.yaml:1:5"), "{msg}");
    assert!(msg.contains("differs from its folder name `demo`"), "{msg}");
}

#[test]
fn listed_file_must_exist() {
    let msg = one(&GOOD.replace("  - path: app.py", "  - path: missing.py"));
    assert!(msg.contains("lab.yaml:7:11"), "{msg}");
    assert!(msg.contains("`missing.py` does not exist"), "{msg}");
    let msg = one(&GOOD.replace("  - path: app.py", "  - path: \"src/*.py\""));
    assert!(msg.contains("matches no file"), "{msg}");
}

#[test]
fn paths_that_leave_the_lab_are_rejected() {
    for bad in [
        "../outside.py",
        "/etc/passwd",
        "a/../../x",
        "\"../**/*.py\"",
    ] {
        let msg = one(&GOOD.replace("  - path: app.py", &format!("  - path: {bad}")));
        assert!(msg.contains("leaves the lab folder"), "{bad}: {msg}");
    }
    let msg = one(&GOOD.replace("      path: app.py", "      path: ../../etc/passwd"));
    assert!(msg.contains("leaves the lab folder"), "{msg}");
}

#[cfg(unix)]
#[test]
fn symlinks_pointing_out_are_rejected() {
    let (tmp, dir) = lab_dir(
        "demo",
        &[
            (
                "lab.yaml",
                &GOOD.replace(
                    "path: app.py\nsteps",
                    "path: app.py\n  - path: link.py\nsteps",
                ),
            ),
            ("app.py", "x"),
        ],
    );
    std::fs::write(tmp.path().join("secret.py"), "s").expect("write");
    std::os::unix::fs::symlink(tmp.path().join("secret.py"), dir.join("link.py")).expect("symlink");
    let errs = load_lab(&dir).expect_err("must fail");
    let msg = errs[0].to_string();
    assert!(
        msg.contains("`link.py` is a symlink that points outside the lab folder"),
        "{msg}"
    );
    // A glob that would sweep the link up is caught too.
    std::fs::write(
        dir.join("lab.yaml"),
        GOOD.replace("path: app.py\nsteps", "path: \"*.py\"\nsteps"),
    )
    .expect("write");
    let msg = load_lab(&dir).expect_err("must fail")[0].to_string();
    assert!(msg.contains("symlink"), "{msg}");
}

#[test]
fn duplicate_step_ids_are_rejected() {
    let manifest = format!("{GOOD}  - id: one\n    title: Again\n    run: echo again\n");
    let msg = one(&manifest);
    assert!(msg.contains("lab.yaml:15:9"), "{msg}");
    assert!(
        msg.contains("duplicate step id `one` (first used on line 9)"),
        "{msg}"
    );
}

#[test]
fn traversal_shaped_ids_are_rejected() {
    let msg = one(&GOOD.replace("  - id: one", "  - id: ../one"));
    assert!(msg.contains("is not a valid step id"), "{msg}");
}

#[test]
fn non_loopback_http_checks_are_rejected() {
    let m = GOOD.replace(
        "      kind: file\n      path: app.py",
        "      kind: http\n      url: http://example.com/",
    );
    let msg = one(&m);
    assert!(msg.contains("not an http URL on this machine"), "{msg}");
}

#[test]
fn several_problems_are_all_reported() {
    let m = GOOD
        .replace("id: demo", "id: other")
        .replace("  - path: app.py", "  - path: missing.py");
    assert_eq!(errors(&m, &[]).len(), 2);
}

#[test]
fn a_catalog_keeps_good_labs_and_reports_bad_ones() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (id, manifest) in [
        ("demo", GOOD.to_owned()),
        (
            "broken",
            GOOD.replace("id: demo", "id: broken")
                .replace("minutes: 10\n", ""),
        ),
    ] {
        let d = tmp.path().join(id);
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(d.join("lab.yaml"), manifest).expect("write");
        std::fs::write(d.join("app.py"), "x").expect("write");
    }
    std::fs::create_dir_all(tmp.path().join("no-manifest")).expect("mkdir");
    let (catalog, problems) = load_catalog(tmp.path());
    assert_eq!(catalog.ids().collect::<Vec<_>>(), vec!["demo"]);
    assert_eq!(problems.len(), 2, "{problems:#?}");
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn dir() -> &'static Path {
        Path::new("/nonexistent/labs/demo")
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn any_bytes_give_ok_or_err(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_lab(&dir().join("lab.yaml"), dir(), &bytes);
        }

        #[test]
        fn yaml_shaped_text_gives_ok_or_err(
            lines in proptest::collection::vec(
                prop_oneof![
                    Just("id: demo".to_owned()),
                    Just("files:".to_owned()),
                    Just("  - path: x".to_owned()),
                    Just("steps:".to_owned()),
                    Just("  - id: a".to_owned()),
                    Just("    check: {kind: http, url: 'http://127.0.0.1:1/', json: [1, {a: *x}]}".to_owned()),
                    Just("&x [a, *x]".to_owned()),
                    "[ -~]{0,40}",
                ],
                0..24,
            )
        ) {
            let text = lines.join("\n");
            let _ = parse_lab(&dir().join("lab.yaml"), dir(), text.as_bytes());
        }
    }
}

/// The complete example in the README's lab manifest reference is valid.
#[test]
fn the_readme_example_is_a_valid_manifest() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .expect("README");
    let section = &readme[readme
        .find("### A complete example")
        .expect("example section")..];
    let start = section.find("```yaml\n").expect("yaml block") + 8;
    let yaml = &section[start..start + section[start..].find("```").expect("block end")];
    let (_tmp, dir) = lab_dir(
        "model-serving",
        &[
            ("lab.yaml", yaml),
            ("src/wine_api/app.py", "app = 1\n"),
            ("src/wine_api/schemas.py", "x = 1\n"),
            ("tests/test_app.py", "def test(): pass\n"),
            ("pyproject.toml", "[project]\nname = \"wine-api\"\n"),
            ("uv.lock", "version = 1\n"),
        ],
    );
    let lab = load_lab(&dir).unwrap_or_else(|e| {
        panic!(
            "{}",
            e.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert_eq!(lab.steps.len(), 4);
    assert_eq!(lab.files.iter().filter(|f| !f.show).count(), 1);
    assert!(
        lab.files.iter().any(|f| f.rel == "pyproject.toml"),
        "the bare path entry"
    );
    assert_eq!(lab.steps[3].needs, vec![course_labs::Need::Docker]);
    assert_eq!(lab.steps[3].stops, vec!["serve"]);
    assert!(matches!(
        lab.steps[1].check.as_ref().map(|c| &c.spec),
        Some(CheckSpec::Http { .. })
    ));
}

#[test]
fn kill_by_pattern_and_acting_checks_are_refused() {
    let manifest = GOOD.replace(
        "    run: echo one\n    check:\n      kind: file\n      path: app.py\n",
        "    run: uv run uvicorn app:app\n    service: true\n    cleanup: pkill -f \"uvicorn app:app\" || true\n  - id: two\n    title: Two\n    run: echo two\n    check:\n      kind: command\n      command: uv run pytest -q\n  - id: three\n    title: Three\n    run: echo three\n    cleanup: killall uvicorn\n",
    );
    let errs = errors(&manifest, &[]);
    let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
    let has = |needle: &str, line: u64| {
        errs.iter()
            .any(|d| d.line == line && d.to_string().contains(needle))
    };
    // Every problem at once, each at its own line.
    assert!(has("`cleanup` command uses `pkill`", 13), "{text:#?}");
    assert!(has("a check runs `uv run`", 18), "{text:#?}");
    assert!(has("a check runs `pytest`", 18), "{text:#?}");
    assert!(has("`cleanup` command uses `killall`", 23), "{text:#?}");
    assert_eq!(errs.len(), 4, "{text:#?}");
    // A word that merely contains one is fine.
    let fine = GOOD.replace("run: echo one", "run: echo skill-pkillers");
    let (_tmp, dir) = lab_dir("demo", &[("lab.yaml", &fine), ("app.py", "")]);
    assert!(load_lab(&dir).is_ok());
}

#[test]
fn needs_stops_and_rerunnable_are_read_and_checked() {
    let manifest = GOOD.replace(
        "    run: echo one\n    check:\n      kind: file\n      path: app.py\n",
        "    run: sleep 100\n    service: true\n    needs: [docker, kubernetes, docker]\n  - id: two\n    title: Two\n    run: sleep 100\n    service: true\n    stops: [one]\n    rerunnable: true\n",
    );
    let (_tmp, dir) = lab_dir("demo", &[("lab.yaml", &manifest), ("app.py", "")]);
    let lab = load_lab(&dir).expect("loads");
    use course_labs::Need;
    assert_eq!(lab.steps[0].needs, vec![Need::Docker, Need::Kubernetes]);
    assert_eq!(lab.steps[1].stops, vec!["one"]);
    assert!(lab.steps[1].rerunnable && !lab.steps[0].rerunnable);

    let bad = GOOD.replace(
        "    run: echo one\n",
        "    run: echo one\n    needs: [gpu]\n    stops: [one, later]\n",
    );
    let errs = errors(&bad, &[]);
    let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert!(
        text.iter().any(|t| t.contains("unknown need `gpu`")
            && t.contains("docker, kubernetes, github, registry")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("stops `one`, which is no earlier step")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("stops `later`, which is no earlier step")),
        "{text:#?}"
    );
}

#[test]
fn the_zip_carries_a_readme_with_every_step_in_order() {
    let manifest = "\
id: demo
title: Demo
module: 3
summary: A demo.
minutes: 10
requires:
  - tool: uv
    version: \"0.9\"
ports:
  - port: 8000
    service: the API
files:
  - path: app.py
steps:
  - id: one
    title: Install
    text: Install the dependencies.
    run: uv sync
    check:
      kind: file
      path: app.py
      hint: Run `uv sync` in the lab folder.
  - id: two
    title: Serve
    run: uv run app.py
    service: true
    cleanup: rm -f out.txt
";
    let (_tmp, dir) = lab_dir("demo", &[("lab.yaml", manifest), ("app.py", "print(1)\n")]);
    let lab = load_lab(&dir).expect("a lab");
    assert_eq!(course_labs::readme_name(&lab), "README.md");
    let text = course_labs::lab_readme(&lab);
    for part in [
        "# Demo (module 03)",
        "- uv 0.9 or later",
        "- 8000: the API",
        "### 1. Install\n\nInstall the dependencies.\n\n```sh\nuv sync\n```",
        "**Check:** the file app.py exists.",
        "If it fails: Run `uv sync` in the lab folder.",
        "### 2. Serve",
        "It keeps running: use a second terminal",
        "**Undo:** `rm -f out.txt`",
        "## Start again",
    ] {
        assert!(text.contains(part), "missing {part:?} in:\n{text}");
    }
    assert!(text.find("### 1.") < text.find("### 2."));
    let zip = course_labs::lab_zip(&lab).expect("zip");
    let name = b"demo/README.md";
    assert!(
        zip.windows(name.len()).any(|w| w == name),
        "the zip has demo/README.md"
    );
}

#[test]
fn a_module_number_with_a_leading_zero_is_the_number() {
    let (_tmp, dir) = lab_dir(
        "demo",
        &[
            ("lab.yaml", &GOOD.replace("module: 3", "module: 03")),
            ("app.py", "print(1)\n"),
        ],
    );
    assert_eq!(load_lab(&dir).expect("a lab").module, 3);
    let (_tmp, dir) = lab_dir(
        "demo",
        &[
            ("lab.yaml", &GOOD.replace("module: 3", "module: \"07\"")),
            ("app.py", "print(1)\n"),
        ],
    );
    assert_eq!(load_lab(&dir).expect("a lab").module, 7);
    for bad in ["module: 100", "module: three", "module: -1"] {
        let msg = one(&GOOD.replace("module: 3", bad));
        assert!(msg.contains("lab.yaml:3:"), "{bad}: {msg}");
        assert!(msg.contains("module number from 0 to 99"), "{bad}: {msg}");
    }
}

#[test]
fn a_file_may_be_listed_by_its_bare_path() {
    let manifest = GOOD.replace(
        "  - path: app.py\n",
        "  - app.py\n  - path: notes.md\n    show: false\n",
    );
    let (_tmp, dir) = lab_dir(
        "demo",
        &[
            ("lab.yaml", &manifest),
            ("app.py", "print(1)\n"),
            ("notes.md", "n\n"),
        ],
    );
    let lab = load_lab(&dir).expect("a lab");
    let files: Vec<(&str, bool)> = lab.files.iter().map(|f| (f.rel.as_str(), f.show)).collect();
    assert_eq!(files, [("app.py", true), ("notes.md", false)]);
    // A file that is not there is named at the entry's own line.
    let msg = one(&GOOD.replace("  - path: app.py\n", "  - app.py\n  - missing.py\n"));
    assert!(msg.contains("lab.yaml:8:"), "{msg}");
    assert!(msg.contains("missing.py"), "{msg}");
}

/// Three different mistakes in one lab.yaml are three diagnostics from one
/// run, each at its line and each with a help line that names the fix.
#[test]
fn three_mistakes_are_reported_in_one_run() {
    let m = GOOD
        .replace("title: Demo", "titel: Demo")
        .replace("minutes: 10", "minutes: \"10\"")
        .replace("kind: file", "kind: fiel");
    let errs = errors(&m, &[]);
    let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(errs.len(), 3, "{text:#?}");
    let lines: Vec<u64> = errs.iter().map(|d| d.line).collect();
    assert_eq!(lines, [2, 5, 13], "{text:#?}");
    assert!(
        text[0].contains("lab.yaml:2:1: error: unknown field `titel`"),
        "{}",
        text[0]
    );
    assert!(
        text[0].ends_with("help: did you mean `title`?"),
        "{}",
        text[0]
    );
    assert!(
        text[1].contains("lab.yaml:5:10: error: `minutes` must be a whole number"),
        "{}",
        text[1]
    );
    assert!(
        text[1].ends_with("help: write the number without quotes: `minutes: 10`"),
        "{}",
        text[1]
    );
    assert!(text[2].contains("lab.yaml:13:13: error: unknown check kind `fiel`, expected one of http, tcp, file, command"), "{}", text[2]);
    assert!(
        text[2].ends_with("help: did you mean `file`?"),
        "{}",
        text[2]
    );
}

/// Mistakes of every layer come together: shape (a wrong type, a repeated
/// field), values (module, step id, need) and the disk (a missing file).
#[test]
fn shape_value_and_file_problems_come_together() {
    let m = GOOD
        .replace("module: 3", "module: third")
        .replace(
            "  - path: app.py",
            "  - path: app.py\n    show: maybe\n  - missing.py",
        )
        .replace(
            "  - id: one",
            "  - id: One\n    needs: [dockr]\n    rerunnable: true\n    rerunnable: false",
        );
    let errs = errors(&m, &[]);
    let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
    for (line, needle, help) in [
        (
            3,
            "`module` is not a module number from 0 to 99",
            "e.g. `module: 3`",
        ),
        (
            8,
            "`show` must be true or false, found the text \"maybe\"",
            "`show: true` or `show: false`",
        ),
        (
            9,
            "`missing.py` does not exist",
            "create the file, fix the path, or remove the entry",
        ),
        (11, "`One` is not a valid step id", "lowercase letters"),
        (12, "unknown need `dockr`", "did you mean `docker`?"),
        (
            14,
            "field `rerunnable` is given twice (first on line 13)",
            "keep one of them",
        ),
    ] {
        assert!(
            errs.iter().any(|d| d.line == line
                && d.message.contains(needle)
                && d.help.as_deref().is_some_and(|h| h.contains(help))),
            "no line {line} `{needle}` with help `{help}` in {text:#?}"
        );
    }
    assert_eq!(errs.len(), 6, "{text:#?}");
}

/// Every diagnostic a broken manifest gets carries a help line, and they
/// come in the order of the file.
#[test]
fn every_problem_has_a_help_line_and_they_are_in_file_order() {
    let m = "id: Demo\ntitle: ''\nmodule: 120\nsummary: [a]\nminutes: 0\nports:\n  - port: 0\n    service: api\n  - 8000\nruns_with: [Other]\nfiles: app.py\nsteps:\n  - id: a\n    title: A\n    service: true\n    timeout: 99999\n    check: {kind: tcp, host: example.com, port: 80}\n";
    let errs = errors(m, &[]);
    let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert!(errs.len() >= 11, "{text:#?}");
    assert!(errs.iter().all(|d| d.help.is_some()), "{text:#?}");
    assert!(
        errs.windows(2)
            .all(|w| (w[0].line, w[0].column) <= (w[1].line, w[1].column)),
        "{text:#?}"
    );
    assert!(
        text.iter().any(
            |t| t.contains("`files` must be a list, found the text \"app.py\"")
                && t.contains("`files: [app.py]`")
        ),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("a port must be a mapping of fields, found the number 8000")),
        "{text:#?}"
    );
}

/// `files: [- app.py]` mixes the two list syntaxes: the YAML error says how
/// to write it.
#[test]
fn a_dash_inside_brackets_is_explained() {
    let msg = one(&GOOD.replace("files:\n  - path: app.py", "files: [- app.py]"));
    assert!(msg.contains("lab.yaml:6:"), "{msg}");
    assert!(
        msg.contains("help: inside `[ ]` write the entries without `-`"),
        "{msg}"
    );
}

/// An empty `files:` list is one problem at its place; a missing one is one
/// "missing field" (not also "empty").
#[test]
fn empty_or_missing_files_are_one_problem_each() {
    let msg = one(&GOOD.replace("files:\n  - path: app.py", "files: []"));
    assert!(
        msg.contains("lab.yaml:6:8: error: `files` is empty"),
        "{msg}"
    );
    assert!(
        msg.contains("help: list the files a learner sees and copies"),
        "{msg}"
    );
    let msg = one(&GOOD.replace("files:\n  - path: app.py\n", ""));
    assert!(msg.contains("missing field `files` in the lab"), "{msg}");
    assert!(msg.contains("help: add `files: ["), "{msg}");
}

/// `needs_disk` and `needs_memory` are sizes with a unit; each bad one is
/// its own diagnostic, all from one run.
#[test]
fn needed_disk_and_memory_are_sizes() {
    let m = GOOD.replace(
        "minutes: 10\n",
        "minutes: 10\nneeds_disk: 2 GiB\nneeds_memory: 512 MiB\n",
    );
    let (_tmp, dir) = lab_dir("demo", &[("lab.yaml", &m), ("app.py", "print(1)\n")]);
    let lab = load_lab(&dir).expect("valid lab");
    assert_eq!(lab.needs_disk, Some(2 << 30));
    assert_eq!(lab.needs_memory, Some(512 << 20));
    let bad = GOOD.replace(
        "minutes: 10\n",
        "minutes: 10\nneeds_disk: 2\nneeds_memory: 0 GiB\n",
    );
    let errs = errors(&bad, &[]);
    let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(errs.len(), 2, "{text:#?}");
    assert!(
        text[0].contains("lab.yaml:6:13: error: `needs_disk: 2` is not a size"),
        "{}",
        text[0]
    );
    assert!(text[0].ends_with("e.g. `needs_disk: 2 GiB`"), "{}", text[0]);
    assert!(
        text[1].contains("lab.yaml:7:15: error: `needs_memory` is zero"),
        "{}",
        text[1]
    );
}
