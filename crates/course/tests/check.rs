//! `course check` on a copy of the fixture course: every static problem is
//! found, with its place and a way to fix it, and the exit code says so.

use common::CourseTest;

mod common;

#[test]
fn check_is_clean_on_the_fixture() {
    let course = CourseTest::new();
    assert_eq!(course.check(), Vec::<String>::new());
    let run = course.run(&["check"]);
    assert!(run.ok(), "{}", run.stderr());
    assert!(run.stdout().contains("no problems"), "{}", run.stdout());
}

#[test]
fn check_reports_an_unknown_lab_with_the_nearest_id() {
    let course = CourseTest::new();
    course.edit("book/src/part/lab.md", |t| {
        t.replace("{{#lab demo}}", "{{#lab dmeo}}")
    });
    let msgs = course.check();
    assert!(
        msgs.iter()
            .any(|m| m.contains("part/lab.md:7:1: error: unknown lab `dmeo`")
                && m.contains("did you mean `demo`?")),
        "{msgs:#?}"
    );
    // …and so the real lab is no longer embedded.
    assert!(
        msgs.iter()
            .any(|m| m.contains("lab `demo` is not embedded by any chapter")),
        "{msgs:#?}"
    );
}

#[test]
fn check_reports_labs_embedded_twice() {
    let course = CourseTest::new();
    course.edit("book/src/part/index.md", |t| t + "\n{{#lab demo}}\n");
    let msgs = course.check();
    assert!(
        msgs.iter()
            .any(|m| m.contains("lab `demo` is embedded 2 times")),
        "{msgs:#?}"
    );
}

#[test]
fn check_reports_broken_links_and_anchors() {
    let course = CourseTest::new();
    course.edit("book/src/plain.md", |t| {
        t + "\n[gone](missing.md) and [bad anchor](part/lab.md#the-lb) and [self](#nowhere)\n"
    });
    let msgs = course.check();
    assert!(
        msgs.iter()
            .any(|m| m.contains("plain.md:17: error: broken link `missing.md`")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("no heading or element with id `the-lb`")
                && m.contains("did you mean `#the-lab`?")),
        "{msgs:#?}"
    );
    assert!(msgs.iter().any(|m| m.contains("`#nowhere`")), "{msgs:#?}");
    assert_eq!(msgs.len(), 3, "{msgs:#?}");
}

#[test]
fn check_reports_lab_outputs_that_quote_nothing() {
    let course = CourseTest::new();
    course.edit("book/src/output.md", |t| {
        t + "\n{{#lab-output dmeo install}}\n{{#lab-output demo instal}}\n{{#lab-output demo serve}}\n{{#lab-output demo install tail=x}}\n"
    });
    let msgs = course.check();
    for needle in [
        "output.md:13:1: error: unknown lab `dmeo`\n  help: did you mean `demo`?",
        "output.md:14:1: error: unknown step `instal` of lab `demo`\n  help: did you mean `install`?",
        "output.md:15:1: error: no transcript of demo serve: ",
        "output.md:16:1: error: `tail=x`: tail takes a number of lines, 1 or more",
    ] {
        assert!(
            msgs.iter().any(|m| m.contains(needle)),
            "missing {needle:?} in {msgs:#?}"
        );
    }
    assert!(
        msgs.iter().any(
            |m| m.contains("book/transcripts/demo/serve.txt does not exist")
                && m.contains("help: run `course lab follow demo --record`")
        ),
        "{msgs:#?}"
    );
    assert_eq!(msgs.len(), 4, "{msgs:#?}");
}

#[test]
fn check_reports_a_transcript_recorded_from_an_older_run() {
    let course = CourseTest::new();
    course.edit("labs/demo/lab.yaml", |t| {
        t.replace("run: echo installing", "run: echo installing everything")
    });
    let msgs = course.check();
    let stale = "error: the transcript of demo install was recorded from an older `run` of the step; run `course lab follow demo --record`";
    // Both directives that quote it.
    for place in ["output.md:5:1: ", "output.md:9:4: "] {
        assert!(
            msgs.iter().any(|m| m.contains(&format!("{place}{stale}"))),
            "{place} in {msgs:#?}"
        );
    }
    assert_eq!(msgs.len(), 2, "{msgs:#?}");
}

