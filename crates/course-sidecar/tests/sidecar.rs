//! The sidecar driven through its router with `oneshot` — every endpoint,
//! and one test per line of THREAT_MODEL.md (named `tm_…`) — and once over
//! a real socket, with a raw TCP client watching the event stream.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use course_sidecar::{AppState, Limits, Settings, app};
use futures_util::StreamExt;
use serde_json::Value;
use tower::ServiceExt;

const PORT: u16 = 4243;
const HOST: &str = "127.0.0.1:4243";
const ORIGIN: &str = "https://course.example.org";
const WAIT: Duration = Duration::from_secs(15);

// ------------------------------------------------------------------ fixtures

/// Steps of the `demo` lab, one per behaviour under test.
const DEMO_STEPS: &str = r#"
  - id: hello
    title: Say hello
    run: echo hello
    check:
      kind: file
      path: app.py
      contains: print
      hint: Export the lab first.
    cleanup: echo one >> reset.log
  - id: slow
    title: Sleep too long
    run: sleep 30
    timeout: 1
    cleanup: sleep 1; echo two >> reset.log
  - id: serve
    title: A service
    run: sleep 30
    service: true
    timeout: 1
  - id: loud
    title: Print a lot
    run: seq 1 5000
  - id: family
    title: Start a child
    run: 'sleep 300 & echo $! > child.pid; wait'
    service: true
  - id: read
    title: Read only
    text: Nothing to run here.
"#;

fn lab_yaml(id: &str, ports: &[u16], steps: &str) -> String {
    let mut y = format!("id: {id}\ntitle: Lab {id}\nmodule: 2\nsummary: A test lab.\nminutes: 5\n");
    if !ports.is_empty() {
        y.push_str("ports:\n");
        for p in ports {
            y.push_str(&format!("  - port: {p}\n    service: service on {p}\n"));
        }
    }
    y.push_str("files:\n  - path: app.py\nsteps:");
    y.push_str(steps);
    y
}

struct Fixture {
    tmp: tempfile::TempDir,
}

impl Fixture {
    /// Labs (id, lab.yaml) in `tmp/labs`, each with an `app.py`; the
    /// learner's workspace is `tmp/work`.
    fn new(labs: &[(&str, String)]) -> Fixture {
        let tmp = tempfile::tempdir().expect("tempdir");
        for (id, yaml) in labs {
            let dir = tmp.path().join("labs").join(id);
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(dir.join("lab.yaml"), yaml).expect("write");
            std::fs::write(dir.join("app.py"), "print('hello')\n").expect("write");
        }
        Fixture { tmp }
    }

    fn demo() -> Fixture {
        Fixture::new(&[("demo", lab_yaml("demo", &[], DEMO_STEPS))])
    }

    fn workspace(&self) -> PathBuf {
        self.tmp.path().join("work")
    }

    fn copy(&self, lab: &str) -> PathBuf {
        self.workspace().join(lab)
    }

    fn state(&self, limits: Limits) -> AppState {
        self.state_with(limits, &[ORIGIN], PORT)
    }

    fn state_with(&self, limits: Limits, origins: &[&str], port: u16) -> AppState {
        let (catalog, problems) = course_labs::load_catalog(&self.tmp.path().join("labs"));
        assert!(problems.is_empty(), "{problems:#?}");
        AppState::new(
            catalog,
            Settings {
                workspace: self.workspace(),
                allowed_origins: origins.iter().map(|o| o.to_string()).collect(),
                port,
                limits,
            },
        )
        .expect("state")
    }
}

fn fast() -> Limits {
    Limits {
        check_interval: Duration::from_millis(100),
        ..Limits::default()
    }
}

// ------------------------------------------------------------------ requests

fn request(method: Method, uri: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("host", HOST)
}

fn get(uri: &str) -> Request<Body> {
    request(Method::GET, uri)
        .body(Body::empty())
        .expect("request")
}

fn post(uri: &str, token: &str) -> Request<Body> {
    request(Method::POST, uri)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request")
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    json: Value,
}

async fn call(state: &AppState, req: Request<Body>) -> Reply {
    let response = app(state.clone()).oneshot(req).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Reply {
        status,
        headers,
        json,
    }
}

async fn export(state: &AppState, lab: &str) {
    let r = call(
        state,
        post(&format!("/api/labs/{lab}/export"), state.token()),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
}

/// Polls the status until `done` holds.
async fn status_until(state: &AppState, lab: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let r = call(state, get(&format!("/api/labs/{lab}/status"))).await;
        assert_eq!(r.status, StatusCode::OK);
        if done(&r.json) {
            return r.json;
        }
        assert!(
            Instant::now() < deadline,
            "status never got there: {}",
            r.json
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls a step's output until its run ended.
async fn output_after_exit(state: &AppState, lab: &str, step: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let r = call(state, get(&format!("/api/labs/{lab}/steps/{step}/output"))).await;
        assert_eq!(r.status, StatusCode::OK);
        if r.json["running"] == false && !r.json["last_exit"].is_null() {
            return r.json;
        }
        assert!(Instant::now() < deadline, "{step} never ended: {}", r.json);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn step<'a>(status: &'a Value, id: &str) -> &'a Value {
    status["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"] == id))
        .unwrap_or_else(|| panic!("no step {id} in {status}"))
}

