//! `course lab test|export|follow` on a copy of the fixture course: a test
//! of one lab is not stopped by another's manifest, export copies exactly
//! the lab and never overwrites unasked, follow runs each step and its
//! check, then proves the reset left nothing behind.

use std::process::Command;

use common::{CourseTest, Run, free_port};

mod common;

#[test]
fn lab_test_of_one_lab_is_not_stopped_by_another_labs_broken_manifest() {
    let course = CourseTest::new();
    course.write("labs/tiny/notes.txt", "nothing to check\n").write(
        "labs/tiny/lab.yaml",
        "id: tiny\ntitle: Tiny\nmodule: 1\nsummary: A lab with one text file.\nminutes: 1\nfiles:\n  - path: notes.txt\n",
    );
    // A lab being written: its folder exists, its manifest does not yet.
    std::fs::create_dir_all(course.root().join("labs/wip")).expect("mkdir");
    let run = course.run(&["lab", "test", "tiny"]);
    let stderr = run.stderr();
    assert!(run.ok(), "{stderr}");
    assert!(
        stderr.contains("note: 1 problem(s) in other labs' manifests"),
        "{stderr}"
    );
    assert!(run.stdout().contains("labs: 0 passed, 0 failed"));
    let run = course.run(&["lab", "test", "wip"]);
    let stderr = run.stderr();
    assert!(!run.ok());
    assert!(stderr.contains("labs/wip/lab.yaml"), "{stderr}");
    assert!(stderr.contains("1 lab manifest problem(s)"), "{stderr}");
}

#[test]
fn export_copies_the_lab_and_refuses_to_overwrite() {
    let course = CourseTest::new();
    let dest = course.root().join("mine");
    let out = course.run(&["lab", "export", "demo", dest.to_str().expect("utf-8 path")]);
    assert!(out.ok(), "{}", out.stderr());
    let stdout = out.stdout();
    assert!(stdout.contains("Exported lab `demo` (8 files)"), "{stdout}");
    for f in [
        "app/main.py",
        "app/settings.toml",
        "Dockerfile",
        "infra/main.tf",
        "run.sh",
        "data.bin",
    ] {
        assert!(dest.join(f).is_file(), "{f} missing");
    }
    assert!(
        !dest.join("lab.yaml").exists(),
        "the manifest is not a learner file"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dest.join("run.sh"))
            .expect("meta")
            .permissions()
            .mode();
        assert!(mode & 0o111 != 0, "run.sh lost its executable bit");
    }
    std::fs::write(dest.join("Dockerfile"), "mine").expect("write");
    let out = course.run(&["lab", "export", "demo", dest.to_str().expect("utf-8 path")]);
    assert!(!out.ok());
    let stderr = out.stderr();
    assert!(
        stderr.contains("already exist") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(dest.join("Dockerfile")).expect("read"),
        "mine",
        "nothing may be overwritten"
    );
    let out = course.run(&[
        "lab",
        "export",
        "demo",
        "--force",
        dest.to_str().expect("utf-8 path"),
    ]);
    assert!(out.ok());
    assert_ne!(
        std::fs::read_to_string(dest.join("Dockerfile")).expect("read"),
        "mine"
    );
    let out = course.run(&["lab", "export", "dmeo", dest.to_str().expect("utf-8 path")]);
    assert!(out.stderr().contains("did you mean `demo`?"));
}

/// Runs `course lab follow ARGS…` as a learner would (outside CI); returns
/// whether it passed and everything it printed.
fn follow(course: &CourseTest, args: &[&str]) -> (bool, String) {
    let out = Run(course
        .cmd()
        .args(["lab", "follow"])
        .args(args)
        .env_remove("CI")
        .output()
        .expect("run"));
    (out.ok(), format!("{}{}", out.stdout(), out.stderr()))
}

/// The line of `step` in a follow's output.
fn step_line<'a>(out: &'a str, lab: &str, step: &str) -> &'a str {
    out.lines()
        .find(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(1) == Some(&lab) && f.get(2) == Some(&step)
        })
        .unwrap_or_else(|| panic!("no line for {lab} {step} in:\n{out}"))
}

