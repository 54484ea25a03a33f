//! Every endpoint of the sidecar, driven through its router with
//! `oneshot`: what a lab page asks and what it gets back.

mod support;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use course_sidecar::Limits;

use support::*;

#[tokio::test]
async fn health_index_and_unknown_routes() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    let r = call(&state, get("/api/health")).await;
    assert_eq!(
        (r.status, r.json),
        (StatusCode::OK, serde_json::json!({"status": "ok"}))
    );
    let r = call(&state, get("/")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.json
            .as_str()
            .is_some_and(|t| t.contains("course-sidecar"))
    );
    let r = call(&state, get("/api/nope")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.json["error"].is_string(), "{}", r.json);
}

#[tokio::test]
async fn labs_lists_the_catalog() {
    let fx = Fixture::new(&[
        ("alpha", lab_yaml("alpha", &[8000, 5000], DEMO_STEPS)),
        (
            "beta",
            lab_yaml(
                "beta",
                &[],
                "\n  - id: only\n    title: Only\n    text: Read.\n",
            ),
        ),
    ]);
    let r = call(&fx.state(fast()), get("/api/labs")).await;
    assert_eq!(r.status, StatusCode::OK);
    let labs = r.json["labs"].as_array().expect("labs");
    assert_eq!(labs.len(), 2);
    let alpha = &labs[0];
    assert_eq!(alpha["id"], "alpha");
    assert_eq!(alpha["title"], "Lab alpha");
    assert_eq!(alpha["module"], 2);
    assert_eq!(
        alpha["ports"][0],
        serde_json::json!({"port": 8000, "service": "service on 8000"})
    );
    assert_eq!(alpha["ports"][1]["port"], 5000);
    let steps = alpha["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 6);
    assert_eq!(steps[0]["id"], "hello");
    assert_eq!(steps[0]["title"], "Say hello");
    assert_eq!(steps[0]["runnable"], true);
    assert_eq!(steps[5]["runnable"], false);
    assert_eq!(steps[2]["service"], true);
    assert_eq!(labs[1]["id"], "beta");
}

#[tokio::test]
async fn status_reports_checks_ports_export_and_runs() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let busy = held.local_addr().expect("addr").port();
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let fx = Fixture::new(&[("demo", lab_yaml("demo", &[busy, free], DEMO_STEPS))]);
    let state = fx.state(fast());

    // The first answer comes from the empty cache at once.
    let first = call(&state, get("/api/labs/demo/status")).await.json;
    assert_eq!(first["lab"], "demo");
    assert_eq!(first["exported"], false);
    assert_eq!(
        first["copy"],
        fx.workspace().join("demo").display().to_string(),
        "the page shows where the learner's copy goes"
    );
    let hello = step(&first, "hello");
    assert_eq!(hello["check"]["kind"], "file");
    assert!(step(&first, "read")["check"].is_null());

    // Refreshed in the background: fails, with the hint, before export.
    let s = status_until(&state, "demo", |s| !s["checked_at_ms"].is_null()).await;
    let check = &step(&s, "hello")["check"];
    assert_eq!(check["state"], "fail", "{s}");
    assert!(
        check["message"]
            .as_str()
            .is_some_and(|m| m.contains("not exported")),
        "{s}"
    );
    assert_eq!(check["hint"], "Export the lab first.");
    assert!(
        check["checked_at_ms"]
            .as_u64()
            .is_some_and(|t| t > 1_700_000_000_000)
    );
    assert_eq!(s["ports_in_use"], serde_json::json!([busy]));

    export(&state, "demo").await;
    let s = status_until(&state, "demo", |s| {
        step(s, "hello")["check"]["state"] == "pass"
    })
    .await;
    assert_eq!(s["exported"], true);
    assert!(step(&s, "hello")["check"]["hint"].is_null());

    let r = act(&state, "demo", "serve", "run").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    let s = call(&state, get("/api/labs/demo/status")).await.json;
    assert_eq!(s["running"], serde_json::json!(["serve"]));
    assert_eq!(step(&s, "serve")["running"], true);
    assert!(step(&s, "serve")["started_at_ms"].is_u64());
    act(&state, "demo", "serve", "cancel").await;
    let s = status_until(&state, "demo", |s| s["running"] == serde_json::json!([])).await;
    assert_eq!(step(&s, "serve")["last_exit"]["reason"], "cancelled");
    drop(held);
}