fn lines(output: &Value) -> Vec<String> {
    output["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| l["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Reads SSE frames from a response body until `want` matches one.
struct Events {
    body: axum::body::BodyDataStream,
    buffer: String,
}

impl Events {
    async fn open(state: &AppState, lab: &str) -> Result<Events, StatusCode> {
        let response = app(state.clone())
            .oneshot(get(&format!("/api/labs/{lab}/events")))
            .await
            .expect("infallible");
        if response.status() != StatusCode::OK {
            return Err(response.status());
        }
        Ok(Events {
            body: response.into_body().into_data_stream(),
            buffer: String::new(),
        })
    }

    async fn until(&mut self, want: impl Fn(&str, &Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let (event, data) = parse_frame(&frame);
                if want(&event, &data) {
                    return data;
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .expect("the awaited event never came")
                .expect("the stream ended")
                .expect("stream error");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

fn parse_frame(frame: &str) -> (String, Value) {
    let mut event = String::new();
    let mut data = String::new();
    for line in frame.lines() {
        if let Some(e) = line.strip_prefix("event:") {
            event = e.trim().to_owned();
        } else if let Some(d) = line.strip_prefix("data:") {
            data.push_str(d.trim_start());
        }
    }
    (event, serde_json::from_str(&data).unwrap_or(Value::Null))
}

/// Captures everything logged on this thread at every level.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || logs.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("logs")).into_owned()
    }
}

// ----------------------------------------------------------------- endpoints

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

    let r = call(
        &state,
        post("/api/labs/demo/steps/serve/run", state.token()),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    let s = call(&state, get("/api/labs/demo/status")).await.json;
    assert_eq!(s["running"], serde_json::json!(["serve"]));
    assert_eq!(step(&s, "serve")["running"], true);
    assert!(step(&s, "serve")["started_at_ms"].is_u64());
    call(
        &state,
        post("/api/labs/demo/steps/serve/cancel", state.token()),
    )
    .await;
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

    let r = call(
        &state,
        post("/api/labs/demo/steps/hello/run", state.token()),
    )
    .await;
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
    let r = call(&state, post("/api/labs/demo/steps/read/run", state.token())).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.json["error"]
            .as_str()
            .is_some_and(|m| m.contains("no command")),
        "{}",
        r.json
    );
    let r = call(
        &state,
        post("/api/labs/demo/steps/hello/cancel", state.token()),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "nothing to cancel");
}

#[tokio::test]
async fn a_run_keeps_its_output_and_exit_code() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    export(&state, "demo").await;
    let r = call(
        &state,
        post("/api/labs/demo/steps/hello/run", state.token()),
    )
    .await;
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
    let r = call(
        &state,
        post("/api/labs/demo/steps/serve/cancel", state.token()),
    )
    .await;
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
    let r = call(
        &state,
        post("/api/labs/demo/steps/family/run", state.token()),
    )
    .await;
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
    call(
        &state,
        post("/api/labs/demo/steps/family/cancel", state.token()),
    )
    .await;
    output_after_exit(&state, "demo", "family").await;
    // A cancel is reported only once everything the step started is gone.
    assert!(
        !alive(pid),
        "the step's child {pid} outlived the cancel's exit event"
    );
}

/// A process that exists and is not a zombie waiting to be reaped.
#[cfg(target_os = "linux")]
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

#[tokio::test]
async fn reset_stops_runs_and_runs_cleanups_last_step_first() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    export(&state, "demo").await;
    assert_eq!(
        call(
            &state,
            post("/api/labs/demo/steps/serve/run", state.token())
        )
        .await
        .status,
        StatusCode::ACCEPTED
    );
    let mut events = Events::open(&state, "demo").await.expect("stream");
    let r = call(&state, post("/api/labs/demo/reset", state.token())).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    assert_eq!(r.json["cleanups"], serde_json::json!(["slow", "hello"]));
    // While it resets, nothing starts.
    let r = call(
        &state,
        post("/api/labs/demo/steps/hello/run", state.token()),
    )
    .await;
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

// ------------------------------------------------------------- threat model

#[tokio::test]
async fn tm_loopback_by_default_and_a_warning_otherwise() {
    assert!(course_sidecar::default_addr().ip().is_loopback());
    let logs = Logs::default();
    let _guard = logs.install();
    let loopback = course_sidecar::bind("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("bind");
    assert!(loopback.local_addr().expect("addr").ip().is_loopback());
    assert!(!logs.text().contains("non-loopback"), "{}", logs.text());
    let _any = course_sidecar::bind("0.0.0.0:0".parse().expect("addr"))
        .await
        .expect("bind");
    assert!(
        logs.text().contains("WARN") && logs.text().contains("non-loopback"),
        "{}",
        logs.text()
    );
}

#[tokio::test]
async fn tm_host_header_must_name_loopback_and_this_port() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    for host in ["localhost:4243", "127.0.0.1:4243", "[::1]:4243"] {
        let req = Request::get("/api/health")
            .header("host", host)
            .body(Body::empty())
            .expect("req");
        assert_eq!(call(&state, req).await.status, StatusCode::OK, "{host}");
    }
    for host in [
        "evil.example:4243",
        "localhost.evil.example:4243",
        "localhost:4244",
        "localhost",
        "127.0.0.2:4243",
        "0.0.0.0:4243",
        "[::1]:80",
    ] {
        for (method, uri) in [
            (Method::GET, "/api/health"),
            (Method::POST, "/api/labs/demo/export"),
        ] {
            let req = Request::builder()
                .method(method)
                .uri(uri)
                .header("host", host)
                .header("authorization", format!("Bearer {}", state.token()))
                .body(Body::empty())
                .expect("req");
            assert_eq!(
                call(&state, req).await.status,
                StatusCode::FORBIDDEN,
                "{host} {uri}"
            );
        }
    }
    let no_host = Request::get("/api/health")
        .body(Body::empty())
        .expect("req");
    assert_eq!(call(&state, no_host).await.status, StatusCode::FORBIDDEN);
    let two_hosts = Request::get("/api/health")
        .header("host", HOST)
        .header("host", "evil.example:4243")
        .body(Body::empty())
        .expect("req");
    assert_eq!(call(&state, two_hosts).await.status, StatusCode::FORBIDDEN);
    let absolute = request(Method::GET, "http://evil.example:4243/api/health")
        .body(Body::empty())
        .expect("req");
    assert_eq!(call(&state, absolute).await.status, StatusCode::FORBIDDEN);
    // Before a port is known, nothing passes.
    let unbound = fx.state_with(fast(), &[], 0);
    let req = Request::get("/api/health")
        .header("host", "localhost:0")
        .body(Body::empty())
        .expect("req");
    assert_eq!(call(&unbound, req).await.status, StatusCode::FORBIDDEN);
    assert!(
        !fx.copy("demo").exists(),
        "a rejected request had an effect"
    );
}

#[tokio::test]
async fn tm_cors_only_for_exact_allowed_origins() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    for origin in [ORIGIN, "http://127.0.0.1:4243", "http://localhost:4243"] {
        let req = request(Method::GET, "/api/labs")
            .header("origin", origin)
            .body(Body::empty())
            .expect("req");
        let r = call(&state, req).await;
        assert_eq!(r.status, StatusCode::OK, "{origin}");
        assert_eq!(r.headers["access-control-allow-origin"], origin);
        assert!(r.headers.get_all("vary").iter().any(|v| v == "Origin"));
    }
    let plain = call(&state, get("/api/labs")).await;
    assert!(plain.headers.get("access-control-allow-origin").is_none());
    for origin in [
        "https://evil.example",
        "https://course.example.org.evil.example",
        "http://course.example.org",
        "https://course.example.org:8443",
        "https://course.example.org/",
        "null",
        "*",
        "http://127.0.0.1:4244",
    ] {
        let req = request(Method::GET, "/api/labs")
            .header("origin", origin)
            .body(Body::empty())
            .expect("req");
        let r = call(&state, req).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{origin}");
        assert!(
            r.headers.get("access-control-allow-origin").is_none(),
            "{origin}"
        );
    }
    // A wildcard or `null` in the allowlist allows nothing.
    let careless = fx.state_with(fast(), &["*", "null"], PORT);
    for origin in ["https://evil.example", "null", "*"] {
        let req = request(Method::GET, "/api/labs")
            .header("origin", origin)
            .body(Body::empty())
            .expect("req");
        assert_eq!(
            call(&careless, req).await.status,
            StatusCode::FORBIDDEN,
            "{origin}"
        );
    }
}

#[tokio::test]
async fn tm_preflight_and_private_network_access_for_allowed_origins_only() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    let preflight = |origin: &str, pna: bool| {
        let mut req = request(Method::OPTIONS, "/api/labs/demo/steps/hello/run")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization");
        if pna {
            req = req.header("access-control-request-private-network", "true");
        }
        req.body(Body::empty()).expect("req")
    };
    let r = call(&state, preflight(ORIGIN, true)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.headers["access-control-allow-origin"], ORIGIN);
    assert_eq!(r.headers["access-control-allow-private-network"], "true");
    assert!(
        r.headers["access-control-allow-methods"]
            .to_str()
            .is_ok_and(|m| m.contains("POST"))
    );
    assert!(
        r.headers["access-control-allow-headers"]
            .to_str()
            .is_ok_and(|h| h.contains("authorization"))
    );
    let r = call(&state, preflight(ORIGIN, false)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(
        r.headers
            .get("access-control-allow-private-network")
            .is_none()
    );

    let r = call(&state, preflight("https://evil.example", true)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.headers
            .keys()
            .all(|k| !k.as_str().starts_with("access-control-")),
        "{:?}",
        r.headers
    );
    let bare = request(Method::OPTIONS, "/api/labs")
        .body(Body::empty())
        .expect("req");
    assert_eq!(call(&state, bare).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn tm_a_foreign_origin_is_refused_for_every_method() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    for method in [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ] {
        let req = request(method.clone(), "/api/labs/demo/export")
            .header("origin", "https://evil.example")
            .header("authorization", format!("Bearer {}", state.token()))
            .body(Body::empty())
            .expect("req");
        assert_eq!(
            call(&state, req).await.status,
            StatusCode::FORBIDDEN,
            "{method}"
        );
    }
    assert!(
        !fx.copy("demo").exists(),
        "a refused request exported the lab"
    );
}

/// Extra request headers: (name, value).
type Headers = Vec<(&'static str, String)>;

#[tokio::test]
async fn tm_state_changing_requests_need_the_token() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    let token = state.token().to_owned();
    let mut same_length = token.clone();
    let last = if same_length.ends_with('0') { "1" } else { "0" };
    same_length.replace_range(63.., last);
    let frob = Method::from_bytes(b"FROB").expect("method");
    let cases: Vec<(Method, String, Headers)> = vec![
        (Method::POST, "/api/labs/demo/export".into(), vec![]),
        (
            Method::POST,
            "/api/labs/demo/export".into(),
            vec![("authorization", "Bearer wrong".into())],
        ),
        (
            Method::POST,
            "/api/labs/demo/export".into(),
            vec![("authorization", format!("Bearer {same_length}"))],
        ),
        (
            Method::POST,
            "/api/labs/demo/export".into(),
            vec![("authorization", token.clone())],
        ),
        (
            Method::POST,
            "/api/labs/demo/export".into(),
            vec![("authorization", format!("Basic {token}"))],
        ),
        (
            Method::POST,
            "/api/labs/demo/export".into(),
            vec![("x-course-token", same_length.clone())],
        ),
        (
            Method::POST,
            format!("/api/labs/demo/export?token={token}"),
            vec![],
        ),
        (
            Method::POST,
            "/api/labs/demo/steps/hello/run".into(),
            vec![],
        ),
        (Method::POST, "/api/labs/demo/reset".into(), vec![]),
        (Method::PUT, "/api/labs/demo/export".into(), vec![]),
        (Method::PATCH, "/api/labs/demo/export".into(), vec![]),
        (Method::DELETE, "/api/labs/demo".into(), vec![]),
        (frob, "/api/health".into(), vec![]),
        (Method::POST, "/api/unknown".into(), vec![]),
    ];
    for (method, uri, headers) in cases {
        let mut req = request(method.clone(), &uri);
        for (name, value) in &headers {
            req = req.header(*name, value);
        }
        let r = call(&state, req.body(Body::empty()).expect("req")).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{method} {uri} {headers:?}"
        );
        assert_eq!(r.headers["www-authenticate"], "Bearer");
    }
    assert!(
        !fx.copy("demo").exists(),
        "an unauthorized request had an effect"
    );

    let bearer = call(&state, post("/api/labs/demo/export", &token)).await;
    assert_eq!(bearer.status, StatusCode::CREATED);
    let header = request(Method::POST, "/api/labs/demo/export?force=true")
        .header("x-course-token", &token)
        .body(Body::empty())
        .expect("req");
    assert_eq!(call(&state, header).await.status, StatusCode::CREATED);
    // Reading needs no token.
    assert_eq!(
        call(&state, get("/api/labs/demo/status")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn tm_the_token_is_never_logged() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    let token = state.token().to_owned();
    let logs = Logs::default();
    let _guard = logs.install();
    export(&state, "demo").await;
    call(&state, post("/api/labs/demo/steps/hello/run", &token)).await;
    output_after_exit(&state, "demo", "hello").await;
    call(&state, post("/api/labs/demo/steps/hello/run", "wrong")).await;
    call(
        &state,
        post(&format!("/api/labs/demo/reset?token={token}"), "wrong"),
    )
    .await;
    call(&state, get(&format!("/api/health?token={token}"))).await;
    let text = logs.text();
    assert!(
        text.contains("/api/labs/demo/steps/hello/run"),
        "nothing was logged: {text}"
    );
    assert!(text.contains("step started"), "{text}");
    assert!(!text.contains(&token), "the token is in the log:\n{text}");
    assert!(!format!("{state:?}").contains(&token));
}

#[tokio::test]
async fn tm_ids_are_looked_up_in_the_catalog() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    export(&state, "demo").await;
    let long = "a".repeat(65);
    for uri in [
        "/api/labs/..%2F..%2Fetc/status".to_owned(),
        "/api/labs/%2e%2e/status".into(),
        "/api/labs/../../etc/passwd".into(),
        "/api/labs/DEMO/status".into(),
        "/api/labs/nope/status".into(),
        "/api/labs/%ff/status".into(),
        "/api/labs/demo%00/status".into(),
        "/api/labs/demo%2Fx/status".into(),
        format!("/api/labs/{long}/status"),
        "/api/labs/..%2Fdemo/events".into(),
        "/api/labs/demo/steps/..%2Fhello/output".into(),
    ] {
        let r = call(&state, get(&uri)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}: {}", r.json);
    }
    for uri in [
        "/api/labs/..%2Fdemo/export",
        "/api/labs/%2e%2e%2f%2e%2e%2ftmp/export",
        "/api/labs/demo/steps/..%2Fhello/run",
        "/api/labs/demo/steps/%2e%2e/run",
        "/api/labs/demo/steps/HELLO/run",
        "/api/labs/demo/steps/hello%20/run",
        "/api/labs/demo/steps/nope/cancel",
        "/api/labs/nope/reset",
    ] {
        let r = call(&state, post(uri, state.token())).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}: {}", r.json);
    }
}

#[tokio::test]
async fn tm_request_bodies_and_queries_are_never_used() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    let elsewhere = fx.tmp.path().join("elsewhere");
    let evil = serde_json::json!({
        "dest": elsewhere, "path": "../../elsewhere", "url": "http://evil.example/",
        "run": "touch pwned", "command": "touch pwned", "cleanup": "touch pwned",
    })
    .to_string();
    let with_body = |uri: &str| {
        request(Method::POST, uri)
            .header("authorization", format!("Bearer {}", state.token()))
            .header("content-type", "application/json")
            .body(Body::from(evil.clone()))
            .expect("req")
    };
    let r = call(
        &state,
        with_body("/api/labs/demo/export?dest=/tmp/x&path=.."),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert!(fx.copy("demo").join("app.py").is_file());
    assert!(!elsewhere.exists());
    let r = call(
        &state,
        with_body("/api/labs/demo/steps/hello/run?run=touch%20pwned"),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let out = output_after_exit(&state, "demo", "hello").await;
    assert_eq!(lines(&out), ["hello"]);
    assert!(!fx.copy("demo").join("pwned").exists());
    assert!(!Path::new("pwned").exists());
}

#[tokio::test]
async fn tm_request_bodies_are_bounded() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    let max = Limits::default().max_body_bytes;
    let declared = request(Method::POST, "/api/labs/demo/export")
        .header("authorization", format!("Bearer {}", state.token()))
        .body(Body::from(vec![b'x'; max + 1]))
        .expect("req");
    assert_eq!(
        call(&state, declared).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // No Content-Length: the stream is cut off at the limit.
    let chunks =
        futures_util::stream::iter((0..64).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 1024])));
    let streamed = request(Method::POST, "/api/labs/demo/export")
        .header("authorization", format!("Bearer {}", state.token()))
        .body(Body::from_stream(chunks))
        .expect("req");
    let r = call(&state, streamed).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.json);
    assert!(
        !fx.copy("demo").exists(),
        "an oversized request had an effect"
    );
    let fits = request(Method::POST, "/api/labs/demo/export")
        .header("authorization", format!("Bearer {}", state.token()))
        .body(Body::from(vec![b'x'; max]))
        .expect("req");
    assert_eq!(call(&state, fits).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn tm_request_headers_are_bounded() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    let max = Limits::default().max_header_bytes;
    // 200 KB of headers, as one big one or many small ones: refused whole.
    let big = request(Method::GET, "/api/labs")
        .header("x-filler", "x".repeat(200 * 1024))
        .body(Body::empty())
        .expect("req");
    let r = call(&state, big).await;
    assert_eq!(
        r.status,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "{}",
        r.json
    );
    assert!(
        r.json["error"]
            .as_str()
            .unwrap_or_default()
            .contains(&max.to_string())
    );
    let mut many = request(Method::GET, "/api/labs");
    for i in 0..400 {
        many = many.header(format!("x-filler-{i}"), "y".repeat(500));
    }
    let r = call(&state, many.body(Body::empty()).expect("req")).await;
    assert_eq!(r.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    // A page's usual headers, with a few kilobytes of cookies, pass.
    let usual = request(Method::GET, "/api/labs")
        .header("cookie", "c".repeat(8 * 1024))
        .header("user-agent", "Mozilla/5.0")
        .body(Body::empty())
        .expect("req");
    assert_eq!(call(&state, usual).await.status, StatusCode::OK);
}

#[tokio::test]
async fn tm_concurrent_runs_are_bounded() {
    let fx = Fixture::demo();
    let state = fx.state(Limits {
        max_concurrent_runs: 1,
        max_concurrent_services: 1,
        ..fast()
    });
    export(&state, "demo").await;
    let run = |step: &'static str| {
        let state = state.clone();
        async move {
            call(
                &state,
                post(&format!("/api/labs/demo/steps/{step}/run"), state.token()),
            )
            .await
        }
    };
    // Services are bounded on their own...
    assert_eq!(run("serve").await.status, StatusCode::ACCEPTED);
    let r = run("family").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.json);
    // ...so a service that is up never starves the steps that use it.
    assert_eq!(run("slow").await.status, StatusCode::ACCEPTED);
    let r = run("loud").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.json);
    // A slot freed is a slot taken again.
    call(
        &state,
        post("/api/labs/demo/steps/serve/cancel", state.token()),
    )
    .await;
    output_after_exit(&state, "demo", "serve").await;
    assert_eq!(run("family").await.status, StatusCode::ACCEPTED);
    output_after_exit(&state, "demo", "slow").await;
    let r = run("loud").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    call(
        &state,
        post("/api/labs/demo/steps/family/cancel", state.token()),
    )
    .await;
    output_after_exit(&state, "demo", "family").await;
}

