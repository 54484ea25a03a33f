//! Earned progress (`progress.json` in the workspace) and the help bundle,
//! driven through the API on a real catalog, workspace and steps.

mod support;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::*;

const STEPS: &str = r#"
  - id: hello
    title: Say hello
    run: echo hello
    check:
      kind: file
      path: app.py
      contains: print
  - id: later
    title: Not done yet
    check:
      kind: file
      path: missing.txt
  - id: leak
    title: Print what identifies the learner, then fail
    run: |
      for i in $(seq 1 80); do echo "filler $i"; done
      echo "home: $HOME/mlops-course/labs"
      echo "host: $(cat /proc/sys/kernel/hostname)"
      echo "user: $(id -un)"
      echo "PATH=$PATH"
      echo "token: $(cat token.txt)"
      exit 3
"#;

fn fixture() -> Fixture {
    Fixture::new(&[("earn", lab_yaml("earn", &[], STEPS))])
}

async fn progress(state: &course_sidecar::AppState) -> Value {
    let r = call(
        state,
        request(Method::GET, "/api/progress")
            .header("authorization", format!("Bearer {}", state.token()))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    r.json
}

fn import(token: &str, body: &Value) -> axum::http::Request<Body> {
    request(Method::POST, "/api/progress/import")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

#[tokio::test]
async fn a_passing_check_is_recorded_in_the_workspace_and_only_then() {
    let fx = fixture();
    let state = fx.state(fast());
    assert_eq!(progress(&state).await["entries"], json!([]));
    // Not exported: every check fails, nothing is earned.
    status_until(&state, "earn", |s| {
        step(s, "hello")["check"]["state"] == "fail"
    })
    .await;
    assert_eq!(progress(&state).await["entries"], json!([]));

    export(&state, "earn").await;
    status_until(&state, "earn", |s| {
        step(s, "hello")["check"]["state"] == "pass"
    })
    .await;
    let p = progress(&state).await;
    let entries = p["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{p}");
    assert_eq!(entries[0]["lab"], "earn");
    assert_eq!(entries[0]["step"], "hello");
    assert_eq!(entries[0]["check"]["state"], "pass");
    assert!(entries[0].get("imported").is_none());
    let at = entries[0]["at"].as_str().expect("at");
    assert!(at.len() == 20 && at.ends_with('Z'), "{at}");
    // The file is the same, on disk, in the workspace.
    let on_disk: Value = serde_json::from_str(
        &std::fs::read_to_string(fx.workspace().join("progress.json")).expect("progress.json"),
    )
    .expect("json");
    assert_eq!(on_disk, p);
}

#[tokio::test]
async fn imported_entries_are_marked_and_never_replace_earned_ones() {
    let fx = fixture();
    let state = fx.state(fast());
    export(&state, "earn").await;
    status_until(&state, "earn", |s| {
        step(s, "hello")["check"]["state"] == "pass"
    })
    .await;
    let earned = progress(&state).await["entries"][0].clone();

    let other = json!({"version": 1, "entries": [
        {"lab": "earn", "step": "hello", "at": "2020-01-01T00:00:00Z", "check": {"state": "pass", "message": "elsewhere"}},
        {"lab": "earn", "step": "later", "at": "2020-01-02T00:00:00Z", "check": {"state": "pass", "message": "elsewhere"}},
        {"lab": "nope", "step": "later", "at": "2020-01-02T00:00:00Z", "check": {"state": "pass", "message": "x"}},
        {"lab": "earn", "step": "leak", "at": "2020-01-02T00:00:00Z", "check": {"state": "fail", "message": "x"}}
    ]});
    let r = call(&state, import(state.token(), &other)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json, json!({"imported": 1, "kept": 1, "ignored": 2}));
    let entries = progress(&state).await["entries"].clone();
    assert_eq!(entries[0], earned, "the earned entry stays as it was");
    assert_eq!(entries[1]["step"], "later");
    assert_eq!(entries[1]["imported"], true);
    assert_eq!(entries[1]["at"], "2020-01-02T00:00:00Z");

    // Importing its own export again changes nothing.
    let again = progress(&state).await;
    let r = call(&state, import(state.token(), &again)).await;
    assert_eq!(r.json, json!({"imported": 0, "kept": 2, "ignored": 0}));

    // Not a progress file: 400 saying so, the file untouched.
    let r = call(&state, import(state.token(), &json!({"hello": 1}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json["error"]
            .as_str()
            .unwrap_or_default()
            .contains("not an exported progress file")
    );
    assert_eq!(progress(&state).await, again);
}

#[tokio::test]
async fn a_corrupt_progress_file_is_set_aside_with_a_log_line() {
    let fx = fixture();
    let log = Logs::default();
    let _guard = log.install();
    let state = fx.state(fast());
    std::fs::create_dir_all(fx.workspace()).expect("mkdir");
    std::fs::write(
        fx.workspace().join("progress.json"),
        "{\"version\": 1, \"entr",
    )
    .expect("write");
    assert_eq!(progress(&state).await["entries"], json!([]));
    let aside: Vec<String> = std::fs::read_dir(fx.workspace())
        .expect("read_dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("progress.json.bad-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    let text = log.text();
    assert!(
        text.contains("was set aside as") && text.contains(&aside[0]),
        "{text}"
    );
}

#[tokio::test]
async fn the_help_bundle_shows_the_failure_with_each_identifying_value_redacted() {
    // A declared port this test holds, and a tool the lab requires.
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = held.local_addr().expect("addr").port();
    let yaml = lab_yaml("earn", &[port], STEPS).replacen(
        "minutes: 5\n",
        "minutes: 5\nrequires:\n  - tool: python\n    version: \"3.10\"\n",
        1,
    );
    let fx = Fixture::new(&[("earn", yaml)]);
    let state = fx.state(fast());
    export(&state, "earn").await;
    std::fs::write(fx.copy("earn").join("token.txt"), state.token()).expect("write");
    let r = act(&state, "earn", "leak", "run").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    let out = output_after_exit(&state, "earn", "leak").await;
    // The real values are in the step's real output.
    let raw = lines(&out).join("\n");
    let home = std::env::var("HOME").expect("HOME");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    let host = host.trim();
    let user = String::from_utf8(
        std::process::Command::new("id")
            .arg("-un")
            .output()
            .expect("id")
            .stdout,
    )
    .expect("utf8");
    let user = user.trim();
    let path = std::env::var("PATH").expect("PATH");
    for value in [home.as_str(), host, user, path.as_str(), state.token()] {
        assert!(raw.contains(value), "{value} is not in the step's output");
    }
    status_until(&state, "earn", |s| {
        step(s, "later")["check"]["state"] == "fail"
    })
    .await;

    let r = call(&state, post("/api/labs/earn/help", state.token())).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/plain")
    );
    let bundle = r.json.as_str().expect("text").to_owned();
    assert!(bundle.contains("Lab: earn"), "{bundle}");
    assert!(bundle.contains("Step: leak"), "{bundle}");
    assert!(bundle.contains("later: FAIL"), "{bundle}");
    assert!(bundle.contains(&format!(
        "System: {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )));
    assert!(
        bundle.contains("  python (needs 3.10 or newer): Python 3."),
        "{bundle}"
    );
    assert!(
        bundle.contains(&format!(
            "  {port} (service on {port}): in use by process {} (",
            std::process::id()
        )),
        "{bundle}"
    );
    // The last 50 lines only: 80 fillers and 5 lines, so `filler 35` is the 51st from the end.
    assert!(
        bundle.contains("  filler 36\n") && !bundle.contains("  filler 35\n"),
        "{bundle}"
    );
    assert!(bundle.contains("home: ~/mlops-course/labs"), "{bundle}");
    assert!(bundle.contains("host: <host>"), "{bundle}");
    assert!(bundle.contains("user: <user>"), "{bundle}");
    assert!(bundle.contains("PATH=<redacted>"), "{bundle}");
    assert!(bundle.contains("token: <token>"), "{bundle}");
    assert!(!bundle.contains(state.token()));
    assert!(!bundle.contains(&home));
    assert!(!bundle.contains(&path));
    let words: Vec<&str> = bundle
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .collect();
    assert!(!words.contains(&host), "{host} left in {bundle}");
    assert!(!words.contains(&user), "{user} left in {bundle}");
}