#[tokio::test]
async fn checks_run_once_per_interval_however_many_watch_and_poll() {
    // Each run of the check is one connection to this listener: counting
    // them counts the runs, and the check itself changes nothing.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = connections.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stream.is_ok() {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    });
    let steps = format!(
        "
  - id: count
    title: Count probes
    check:
      kind: tcp
      port: {port}
"
    );
    let fx = Fixture::new(&[("demo", lab_yaml("demo", &[], &steps))]);
    let interval = Duration::from_millis(300);
    let state = fx.state(Limits {
        check_interval: interval,
        ..Limits::default()
    });
    export(&state, "demo").await;
    let probes = || connections.load(std::sync::atomic::Ordering::SeqCst);

    let started = Instant::now();
    let mut watchers = Vec::new();
    for _ in 0..20 {
        watchers.push(Events::open(&state, "demo").await.expect("stream"));
    }
    for _ in 0..10 {
        let polls = (0..10).map(|_| call(&state, get("/api/labs/demo/status")));
        futures_util::future::join_all(polls).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let runs = probes();
    let elapsed = started.elapsed();
    let most = (elapsed.as_millis() / interval.as_millis()) as usize + 1;
    assert!(runs >= 2, "the checks ran {runs} times in {elapsed:?}");
    assert!(
        runs <= most,
        "the checks ran {runs} times in {elapsed:?}; at most {most} allowed"
    );

    // Nobody watches or asks any more: the background checks stop.
    drop(watchers);
    tokio::time::sleep(interval * 2).await;
    let after = probes();
    tokio::time::sleep(interval * 4).await;
    assert_eq!(probes(), after, "checks kept running with no watcher");
}

#[tokio::test]
async fn events_stream_status_output_and_exit() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    let mut events = Events::open(&state, "demo").await.expect("stream");
    // A snapshot first, then the first refresh's result.
    let first = events
        .until(|e, d| e == "status" && d["step"] == "hello")
        .await;
    assert_eq!(first["state"], "pending");
    events
        .until(|e, d| e == "status" && d["step"] == "hello" && d["state"] == "fail")
        .await;
    export(&state, "demo").await;
    let pass = events
        .until(|e, d| e == "status" && d["step"] == "hello" && d["state"] == "pass")
        .await;
    assert!(pass["checked_at_ms"].is_u64());

    let r = act(&state, "demo", "hello", "run").await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    events
        .until(|e, d| e == "start" && d["step"] == "hello")
        .await;
    let line = events
        .until(|e, d| e == "output" && d["step"] == "hello")
        .await;
    assert_eq!(
        (line["text"].as_str(), line["stream"].as_str()),
        (Some("hello"), Some("stdout"))
    );
    let exit = events
        .until(|e, d| e == "exit" && d["step"] == "hello")
        .await;
    assert_eq!(exit["code"], 0);
    assert_eq!(exit["reason"], "exited");
}

#[tokio::test]
async fn export_copies_the_lab_and_refuses_to_overwrite() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    let r = call(&state, post("/api/labs/demo/export", state.token())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["written"], serde_json::json!(["app.py"]));
    let copy = fx.copy("demo").join("app.py");
    assert_eq!(
        std::fs::read_to_string(&copy).expect("copied"),
        "print('hello')\n"
    );

    std::fs::write(&copy, "my edits\n").expect("edit");
    let r = call(&state, post("/api/labs/demo/export", state.token())).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.json["error"]
            .as_str()
            .is_some_and(|m| m.contains("force=true")),
        "{}",
        r.json
    );
    assert_eq!(std::fs::read_to_string(&copy).expect("kept"), "my edits\n");

    let r = call(
        &state,
        post("/api/labs/demo/export?force=maybe", state.token()),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = call(
        &state,
        post("/api/labs/demo/export?force=true", state.token()),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        std::fs::read_to_string(&copy).expect("replaced"),
        "print('hello')\n"
    );
}

#[tokio::test]
async fn steps_need_an_exported_lab_and_a_command() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    for uri in ["/api/labs/demo/steps/hello/run", "/api/labs/demo/reset"] {
        let r = call(&state, post(uri, state.token())).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{uri}");
        assert!(
            r.json["error"]
                .as_str()
                .is_some_and(|m| m.contains("export")),
            "{}",
            r.json
        );
    }
    export(&state, "demo").await;
    let r = act(&state, "demo", "read", "run").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.json["error"]
            .as_str()
            .is_some_and(|m| m.contains("no command")),
        "{}",
        r.json
    );
    let r = act(&state, "demo", "hello", "cancel").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "nothing to cancel");
}

