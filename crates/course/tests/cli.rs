//! The `course` CLI against a copy of the fixture course: check finds every
//! static problem with its place, export copies exactly the lab, serve
//! rebuilds on change and tells open pages to reload.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use course::project::Project;
use course::serve::ServeBuild;
use futures_util::StreamExt;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../preprocessors/mdbook-labs/tests/fixtures/basic")
}

/// A copy of the fixture course in a temp dir.
fn course_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixture(), tmp.path());
    tmp
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from).sort_by_file_name() {
        let entry = entry.expect("entry");
        let rel = entry.path().strip_prefix(from).expect("inside");
        if rel.starts_with("book/src/labs") || rel.starts_with("book/book") {
            continue;
        }
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn project(root: &Path) -> Project {
    Project::locate(Some(&root.join("book"))).expect("project")
}

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path).expect("read");
    std::fs::write(path, f(text)).expect("write");
}

fn messages(root: &Path) -> Vec<String> {
    course::check::check(&project(root))
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn course_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_course"))
}

#[test]
fn check_is_clean_on_the_fixture() {
    let tmp = course_copy();
    assert_eq!(messages(tmp.path()), Vec::<String>::new());
    let out = course_bin()
        .arg("--book")
        .arg(tmp.path().join("book"))
        .arg("check")
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("no problems"));
}

#[test]
fn check_reports_an_unknown_lab_with_the_nearest_id() {
    let tmp = course_copy();
    edit(&tmp.path().join("book/src/part/lab.md"), |t| {
        t.replace("{{#lab demo}}", "{{#lab dmeo}}")
    });
    let msgs = messages(tmp.path());
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
    let tmp = course_copy();
    edit(&tmp.path().join("book/src/part/index.md"), |t| {
        t + "\n{{#lab demo}}\n"
    });
    let msgs = messages(tmp.path());
    assert!(
        msgs.iter()
            .any(|m| m.contains("lab `demo` is embedded 2 times")),
        "{msgs:#?}"
    );
}

#[test]
fn check_reports_broken_links_and_anchors() {
    let tmp = course_copy();
    edit(&tmp.path().join("book/src/plain.md"), |t| {
        t + "\n[gone](missing.md) and [bad anchor](part/lab.md#the-lb) and [self](#nowhere)\n"
    });
    let msgs = messages(tmp.path());
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
    let tmp = course_copy();
    edit(&tmp.path().join("book/src/output.md"), |t| {
        t + "\n{{#lab-output dmeo install}}\n{{#lab-output demo instal}}\n{{#lab-output demo serve}}\n{{#lab-output demo install tail=x}}\n"
    });
    let msgs = messages(tmp.path());
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
    let tmp = course_copy();
    edit(&tmp.path().join("labs/demo/lab.yaml"), |t| {
        t.replace("run: echo installing", "run: echo installing everything")
    });
    let msgs = messages(tmp.path());
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
    let tmp = course_copy();
    std::fs::write(
        tmp.path().join("book/transcripts/demo/install.txt"),
        "installing\n",
    )
    .expect("write");
    let msgs = messages(tmp.path());
    assert!(
        msgs.iter().any(|m| m.contains("output.md:5:1: error: ")
            && m.contains("transcripts/demo/install.txt:1: not a transcript")),
        "{msgs:#?}"
    );
}

#[test]
fn check_reports_transcripts_of_steps_that_no_longer_exist() {
    let tmp = course_copy();
    let transcripts = tmp.path().join("book/transcripts");
    std::fs::write(
        transcripts.join("demo/gone.txt"),
        "# course lab follow: demo gone run-sha256=0\n",
    )
    .expect("write");
    std::fs::create_dir_all(transcripts.join("old-lab")).expect("mkdir");
    std::fs::write(transcripts.join("old-lab/train.txt"), "x\n").expect("write");
    // Not a transcript: left alone.
    std::fs::write(transcripts.join("demo/notes.md"), "x\n").expect("write");
    let msgs = messages(tmp.path());
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
    let tmp = course_copy();
    let other = tmp.path().join("labs/other");
    std::fs::create_dir_all(&other).expect("mkdir");
    std::fs::write(other.join("app.py"), "x").expect("write");
    std::fs::write(
        other.join("lab.yaml"),
        "id: other\ntitle: Other\nmodule: 4\nsummary: S.\nminutes: 5\nruns_with: [demo]\nports:\n  - port: 8000\n    service: another API\nfiles:\n  - path: app.py\n",
    )
    .expect("write");
    edit(&tmp.path().join("book/src/part/index.md"), |t| {
        t + "\n{{#lab other}}\n"
    });
    let msgs = messages(tmp.path());
    assert!(
        msgs.iter().any(|m| m.contains("other/lab.yaml:8: error: port 8000 (another API) is also bound by lab `demo` (the demo API)")),
        "{msgs:#?}"
    );
    assert_eq!(msgs.len(), 1, "{msgs:#?}");
}

