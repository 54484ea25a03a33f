//! Known failures: a deliberately failing step, or check, gets the
//! troubleshooting entry it matches (`known`), and a failure that matches
//! nothing gets no field at all.

mod support;

use std::net::TcpListener;

use axum::http::StatusCode;
use course_labs::troubleshoot::{Entry, parse_page};
use course_sidecar::{AppState, Settings};
use serde_json::Value;
use support::*;

const MODULE_PAGE: &str = r#"# Troubleshooting

### The tool is not installed
{{#symptom output="no-such-tool-[0-9]+: (command )?not found" exit=127 from="verify/failures/02/tool.txt"}}

Install the tool. Then run the step again.

### Port PORT is taken
{{#symptom output="Address already in use" port=PORT from="verify/failures/02/port.txt"}}

Another program listens on PORT. Stop it, or run the lab on another port.

### The server stopped at once
{{#symptom output="server stopped: port taken" from="verify/failures/02/server.txt"}}

A service that ends by itself failed, even with code 0.

### The app does not greet
{{#symptom check="does not contain" from="verify/failures/02/greet.txt"}}

Add the greeting to `app.py`.
"#;

const OTHER_MODULE_PAGE: &str = r#"# Troubleshooting

### Not this module's
{{#symptom exit=3 from="verify/failures/05/three.txt"}}

This entry belongs to module 5.
"#;

const APPENDIX: &str = r#"# Index

### Any step that exits with 3
{{#symptom exit=3 from="verify/failures/appendix/three.txt"}}

Read the step's output from the top.
"#;

fn steps(port: u16) -> String {
    format!(
        r#"
  - id: tool
    title: A tool that is missing
    run: no-such-tool-42 --version
  - id: bind
    title: Bind a port that is taken
    run: python3 -c "import socket; socket.socket().bind(('127.0.0.1', {port}))"
  - id: three
    title: Exit 3
    run: echo three; exit 3
  - id: other
    title: Fail in an unknown way
    run: echo something else; exit 1
  - id: server
    title: A service that stops at once, with code 0
    run: "echo 'server stopped: port taken'"
    service: true
  - id: greet
    title: Greet
    run: "true"
    check:
      kind: file
      path: app.py
      contains: good morning
"#
    )
}

fn entries(port: u16) -> Vec<Entry> {
    let mut all = Vec::new();
    for (page, text) in [
        (
            "02-demo/troubleshooting.md",
            MODULE_PAGE.replace("PORT", &port.to_string()),
        ),
        ("05-other/troubleshooting.md", OTHER_MODULE_PAGE.to_owned()),
        ("appendix/troubleshooting-index.md", APPENDIX.to_owned()),
    ] {
        let (found, problems) = parse_page(page, &text);
        assert!(problems.is_empty(), "{problems:?}");
        all.extend(found);
    }
    all
}

fn state(fx: &Fixture, known: Vec<Entry>) -> AppState {
    let (catalog, problems) = course_labs::load_catalog(&fx.tmp.path().join("labs"));
    assert!(problems.is_empty(), "{problems:#?}");
    AppState::new(
        catalog,
        Settings {
            workspace: fx.workspace(),
            allowed_origins: vec![ORIGIN.to_owned()],
            port: PORT,
            limits: fast(),
            known,
        },
    )
    .expect("state")
}

async fn run(state: &AppState, step: &str) -> Value {
    let r = call(
        state,
        post(&format!("/api/labs/demo/steps/{step}/run"), state.token()),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    output_after_exit(state, "demo", step).await
}

#[tokio::test]
async fn a_failed_step_gets_the_entry_it_matches_and_nothing_else_does() {
    // A port this test holds: a process that is not the lab's.
    let holder = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = holder.local_addr().expect("addr").port();
    let fx = Fixture::new(&[("demo", lab_yaml("demo", &[], &steps(port)))]);
    let state = state(&fx, entries(port));
    export(&state, "demo").await;

    let out = run(&state, "tool").await;
    assert_eq!(out["last_exit"]["code"], 127, "{out}");
    let known = &out["last_exit"]["known"];
    assert_eq!(known["title"], "The tool is not installed", "{out}");
    assert_eq!(known["fix"], "Install the tool. Then run the step again.");
    assert_eq!(
        known["href"],
        "02-demo/troubleshooting.html#the-tool-is-not-installed"
    );
    // The status says the same.
    let s = call(&state, get("/api/labs/demo/status")).await.json;
    assert_eq!(step(&s, "tool")["last_exit"]["known"], *known);

    let out = run(&state, "bind").await;
    assert_eq!(
        out["last_exit"]["known"]["title"],
        format!("Port {port} is taken"),
        "{out}"
    );

    // The module's entries come first; another module's never count.
    let out = run(&state, "three").await;
    assert_eq!(
        out["last_exit"]["known"]["title"], "Any step that exits with 3",
        "{out}"
    );

    // A service that ends by itself failed, whatever its code.
    let out = run(&state, "server").await;
    assert_eq!(out["last_exit"]["code"], 0, "{out}");
    assert_eq!(
        out["last_exit"]["known"]["title"], "The server stopped at once",
        "{out}"
    );

    // No match, no field.
    let out = run(&state, "other").await;
    assert_eq!(out["last_exit"]["code"], 1);
    assert!(out["last_exit"].get("known").is_none(), "{out}");

    // Once the port is free, the same output is not that entry any more.
    drop(holder);
    let out = run(&state, "bind").await;
    assert_eq!(out["last_exit"]["code"], 0, "{out}");
    assert!(out["last_exit"].get("known").is_none(), "{out}");
}

#[tokio::test]
async fn a_failed_check_gets_the_entry_it_matches() {
    let fx = Fixture::new(&[("demo", lab_yaml("demo", &[], &steps(1)))]);
    let state = state(&fx, entries(1));
    export(&state, "demo").await;
    let s = status_until(&state, "demo", |s| {
        step(s, "greet")["check"]["state"] == "fail"
    })
    .await;
    let check = &step(&s, "greet")["check"];
    assert_eq!(check["known"]["title"], "The app does not greet", "{s}");
    assert_eq!(
        check["known"]["href"],
        "02-demo/troubleshooting.html#the-app-does-not-greet"
    );

    // Without entries, the same failure has no `known`.
    let plain = self::state(&fx, Vec::new());
    let s = status_until(&plain, "demo", |s| {
        step(s, "greet")["check"]["state"] == "fail"
    })
    .await;
    assert!(step(&s, "greet")["check"].get("known").is_none(), "{s}");
}

/// Threat model rule 25: only the tail of the output is matched, and a
/// failure that matches nothing gets no field.
#[tokio::test]
async fn tm_known_failures_match_only_the_tail_of_the_output() {
    let steps = r#"
  - id: noisy
    title: A match far back, then 100 KiB of noise
    run: "echo EARLY-MARKER; head -c 102400 /dev/zero | tr '\\0' x | fold -w 100; exit 1"
  - id: late
    title: The same noise, then the match
    run: "head -c 102400 /dev/zero | tr '\\0' x | fold -w 100; echo LATE-MARKER; exit 1"
"#;
    let page = "### Early\n{{#symptom output=\"EARLY-MARKER\" from=\"f\"}}\n\nEarly.\n\n### Late\n{{#symptom output=\"LATE-MARKER\" from=\"g\"}}\n\nLate.\n";
    let (known, problems) = parse_page("02-demo/troubleshooting.md", page);
    assert!(problems.is_empty(), "{problems:?}");
    let fx = Fixture::new(&[("demo", lab_yaml("demo", &[], steps))]);
    let state = state(&fx, known);
    export(&state, "demo").await;
    let out = run(&state, "noisy").await;
    assert_eq!(out["last_exit"]["code"], 1, "{}", out["last_exit"]);
    assert!(
        out["last_exit"].get("known").is_none(),
        "{}",
        out["last_exit"]
    );
    let out = run(&state, "late").await;
    assert_eq!(
        out["last_exit"]["known"]["title"], "Late",
        "{}",
        out["last_exit"]
    );
}