#[tokio::test]
async fn tm_event_streams_are_bounded_per_lab_and_in_total() {
    let fx = Fixture::new(&[
        ("one", lab_yaml("one", &[], DEMO_STEPS)),
        ("two", lab_yaml("two", &[], DEMO_STEPS)),
    ]);
    let state = fx.state(Limits {
        max_sse_per_lab: 2,
        max_sse_total: 3,
        ..fast()
    });
    let a = Events::open(&state, "one").await.expect("first");
    let _b = Events::open(&state, "one").await.expect("second");
    assert_eq!(
        Events::open(&state, "one").await.err(),
        Some(StatusCode::SERVICE_UNAVAILABLE)
    );
    let _c = Events::open(&state, "two").await.expect("third");
    assert_eq!(
        Events::open(&state, "two").await.err(),
        Some(StatusCode::SERVICE_UNAVAILABLE)
    );
    drop(a);
    let _d = Events::open(&state, "two")
        .await
        .expect("a closed stream frees its place");
}

#[tokio::test]
async fn tm_request_time_is_bounded() {
    let fx = Fixture::demo();
    let state = fx.state(Limits {
        request_timeout: Duration::from_millis(200),
        ..fast()
    });
    // A client that never finishes its body.
    let endless = futures_util::stream::pending::<Result<Vec<u8>, std::io::Error>>();
    let req = request(Method::POST, "/api/labs/demo/export")
        .header("authorization", format!("Bearer {}", state.token()))
        .body(Body::from_stream(endless))
        .expect("req");
    let started = Instant::now();
    assert_eq!(call(&state, req).await.status, StatusCode::REQUEST_TIMEOUT);
    assert!(started.elapsed() < Duration::from_secs(5));
    // Event streams are answered at once, so the bound does not cut them.
    let mut events = Events::open(&state, "demo").await.expect("stream");
    tokio::time::sleep(Duration::from_millis(400)).await;
    events.until(|e, _| e == "status").await;
}

