//! `course serve` on a copy of the fixture course: the site, the sidecar
//! under `/api` on the same origin, rebuilds on change that open pages
//! reload from, a layer of the changed pages first and the whole site
//! behind it, byte for byte what a full build writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{CourseTest, http_get, http_post, next_text};
use course::serve::ServeBuild;
use futures_util::StreamExt;

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_rebuilds_on_change_and_reloads_pages() {
    let course = CourseTest::new();
    let workspace = course.path("workspace");
    let server = course.serve().await;
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
    course.edit("book/src/plain.md", |t| {
        t + "\nA line added while serving: MARKER-4711.\n"
    });
    let msg = next_text(&mut ws).await;
    assert!(msg.contains("\"reload\""), "{msg}");
    let (_, page) = tokio::task::spawn_blocking(move || http_get(addr, "/plain.html"))
        .await
        .expect("get");
    assert!(page.contains("MARKER-4711"), "the page did not change");

    // A broken edit: the error reaches the page; the last good site stays up.
    course.edit("book/src/part/lab.md", |t| {
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
    course.edit("book/src/part/lab.md", |t| {
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
fn full_build(course: &CourseTest) -> BTreeMap<PathBuf, Vec<u8>> {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = dir.path().join("site");
    course::serve::build_for_serve(&course.project(), &site, ServeBuild::Full, None)
        .expect("full build");
    site_files(&site)
}

/// Asserts the served site is the full build's, file for file, but for
/// the files in `stale` (which must exist in both).
fn assert_serves_full_build(
    state: &course::serve::ServeState,
    course: &CourseTest,
    stale: &[&str],
    when: &str,
) {
    let mut served = served_files(state);
    let mut full = full_build(course);
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
    let course = CourseTest::new();
    let server = course.serve().await;
    let state = server.state.clone();
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/__course/ws", server.addr))
        .await
        .expect("websocket");

    // A chapter's text: one layer with that page (and index.html, which
    // repeats the first chapter) over the site.
    course.edit("book/src/plain.md", |t| t + "\nMARKER-LAYER-1\n");
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
        &course,
        &["print.html", "searchindex.js"],
        "after a chapter edit",
    );
    wait_for_search_index(&state).await;
    assert_eq!(
        state.layers().len(),
        1,
        "the full build replaced the layers"
    );
    assert_serves_full_build(&state, &course, &[], "after the full build");
    let index = std::fs::read_to_string(state.resolve(Path::new("searchindex.js")).expect("index"))
        .expect("read");
    assert!(index.contains("MARKER-LAYER-1"), "the edit is searchable");

    // A file saved unchanged: a rebuild runs, but nothing changed, so open
    // pages are not reloaded.
    let before = state.generation();
    course.edit("book/src/plain.md", |t| t);
    let deadline = Instant::now() + Duration::from_secs(30);
    while state.generation() == before || state.indexed() != state.generation() {
        assert!(Instant::now() < deadline, "no rebuild within 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(state.layers().len(), 1, "no layer for an unchanged save");
    let quiet = tokio::time::timeout(Duration::from_millis(500), ws.next()).await;
    assert!(quiet.is_err(), "no reload for an unchanged save: {quiet:?}");

    // A lab's file: the lab's page and its changed files (zip, file page).
    course.edit("labs/demo/app/main.py", |t| t + "\n# MARKER-LAYER-2\n");
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
        &course,
        &["print.html", "searchindex.js"],
        "after a lab edit",
    );
    wait_for_search_index(&state).await;

    // A step's transcript: the page that quotes it, and no other.
    course.edit("book/transcripts/demo/install.txt", |t| {
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
        &course,
        &["print.html", "searchindex.js"],
        "after a transcript edit",
    );

    // The outline: every page is rendered again (the sidebar, numbering
    // and neighbours change), with the last good search index.
    course.edit("book/src/SUMMARY.md", |t| {
        t.replace("[Plain chapter]", "[A plain chapter]")
    });
    assert!(next_text(&mut ws).await.contains("\"reload\""));
    assert_eq!(state.layers().len(), 1, "a whole site");
    assert_serves_full_build(
        &state,
        &course,
        &["searchindex.js"],
        "after an outline edit",
    );
    wait_for_search_index(&state).await;
    assert_serves_full_build(&state, &course, &[], "after the last full build");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_dropped_without_stop_removes_its_build_folders() {
    let course = CourseTest::new();
    let server = course.serve().await;
    let site = server.state.layers().remove(0);
    assert!(site.join("index.html").is_file());
    drop(server);
    assert!(!site.exists(), "{} is left behind", site.display());
}