#[test]
fn check_reports_pins_without_their_reason_or_with_a_bad_date() {
    let tmp = course_copy();
    let demo = tmp.path().join("labs/demo");
    edit(&demo.join("Dockerfile"), |t| {
        t.replace(
            "# pin (checked 2026-12-06): Debian 13 stable with Python 3.13\n",
            "",
        )
    });
    edit(&demo.join("pyproject.toml"), |t| {
        t.replace("(checked 2026-12-06): 0.30", "(checked 2026-02-30): 0.30")
            .replace(
                "(checked 2026-12-06): the oldest",
                "(checked 2999-01-01): the oldest",
            )
    });
    let msgs = messages(tmp.path());
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
    let tmp = course_copy();
    edit(&tmp.path().join("labs/demo/lab.yaml"), |t| {
        t.replace("kind: file", "kind: fiel")
    });
    let out = course_bin()
        .arg("--book")
        .arg(tmp.path().join("book"))
        .arg("check")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("labs/demo/lab.yaml:38:13: error: unknown check kind `fiel`, expected one of http, tcp, file, command"), "{stderr}");
    assert!(
        stderr.contains("course check: 1 problem(s)") || stderr.contains("problem(s)"),
        "{stderr}"
    );
}

#[test]
fn lab_test_of_one_lab_is_not_stopped_by_another_labs_broken_manifest() {
    let tmp = course_copy();
    let tiny = tmp.path().join("labs/tiny");
    std::fs::create_dir_all(&tiny).expect("mkdir");
    std::fs::write(tiny.join("notes.txt"), "nothing to check\n").expect("write");
    std::fs::write(
        tiny.join("lab.yaml"),
        "id: tiny\ntitle: Tiny\nmodule: 1\nsummary: A lab with one text file.\nminutes: 1\nfiles:\n  - path: notes.txt\n",
    )
    .expect("write");
    // A lab being written: its folder exists, its manifest does not yet.
    std::fs::create_dir_all(tmp.path().join("labs/wip")).expect("mkdir");
    let run = |id: &str| {
        course_bin()
            .arg("--book")
            .arg(tmp.path().join("book"))
            .args(["lab", "test", id])
            .output()
            .expect("run")
    };
    let out = run("tiny");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("note: 1 problem(s) in other labs' manifests"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("labs: 0 passed, 0 failed"));
    let out = run("wip");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("labs/wip/lab.yaml"), "{stderr}");
    assert!(stderr.contains("1 lab manifest problem(s)"), "{stderr}");
}

#[test]
fn export_copies_the_lab_and_refuses_to_overwrite() {
    let tmp = course_copy();
    let dest = tmp.path().join("mine");
    let out = course_bin()
        .arg("--book")
        .arg(tmp.path().join("book"))
        .args(["lab", "export", "demo"])
        .arg(&dest)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
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
    let out = course_bin()
        .arg("--book")
        .arg(tmp.path().join("book"))
        .args(["lab", "export", "demo"])
        .arg(&dest)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("already exist") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(dest.join("Dockerfile")).expect("read"),
        "mine",
        "nothing may be overwritten"
    );
    let out = course_bin()
        .arg("--book")
        .arg(tmp.path().join("book"))
        .args(["lab", "export", "demo", "--force"])
        .arg(&dest)
        .output()
        .expect("run");
    assert!(out.status.success());
    assert_ne!(
        std::fs::read_to_string(dest.join("Dockerfile")).expect("read"),
        "mine"
    );
    let out = course_bin()
        .arg("--book")
        .arg(tmp.path().join("book"))
        .args(["lab", "export", "dmeo"])
        .arg(&dest)
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `demo`?"));
}