#[tokio::test]
async fn a_run_keeps_its_output_and_exit_code() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    export(&state, "demo").await;
    let r = act(&state, "demo", "hello", "run").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    assert_eq!(r.json["started"], true);
    let out = output_after_exit(&state, "demo", "hello").await;
    assert_eq!(lines(&out), ["hello"]);
    assert_eq!(out["last_exit"]["code"], 0);
    assert_eq!(out["last_exit"]["reason"], "exited");
    assert_eq!(out["last_exit"]["phase"], "run");
    let s = call(&state, get("/api/labs/demo/status")).await.json;
    assert_eq!(step(&s, "hello")["last_exit"]["code"], 0);
}

#[tokio::test]
async fn a_running_step_cannot_start_twice_and_services_run_until_cancelled() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    export(&state, "demo").await;
    let run = "/api/labs/demo/steps/serve/run";
    assert_eq!(
        call(&state, post(run, state.token())).await.status,
        StatusCode::ACCEPTED
    );
    let again = call(&state, post(run, state.token())).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again.json["error"]
            .as_str()
            .is_some_and(|m| m.contains("already running"))
    );
    // `timeout: 1` does not apply to a service.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let out = call(&state, get("/api/labs/demo/steps/serve/output"))
        .await
        .json;
    assert_eq!(out["running"], true, "{out}");
    let r = act(&state, "demo", "serve", "cancel").await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let out = output_after_exit(&state, "demo", "serve").await;
    assert_eq!(out["last_exit"]["reason"], "cancelled");
    assert_eq!(out["last_exit"]["signal"], 15, "{out}");
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn cancel_stops_the_whole_process_group() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    export(&state, "demo").await;
    let r = act(&state, "demo", "family", "run").await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let pid_file = fx.copy("demo").join("child.pid");
    let deadline = Instant::now() + WAIT;
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "the step never wrote child.pid");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(alive(pid), "the child should run");
    act(&state, "demo", "family", "cancel").await;
    output_after_exit(&state, "demo", "family").await;
    // A cancel is reported only once everything the step started is gone.
    assert!(
        !alive(pid),
        "the step's child {pid} outlived the cancel's exit event"
    );
}

#[tokio::test]
async fn reset_stops_runs_and_runs_cleanups_last_step_first() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    export(&state, "demo").await;
    assert_eq!(
        act(&state, "demo", "serve", "run").await.status,
        StatusCode::ACCEPTED
    );
    let mut events = Events::open(&state, "demo").await.expect("stream");
    let r = call(&state, post("/api/labs/demo/reset", state.token())).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    assert_eq!(r.json["cleanups"], serde_json::json!(["slow", "hello"]));
    // While it resets, nothing starts.
    let r = act(&state, "demo", "hello", "run").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.json["error"]
            .as_str()
            .is_some_and(|m| m.contains("reset")),
        "{}",
        r.json
    );

    let stopped = events
        .until(|e, d| e == "exit" && d["step"] == "serve")
        .await;
    assert_eq!(stopped["reason"], "cancelled");
    let cleanup = events
        .until(|e, d| e == "exit" && d["step"] == "hello")
        .await;
    assert_eq!(
        (cleanup["phase"].as_str(), cleanup["code"].as_i64()),
        (Some("cleanup"), Some(0))
    );
    events.until(|e, d| e == "reset" && d["done"] == true).await;
    assert_eq!(
        std::fs::read_to_string(fx.copy("demo").join("reset.log")).expect("cleanups ran"),
        "two\none\n"
    );
    let s = call(&state, get("/api/labs/demo/status")).await.json;
    assert_eq!(s["resetting"], false);
    assert_eq!(s["running"], serde_json::json!([]));
}

#[tokio::test]
async fn a_run_reports_the_lab_ports_already_taken() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let busy = held.local_addr().expect("addr").port();
    let fx = Fixture::new(&[("demo", lab_yaml("demo", &[busy], DEMO_STEPS))]);
    let state = fx.state(fast());
    export(&state, "demo").await;
    let r = act(&state, "demo", "hello", "run").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    assert_eq!(
        r.json["ports_in_use"],
        serde_json::json!([busy]),
        "{}",
        r.json
    );
    drop(held);
}

#[tokio::test]
async fn a_session_check_tells_a_right_token_from_a_wrong_one() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    assert_eq!(
        call(&state, post("/api/session", state.token()))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&state, post("/api/session", "not-the-token"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}