#[test]
fn check_reports_a_transcript_that_does_not_parse() {
    let course = CourseTest::new();
    course.write("book/transcripts/demo/install.txt", "installing\n");
    let msgs = course.check();
    assert!(
        msgs.iter().any(|m| m.contains("output.md:5:1: error: ")
            && m.contains("transcripts/demo/install.txt:1: not a transcript")),
        "{msgs:#?}"
    );
}

#[test]
fn check_reports_transcripts_of_steps_that_no_longer_exist() {
    let course = CourseTest::new();
    course
        .write(
            "book/transcripts/demo/gone.txt",
            "# course lab follow: demo gone run-sha256=0\n",
        )
        .write("book/transcripts/old-lab/train.txt", "x\n")
        // Not a transcript: left alone.
        .write("book/transcripts/demo/notes.md", "x\n");
    let msgs = course.check();
    assert!(
        msgs.iter().any(|m| m.contains("transcripts/demo/gone.txt:1: error: no step `gone` in lab `demo`")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter().any(|m| m
            .contains("transcripts/old-lab/train.txt:1: error: no step `train` in lab `old-lab`")
            && m.contains("there is no lab `old-lab`")),
        "{msgs:#?}"
    );
    assert_eq!(msgs.len(), 2, "{msgs:#?}");
}

#[test]
fn check_reports_ports_of_labs_that_run_together() {
    let course = CourseTest::new();
    course.write("labs/other/app.py", "x").write(
        "labs/other/lab.yaml",
        "id: other\ntitle: Other\nmodule: 4\nsummary: S.\nminutes: 5\nruns_with: [demo]\nports:\n  - port: 8000\n    service: another API\nfiles:\n  - path: app.py\n",
    );
    course.edit("book/src/part/index.md", |t| t + "\n{{#lab other}}\n");
    let msgs = course.check();
    assert!(
        msgs.iter().any(|m| m.contains("other/lab.yaml:8: error: port 8000 (another API) is also bound by lab `demo` (the demo API)")),
        "{msgs:#?}"
    );
    assert_eq!(msgs.len(), 1, "{msgs:#?}");
}

#[test]
fn check_reports_pins_without_their_reason_or_with_a_bad_date() {
    let course = CourseTest::new();
    course.edit("labs/demo/Dockerfile", |t| {
        t.replace(
            "# pin (checked 2026-12-06): Debian 13 stable with Python 3.13\n",
            "",
        )
    });
    course.edit("labs/demo/pyproject.toml", |t| {
        t.replace("(checked 2026-12-06): 0.30", "(checked 2026-02-30): 0.30")
            .replace(
                "(checked 2026-12-06): the oldest",
                "(checked 2999-01-01): the oldest",
            )
    });
    let msgs = course.check();
    let expected = [
        "demo/Dockerfile:1: error: `python 3.13-slim-trixie` is pinned without its reason",
        "demo/pyproject.toml:4: error: the pin comment of `python` says it was checked on 2999-01-01, after today",
        "demo/pyproject.toml:7: error: the pin comment of `uvicorn` has the date `2026-02-30`, which is not a day in YYYY-MM-DD",
    ];
    for e in expected {
        assert!(msgs.iter().any(|m| m.contains(e)), "{e}\n{msgs:#?}");
    }
    assert_eq!(msgs.len(), 3, "{msgs:#?}");
}

#[test]
fn check_reports_manifest_problems_and_exits_non_zero() {
    let course = CourseTest::new();
    course.edit("labs/demo/lab.yaml", |t| {
        t.replace("kind: file", "kind: fiel")
    });
    let run = course.run(&["check"]);
    assert!(!run.ok());
    let stderr = run.stderr();
    assert!(stderr.contains("labs/demo/lab.yaml:38:13: error: unknown check kind `fiel`, expected one of http, tcp, file, command"), "{stderr}");
    assert!(
        stderr.contains("course check: 1 problem(s)") || stderr.contains("problem(s)"),
        "{stderr}"
    );
}