#[test]
fn a_failed_build_keeps_the_previous_site() {
    let tmp = course_copy();
    let site = tmp.path().join("site");
    let out = course_bin()
        .arg("--book")
        .arg(tmp.path().join("book"))
        .arg("build")
        .arg("--dest")
        .arg(&site)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(site.join("labs/demo.zip").is_file());
    edit(&tmp.path().join("book/src/part/lab.md"), |t| {
        t.replace("{{#lab demo}}", "{{#lab}}")
    });
    let out = course_bin()
        .arg("--book")
        .arg(tmp.path().join("book"))
        .arg("build")
        .arg("--dest")
        .arg(&site)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("part/lab.md:7:1: error: `{{#lab}}` needs a lab id"),
        "{stderr}"
    );
    assert!(
        site.join("part/lab.html").is_file() && site.join("labs/demo.zip").is_file(),
        "the old site must survive"
    );
}

// ------------------------------------------------------------------- serve

fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response)
}

fn http_post(addr: SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(stream, "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n").expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_rebuilds_on_change_and_reloads_pages() {
    let tmp = course_copy();
    let workspace = tmp.path().join("workspace");
    let server = course::serve::start(
        project(tmp.path()),
        "127.0.0.1:0".parse().expect("addr"),
        Some(workspace.clone()),
    )
    .await
    .expect("start");
    let addr = server.addr;

    // The sidecar answers on the same origin, under /api.
    let (status, body) = tokio::task::spawn_blocking(move || http_get(addr, "/api/health"))
        .await
        .expect("get");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"ok\""), "{body}");
    let (_, labs) = tokio::task::spawn_blocking(move || http_get(addr, "/api/labs"))
        .await
        .expect("get");
    assert!(labs.contains("\"demo\""), "{labs}");
    let (status, body) =
        tokio::task::spawn_blocking(move || http_get(addr, "/api/labs/demo/status"))
            .await
            .expect("get");
    assert_eq!(status, 200, "{body}");
    let (status, _) =
        tokio::task::spawn_blocking(move || http_post(addr, "/api/labs/demo/export", None))
            .await
            .expect("post");
    assert_eq!(status, 401, "exporting needs the token");
    let token = server.sidecar.token().to_owned();
    let (status, body) =
        tokio::task::spawn_blocking(move || http_post(addr, "/api/labs/demo/export", Some(&token)))
            .await
            .expect("post");
    assert_eq!(status, 201, "{body}");
    assert!(
        workspace.join("demo/app/main.py").is_file(),
        "the lab was copied into the workspace"
    );

    let (status, page) = tokio::task::spawn_blocking(move || http_get(addr, "/part/lab.html"))
        .await
        .expect("get");
    assert_eq!(status, 200);
    assert!(page.contains("class=\"labs-lab\""), "the lab is rendered");
    assert!(
        page.contains("/__course/ws"),
        "the reload script is injected"
    );
    // A missing page: mdBook's 404 page, its links and assets from the
    // root where `serve` serves (not the hosted book's sub-path).
    let (status, page) = tokio::task::spawn_blocking(move || http_get(addr, "/no/such.html"))
        .await
        .expect("get");
    assert_eq!(status, 404);
    assert!(page.contains("<base href=\"/\">"), "{page}");
    let (status, _) = tokio::task::spawn_blocking(move || http_get(addr, "/../../etc/passwd"))
        .await
        .expect("get");
    assert!(
        status == 400 || status == 404,
        "traversal must fail, got {status}"
    );

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/__course/ws"))
        .await
        .expect("websocket");

    // An edit: the page changes and a reload message arrives.
    edit(&tmp.path().join("book/src/plain.md"), |t| {
        t + "\nA line added while serving: MARKER-4711.\n"
    });
    let msg = next_text(&mut ws).await;
    assert!(msg.contains("\"reload\""), "{msg}");
    let (_, page) = tokio::task::spawn_blocking(move || http_get(addr, "/plain.html"))
        .await
        .expect("get");
    assert!(page.contains("MARKER-4711"), "the page did not change");

    // A broken edit: the error reaches the page; the last good site stays up.
    edit(&tmp.path().join("book/src/part/lab.md"), |t| {
        t.replace("{{#lab demo}}", "{{#lab nope}}")
    });
    let msg = next_text(&mut ws).await;
    assert!(
        msg.contains("\"error\"") && msg.contains("unknown lab `nope`"),
        "{msg}"
    );
    assert!(
        server
            .state
            .error()
            .is_some_and(|e| e.contains("unknown lab `nope`"))
    );
    let (status, page) = tokio::task::spawn_blocking(move || http_get(addr, "/part/lab.html"))
        .await
        .expect("get");
    assert_eq!(status, 200);
    assert!(
        page.contains("class=\"labs-lab\""),
        "the last good page is still served"
    );

    // Fixing it reloads again.
    edit(&tmp.path().join("book/src/part/lab.md"), |t| {
        t.replace("{{#lab nope}}", "{{#lab demo}}")
    });
    let msg = next_text(&mut ws).await;
    assert!(msg.contains("\"reload\""), "{msg}");
    assert!(server.state.error().is_none());
    server.stop().await;
}