#[test]
fn follow_runs_each_step_and_its_check_then_resets() {
    let course = CourseTest::new();
    let port = free_port();
    let steps = format!(
        r#"  - id: make
    title: Make a file
    run: echo "made in $PWD"; echo made > made.txt
    check:
      kind: file
      path: made.txt
  - id: serve
    title: Serve the folder
    run: exec python3 -m http.server {port} --bind 127.0.0.1
    service: true
    check:
      kind: http
      url: http://127.0.0.1:{port}/made.txt
      timeout: 2
  - id: cluster
    title: Deploy to the cluster
    run: kubectl apply -f nothing.yaml
    needs: [kubernetes]
  - id: again
    title: Make it again
    run: echo made > made.txt
    rerunnable: true
    check:
      kind: file
      path: made.txt
  - id: read
    title: Just read
    text: Nothing to run here.
"#
    );
    course.add_lab("walk", &[port], &steps);
    let (ok, out) = follow(&course, &["walk", "--record"]);
    assert!(ok, "{out}");
    assert!(step_line(&out, "walk", "make").starts_with("pass"), "{out}");
    assert!(
        step_line(&out, "walk", "serve").starts_with("pass"),
        "{out}"
    );
    assert!(
        step_line(&out, "walk", "cluster").starts_with("skip")
            && step_line(&out, "walk", "cluster").contains("needs a Kubernetes cluster"),
        "{out}"
    );
    assert!(
        step_line(&out, "walk", "again").starts_with("pass"),
        "{out}"
    );
    assert!(
        step_line(&out, "walk", "(reset)").starts_with("pass"),
        "{out}"
    );
    assert!(
        out.contains("follow: 5 passed, 0 failed, 1 skipped"),
        "{out}"
    );
    // The service is gone and its port free.
    assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_ok());
    // The transcript shows the learner's path, not the follower's.
    let t = std::fs::read_to_string(course.root().join("book/transcripts/walk/make.txt"))
        .expect("transcript");
    assert!(
        t.starts_with("# course lab follow: walk make run-sha256="),
        "{t}"
    );
    assert!(t.ends_with("made in ~/mlops-course/labs/walk\n"), "{t}");
}

#[test]
fn follow_fails_a_check_that_passes_before_its_step_and_a_failing_command() {
    let course = CourseTest::new();
    let steps = r#"  - id: weak
    title: A check that proves nothing
    run: "true"
    check:
      kind: file
      path: notes.txt
  - id: broken
    title: A command that fails
    run: echo "something went wrong"; exit 3
  - id: late
    title: A check that never passes
    run: "true"
    check:
      kind: file
      path: never.txt
      timeout: 0.5
      hint: Run the step that writes never.txt.
"#;
    course.add_lab("flawed", &[], steps);
    let (ok, out) = follow(&course, &["flawed"]);
    assert!(!ok, "{out}");
    let weak = out.split("FAIL  flawed").nth(1).expect("a failure");
    assert!(weak.contains("already passed before the step ran"), "{out}");
    assert!(weak.contains("rerunnable: true"), "{out}");
    assert!(
        step_line(&out, "flawed", "broken").contains("exited with code 3"),
        "{out}"
    );
    assert!(out.contains("| something went wrong"), "{out}");
    let late = step_line(&out, "flawed", "late");
    assert!(
        late.starts_with("FAIL") && late.contains("never.txt does not exist"),
        "{out}"
    );
    assert!(
        out.contains("| hint: Run the step that writes never.txt."),
        "{out}"
    );
    assert!(
        out.contains("follow: 1 passed, 3 failed, 0 skipped"),
        "{out}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn follow_names_a_port_left_bound_after_reset_and_its_process() {
    let course = CourseTest::new();
    let port = free_port();
    // The server leaves the step's process group (setsid): the reset cannot
    // stop it, and the follower must say so.
    let steps = format!(
        r#"  - id: escape
    title: Start a server that escapes
    run: setsid python3 -m http.server {port} --bind 127.0.0.1 > /dev/null 2>&1 < /dev/null &
    check:
      kind: tcp
      port: {port}
      timeout: 5
"#
    );
    course.add_lab("leaky", &[port], &steps);
    let (ok, out) = follow(&course, &["leaky"]);
    let reset = out
        .lines()
        .skip_while(|l| !l.contains("(reset)"))
        .collect::<Vec<_>>()
        .join("\n");
    // Stop the escaped server before asserting, whatever happened.
    if let Some(pid) = reset
        .split(" by pid ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
    {
        let _ = Command::new("kill").arg(pid).status();
    }
    assert!(!ok, "{out}");
    assert!(reset.starts_with("FAIL"), "{out}");
    assert!(
        reset.contains(&format!(
            "port {port} is still bound after the reset by pid"
        )) && reset.contains("http.server"),
        "{out}"
    );
}

#[test]
fn follow_refuses_to_start_when_a_port_is_taken_and_names_an_unknown_lab() {
    let course = CourseTest::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    course.add_lab(
        "busy",
        &[port],
        "  - id: one\n    title: One\n    run: \"true\"\n",
    );
    let (ok, out) = follow(&course, &["busy"]);
    assert!(!ok, "{out}");
    assert!(
        step_line(&out, "busy", "(ports)").starts_with("FAIL"),
        "{out}"
    );
    assert!(
        out.contains(&format!("port {port} (a web server) is in use")),
        "{out}"
    );
    let (ok, out) = follow(&course, &["bussy"]);
    assert!(!ok);
    assert!(
        out.contains("unknown lab `bussy`") && out.contains("did you mean `busy`?"),
        "{out}"
    );
}