#[tokio::test]
async fn tm_output_kept_per_run_is_bounded() {
    let fx = Fixture::demo();
    let state = fx.state(Limits {
        max_output_bytes: 1024,
        ..fast()
    });
    export(&state, "demo").await;
    call(&state, post("/api/labs/demo/steps/loud/run", state.token())).await;
    let out = output_after_exit(&state, "demo", "loud").await;
    let kept = lines(&out);
    assert!(kept.iter().map(String::len).sum::<usize>() <= 1024);
    assert_eq!(kept.last().map(String::as_str), Some("5000"));
    assert_eq!(out["dropped"].as_u64(), Some(5000 - kept.len() as u64));
}

#[tokio::test]
async fn tm_step_run_time_is_bounded() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    export(&state, "demo").await;
    let started = Instant::now();
    call(&state, post("/api/labs/demo/steps/slow/run", state.token())).await;
    let out = output_after_exit(&state, "demo", "slow").await;
    assert_eq!(out["last_exit"]["reason"], "timed_out");
    assert!(
        out["last_exit"]["duration_ms"]
            .as_u64()
            .is_some_and(|ms| ms >= 1000)
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

// --------------------------------------------------------------- real socket

/// One request over a fresh connection; the status code and body.
fn http(addr: SocketAddr, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Opens the lab's event stream with a raw HTTP/1.1 request and sends each
/// event (name, data) to the returned channel, dechunking by hand.
fn watch_events(addr: SocketAddr, lab: &str) -> mpsc::Receiver<(String, Value)> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET /api/labs/{lab}/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .expect("write");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).expect("status line");
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        let mut chunked = false;
        loop {
            line.clear();
            reader.read_line(&mut line).expect("header");
            if line == "\r\n" {
                break;
            }
            chunked |= line
                .to_ascii_lowercase()
                .starts_with("transfer-encoding: chunked");
        }
        assert!(chunked, "an event stream is sent in chunks");
        let mut text = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let Ok(size) = usize::from_str_radix(line.trim(), 16) else {
                return;
            };
            if size == 0 {
                return;
            }
            let mut chunk = vec![0; size + 2];
            if reader.read_exact(&mut chunk).is_err() {
                return;
            }
            text.push_str(&String::from_utf8_lossy(&chunk[..size]));
            while let Some(end) = text.find("\n\n") {
                let frame: String = text.drain(..end + 2).collect();
                if tx.send(parse_frame(&frame)).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

fn next_event(rx: &mpsc::Receiver<(String, Value)>, want: impl Fn(&str, &Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (event, data) = rx.recv_timeout(left).expect("the awaited event never came");
        if want(&event, &data) {
            return data;
        }
    }
}

#[test]
fn a_real_server_streams_checks_and_step_output() {
    let probe_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let steps = format!(
        "
  - id: listen
    title: Start something on the port
    check:
      kind: tcp
      port: {probe_port}
  - id: hello
    title: Say hello
    run: echo hello
  - id: svc
    title: A service that outlives nothing
    run: 'echo $$ > svc.pid; exec sleep 300'
    service: true
"
    );
    let fx = Fixture::new(&[("live", lab_yaml("live", &[probe_port], &steps))]);
    let state = fx.state_with(fast(), &[ORIGIN], 0);
    let token = state.token().to_owned();

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let listener = runtime
        .block_on(course_sidecar::bind("127.0.0.1:0".parse().expect("addr")))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(course_sidecar::serve_on(state, listener, async {
        let _ = stopped.await;
    }));

    assert_eq!(
        http(addr, "GET", "/api/health", None),
        (200, r#"{"status":"ok"}"#.to_owned())
    );
    let events = watch_events(addr, "live");
    next_event(&events, |e, d| {
        e == "status" && d["step"] == "listen" && d["state"] == "fail"
    });
    let service =
        std::net::TcpListener::bind(("127.0.0.1", probe_port)).expect("bind the probed port");
    next_event(&events, |e, d| {
        e == "status" && d["step"] == "listen" && d["state"] == "pass"
    });

    assert_eq!(
        http(addr, "POST", "/api/labs/live/steps/hello/run", None).0,
        401
    );
    assert_eq!(
        http(addr, "POST", "/api/labs/live/export", Some(&token)).0,
        201
    );
    assert_eq!(
        http(addr, "POST", "/api/labs/live/steps/hello/run", Some(&token)).0,
        202
    );
    let line = next_event(&events, |e, d| e == "output" && d["step"] == "hello");
    assert_eq!(line["text"], "hello");
    let exit = next_event(&events, |e, d| e == "exit" && d["step"] == "hello");
    assert_eq!(exit["code"], 0);

    assert_eq!(
        http(addr, "POST", "/api/labs/live/steps/svc/run", Some(&token)).0,
        202
    );
    next_event(&events, |e, d| e == "start" && d["step"] == "svc");
    let pid_file = fx.copy("live").join("svc.pid");
    let deadline = Instant::now() + WAIT;
    let svc_pid: u32 = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "the service never wrote its pid");
        std::thread::sleep(Duration::from_millis(20));
    };

    // Shutting down ends the open event stream instead of waiting for it,
    // and stops the running service.
    let _ = stop.send(());
    let result = runtime
        .block_on(async { tokio::time::timeout(WAIT, server).await })
        .expect("the server stopped in time")
        .expect("the server task");
    assert!(result.is_ok(), "{result:?}");
    #[cfg(target_os = "linux")]
    assert!(!alive(svc_pid), "the service {svc_pid} outlived the server");
    #[cfg(not(target_os = "linux"))]
    let _ = svc_pid;
    drop(service);
}

#[tokio::test]
async fn a_run_reports_the_lab_ports_already_taken() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let busy = held.local_addr().expect("addr").port();
    let fx = Fixture::new(&[("demo", lab_yaml("demo", &[busy], DEMO_STEPS))]);
    let state = fx.state(fast());
    export(&state, "demo").await;
    let r = call(
        &state,
        post("/api/labs/demo/steps/hello/run", state.token()),
    )
    .await;
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

// ------------------------------------------------------------ the runner alone

/// A lab with two services on the same (pretend) port, the second replacing
/// the first, for [`course_sidecar::LabRunner`].
const REPLACING_STEPS: &str = r#"
  - id: first
    title: A service
    run: 'echo $$ > first.pid; exec sleep 300'
    service: true
  - id: second
    title: The service that replaces it
    run: 'echo $$ > second.pid; exec sleep 300'
    service: true
    stops: [first]
    cleanup: rm -f first.pid second.pid
"#;

fn runner_for(fx: &Fixture, id: &str) -> course_sidecar::LabRunner {
    let (catalog, problems) = course_labs::load_catalog(&fx.tmp.path().join("labs"));
    assert!(problems.is_empty(), "{problems:#?}");
    let lab = catalog.get(id).expect("lab").clone();
    let dir = fx.copy(id);
    course_labs::export_lab(&lab, &dir, false).expect("export");
    course_sidecar::LabRunner::new(lab, dir, fast())
}

async fn pid_in(file: PathBuf) -> u32 {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(pid) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
        {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            file.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_step_that_stops_a_service_starts_once_the_service_is_gone() {
    let fx = Fixture::new(&[("swap", lab_yaml("swap", &[], REPLACING_STEPS))]);
    let runner = runner_for(&fx, "swap");
    runner.start("first").expect("first starts");
    let first = pid_in(fx.copy("swap").join("first.pid")).await;
    runner.start("second").expect("second starts");
    let second = pid_in(fx.copy("swap").join("second.pid")).await;
    assert!(!alive(first), "the replaced service still runs");
    assert!(alive(second));
    let exit = runner.wait("first").await.expect("first ended");
    assert_eq!(exit.reason, course_sidecar::ExitReason::Cancelled);
    assert!(runner.is_running("second"));
    assert_eq!(runner.reset().await.expect("reset"), vec!["second"]);
    assert!(!alive(second));
    assert!(runner.leftovers().is_empty(), "{:?}", runner.leftovers());
    assert!(
        !fx.copy("swap").join("second.pid").exists(),
        "the cleanup ran"
    );
}

/// THREAT_MODEL rule 20: a reset stops the process groups the runner
/// started, and nothing that merely looks like them.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn tm_reset_touches_only_what_the_lab_started() {
    let fx = Fixture::demo();
    let runner = runner_for(&fx, "demo");
    // The same command line as the lab's `family` service, started by
    // somebody else: a pattern (`pkill -f`) would match it.
    let mut bystander = std::process::Command::new("sh")
        .args(["-c", "sleep 300 & echo $! > child.pid; wait"])
        .current_dir(fx.tmp.path())
        .spawn()
        .expect("bystander");
    let bystander_child = pid_in(fx.tmp.path().join("child.pid")).await;
    runner.start("family").expect("family starts");
    let child = pid_in(fx.copy("demo").join("child.pid")).await;
    runner.reset().await.expect("reset");
    assert!(!alive(child), "the lab's own child survived the reset");
    assert!(runner.leftovers().is_empty(), "{:?}", runner.leftovers());
    assert!(
        alive(bystander.id()) && alive(bystander_child),
        "the reset stopped a process the lab did not start"
    );
    // Stop the bystander ourselves.
    let _ = std::process::Command::new("kill")
        .arg(bystander_child.to_string())
        .status();
    let _ = bystander.kill();
    let _ = bystander.wait();
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn leftovers_name_what_escaped_a_stop() {
    // A step whose child leaves the group is not the runner's to stop, but a
    // child that stays in it and outlives its shell is listed.
    let steps = r#"
  - id: spawn
    title: Leave a child behind
    run: 'sleep 300 > /dev/null 2>&1 & echo $! > child.pid'
"#;
    let fx = Fixture::new(&[("left", lab_yaml("left", &[], steps))]);
    let runner = runner_for(&fx, "left");
    runner.start("spawn").expect("starts");
    let exit = runner.wait("spawn").await.expect("ended");
    assert!(exit.succeeded(), "{exit:?}");
    let child = pid_in(fx.copy("left").join("child.pid")).await;
    let left = runner.leftovers();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].pid, i32::try_from(child).expect("pid"));
    assert!(left[0].command.contains("sleep 300"), "{left:?}");
    let _ = std::process::Command::new("kill")
        .arg(child.to_string())
        .status();
}