/// Every file the server would serve, by path: the layers merged, the
/// last one winning.
fn served_files(state: &course::serve::ServeState) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for layer in state.layers() {
        files.extend(site_files(&layer));
    }
    files
}

fn site_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.expect("entry"))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).expect("inside").to_path_buf();
            (rel, std::fs::read(e.path()).expect("read"))
        })
        .collect()
}

/// What a full serve build of the sources as they are now writes.
fn full_build(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = dir.path().join("site");
    course::serve::build_for_serve(&project(root), &site, ServeBuild::Full, None)
        .expect("full build");
    site_files(&site)
}

/// Asserts the served site is the full build's, file for file, but for
/// the files in `stale` (which must exist in both).
fn assert_serves_full_build(
    state: &course::serve::ServeState,
    root: &Path,
    stale: &[&str],
    when: &str,
) {
    let mut served = served_files(state);
    let mut full = full_build(root);
    for name in stale {
        let path = PathBuf::from(name);
        assert!(served.remove(&path).is_some(), "{when}: {name} is served");
        assert!(full.remove(&path).is_some(), "{when}: {name} is built");
    }
    let served_names: Vec<_> = served.keys().collect();
    let full_names: Vec<_> = full.keys().collect();
    assert_eq!(served_names, full_names, "{when}: the same files");
    for (path, bytes) in &full {
        assert!(
            served.get(path) == Some(bytes),
            "{when}: {} differs from a full build",
            path.display()
        );
    }
}

async fn wait_for_search_index(state: &course::serve::ServeState) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while state.indexed() != state.generation() {
        assert!(Instant::now() < deadline, "no full build within 60 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_renders_only_changed_pages_then_the_whole_site_behind() {
    let tmp = course_copy();
    let server = course::serve::start(
        project(tmp.path()),
        "127.0.0.1:0".parse().expect("addr"),
        Some(tmp.path().join("workspace")),
    )
    .await
    .expect("start");
    let state = server.state.clone();
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/__course/ws", server.addr))
        .await
        .expect("websocket");
    let root = tmp.path();

    // A chapter's text: one layer with that page (and index.html, which
    // repeats the first chapter) over the site.
    edit(&root.join("book/src/plain.md"), |t| {
        t + "\nMARKER-LAYER-1\n"
    });
    assert!(next_text(&mut ws).await.contains("\"reload\""));
    let layers = state.layers();
    assert_eq!(layers.len(), 2, "a layer over the site: {layers:?}");
    let layer: Vec<_> = site_files(&layers[1]).into_keys().collect();
    assert_eq!(
        layer,
        [PathBuf::from("index.html"), PathBuf::from("plain.html")],
        "only the changed pages are written"
    );
    // Until the full build behind it, print page and search index are old.
    assert_serves_full_build(
        &state,
        root,
        &["print.html", "searchindex.js"],
        "after a chapter edit",
    );
    wait_for_search_index(&state).await;
    assert_eq!(
        state.layers().len(),
        1,
        "the full build replaced the layers"
    );
    assert_serves_full_build(&state, root, &[], "after the full build");
    let index = std::fs::read_to_string(state.resolve(Path::new("searchindex.js")).expect("index"))
        .expect("read");
    assert!(index.contains("MARKER-LAYER-1"), "the edit is searchable");

    // A file saved unchanged: a rebuild runs, but nothing changed, so open
    // pages are not reloaded.
    let before = state.generation();
    edit(&root.join("book/src/plain.md"), |t| t);
    let deadline = Instant::now() + Duration::from_secs(30);
    while state.generation() == before || state.indexed() != state.generation() {
        assert!(Instant::now() < deadline, "no rebuild within 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(state.layers().len(), 1, "no layer for an unchanged save");
    let quiet = tokio::time::timeout(Duration::from_millis(500), ws.next()).await;
    assert!(quiet.is_err(), "no reload for an unchanged save: {quiet:?}");

    // A lab's file: the lab's page and its changed files (zip, file page).
    edit(&root.join("labs/demo/app/main.py"), |t| {
        t + "\n# MARKER-LAYER-2\n"
    });
    assert!(next_text(&mut ws).await.contains("\"reload\""));
    let layers = state.layers();
    assert_eq!(layers.len(), 2, "{layers:?}");
    let layer: Vec<_> = site_files(&layers[1]).into_keys().collect();
    assert!(
        layer.contains(&PathBuf::from("part/lab.html"))
            && layer.contains(&PathBuf::from("labs/demo.zip"))
            && !layer.contains(&PathBuf::from("plain.html")),
        "{layer:?}"
    );
    assert_serves_full_build(
        &state,
        root,
        &["print.html", "searchindex.js"],
        "after a lab edit",
    );
    wait_for_search_index(&state).await;

    // A step's transcript: the page that quotes it, and no other.
    edit(&root.join("book/transcripts/demo/install.txt"), |t| {
        t + "MARKER-LAYER-3\n"
    });
    assert!(next_text(&mut ws).await.contains("\"reload\""));
    let layers = state.layers();
    assert_eq!(layers.len(), 2, "{layers:?}");
    let layer: Vec<_> = site_files(&layers[1]).into_keys().collect();
    assert_eq!(
        layer,
        [PathBuf::from("output.html")],
        "only the quoting page"
    );
    let page = std::fs::read_to_string(layers[1].join("output.html")).expect("page");
    assert!(
        page.contains("MARKER-LAYER-3"),
        "the new output is on the page"
    );
    assert_serves_full_build(
        &state,
        root,
        &["print.html", "searchindex.js"],
        "after a transcript edit",
    );

    // The outline: every page is rendered again (the sidebar, numbering
    // and neighbours change), with the last good search index.
    edit(&root.join("book/src/SUMMARY.md"), |t| {
        t.replace("[Plain chapter]", "[A plain chapter]")
    });
    assert!(next_text(&mut ws).await.contains("\"reload\""));
    assert_eq!(state.layers().len(), 1, "a whole site");
    assert_serves_full_build(&state, root, &["searchindex.js"], "after an outline edit");
    wait_for_search_index(&state).await;
    assert_serves_full_build(&state, root, &[], "after the last full build");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_dropped_without_stop_removes_its_build_folders() {
    let tmp = course_copy();
    let server = course::serve::start(
        project(tmp.path()),
        "127.0.0.1:0".parse().expect("addr"),
        Some(tmp.path().join("workspace")),
    )
    .await
    .expect("start");
    let site = server.state.layers().remove(0);
    assert!(site.join("index.html").is_file());
    drop(server);
    assert!(!site.exists(), "{} is left behind", site.display());
}

async fn next_text<S>(ws: &mut S) -> String
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t)))) => return t.to_string(),
            Ok(Some(Ok(_))) => continue,
            Ok(other) => panic!("websocket ended: {other:?}"),
            Err(_) => panic!("no message within 30 s"),
        }
    }
}

// ------------------------------------------------------------ lab follow

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Adds lab `id` with `steps` (and a `notes.txt`) to the course at `root`.
fn add_lab(root: &Path, id: &str, ports: &[u16], steps: &str) {
    let dir = root.join("labs").join(id);
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("notes.txt"), "notes\n").expect("write");
    let mut yaml =
        format!("id: {id}\ntitle: Lab {id}\nmodule: 1\nsummary: A lab to follow.\nminutes: 1\n");
    if !ports.is_empty() {
        yaml.push_str("ports:\n");
        for p in ports {
            yaml.push_str(&format!("  - port: {p}\n    service: a web server\n"));
        }
    }
    yaml.push_str("files:\n  - path: notes.txt\nsteps:\n");
    yaml.push_str(steps);
    std::fs::write(dir.join("lab.yaml"), yaml).expect("write");
}

fn follow(root: &Path, args: &[&str]) -> (bool, String) {
    let out = course_bin()
        .arg("--book")
        .arg(root.join("book"))
        .args(["lab", "follow"])
        .args(args)
        .env_remove("CI")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.success(), format!("{stdout}{stderr}"))
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
    let tmp = course_copy();
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
    add_lab(tmp.path(), "walk", &[port], &steps);
    let (ok, out) = follow(tmp.path(), &["walk", "--record"]);
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
    let t = std::fs::read_to_string(tmp.path().join("book/transcripts/walk/make.txt"))
        .expect("transcript");
    assert!(
        t.starts_with("# course lab follow: walk make run-sha256="),
        "{t}"
    );
    assert!(t.ends_with("made in ~/mlops-course/labs/walk\n"), "{t}");
}

#[test]
fn follow_fails_a_check_that_passes_before_its_step_and_a_failing_command() {
    let tmp = course_copy();
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
    add_lab(tmp.path(), "flawed", &[], steps);
    let (ok, out) = follow(tmp.path(), &["flawed"]);
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
    let tmp = course_copy();
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
    add_lab(tmp.path(), "leaky", &[port], &steps);
    let (ok, out) = follow(tmp.path(), &["leaky"]);
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
    let tmp = course_copy();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    add_lab(
        tmp.path(),
        "busy",
        &[port],
        "  - id: one\n    title: One\n    run: \"true\"\n",
    );
    let (ok, out) = follow(tmp.path(), &["busy"]);
    assert!(!ok, "{out}");
    assert!(
        step_line(&out, "busy", "(ports)").starts_with("FAIL"),
        "{out}"
    );
    assert!(
        out.contains(&format!("port {port} (a web server) is in use")),
        "{out}"
    );
    let (ok, out) = follow(tmp.path(), &["bussy"]);
    assert!(!ok);
    assert!(
        out.contains("unknown lab `bussy`") && out.contains("did you mean `busy`?"),
        "{out}"
    );
}

/// The processes whose command line is exactly `words` (read from /proc).
#[cfg(target_os = "linux")]
fn processes_running(words: &[&str]) -> Vec<u32> {
    let wanted: Vec<u8> = words
        .iter()
        .flat_map(|w| [w.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == wanted))
        .collect()
}

/// `course sidecar` asked to stop with SIGTERM (`kill`, systemd, `docker
/// stop`) stops the steps it started, as it does on Ctrl-C: no process group
/// outlives it.
#[cfg(target_os = "linux")]
#[test]
fn sidecar_stopped_by_sigterm_stops_the_steps_it_started() {
    use std::io::BufRead;
    let tmp = course_copy();
    let root = tmp.path();
    // A sleep no other process runs: its length is this test's own.
    let secs = (3000 + std::process::id() % 5000).to_string();
    add_lab(
        root,
        "stopme",
        &[],
        &format!("  - id: wait\n    title: Wait\n    run: exec sleep {secs}\n    service: true\n"),
    );
    let port = free_port();
    /// Stops the sidecar should the test fail half way.
    struct Stopped(std::process::Child);
    impl Drop for Stopped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut sidecar = Stopped(
        course_bin()
            .args(["--book", &root.join("book").display().to_string()])
            .args(["sidecar", "--port", &port.to_string()])
            .args(["--workspace", &root.join("work").display().to_string()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("course sidecar"),
    );
    let child = &mut sidecar.0;
    // Read all it prints (a closed pipe would fail its next line), and
    // take the token from the banner's link.
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let Some((_, t)) = line.split_once("#course-token=") {
                let _ = tx.send(t.trim().to_owned());
            }
        }
    });
    let token = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the banner's link carries the token");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let (status, body) = http_post(addr, "/api/labs/stopme/export", Some(&token));
    assert!((200..300).contains(&status), "{body}");
    let (status, body) = http_post(addr, "/api/labs/stopme/steps/wait/run", Some(&token));
    assert!((200..300).contains(&status), "{body}");
    let sleep = ["sleep", secs.as_str()];
    let deadline = Instant::now() + Duration::from_secs(10);
    while processes_running(&sleep).is_empty() {
        assert!(Instant::now() < deadline, "the step never started");
        std::thread::sleep(Duration::from_millis(50));
    }

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("course sidecar did not stop within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "a clean stop: {exit}");
    assert_eq!(
        processes_running(&sleep),
        Vec::<u32>::new(),
        "the step's process outlived the sidecar"
    );
}
