//! The harness every suite shares: a sidecar on a temporary catalog and
//! workspace (`Fixture`), its token, requests driven through the router
//! with `oneshot`, the event-stream reader, a log capture, and helpers for
//! the runner alone.
//!
//! Each suite is its own test binary and uses part of this, so what one
//! suite leaves unused is not dead code.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use course_sidecar::{AppState, Limits, Settings, app};
use futures_util::StreamExt;
use serde_json::Value;
use tower::ServiceExt;

pub(crate) const PORT: u16 = 4243;
pub(crate) const HOST: &str = "127.0.0.1:4243";
pub(crate) const ORIGIN: &str = "https://course.example.org";
pub(crate) const WAIT: Duration = Duration::from_secs(15);

// ------------------------------------------------------------------ fixtures

/// Steps of the `demo` lab, one per behaviour under test.
pub(crate) const DEMO_STEPS: &str = r#"
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

pub(crate) fn lab_yaml(id: &str, ports: &[u16], steps: &str) -> String {
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

pub(crate) struct Fixture {
    pub(crate) tmp: tempfile::TempDir,
}

impl Fixture {
    /// Labs (id, lab.yaml) in `tmp/labs`, each with an `app.py`; the
    /// learner's workspace is `tmp/work`.
    pub(crate) fn new(labs: &[(&str, String)]) -> Fixture {
        let tmp = tempfile::tempdir().expect("tempdir");
        for (id, yaml) in labs {
            let dir = tmp.path().join("labs").join(id);
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(dir.join("lab.yaml"), yaml).expect("write");
            std::fs::write(dir.join("app.py"), "print('hello')\n").expect("write");
        }
        Fixture { tmp }
    }

    pub(crate) fn demo() -> Fixture {
        Fixture::new(&[("demo", lab_yaml("demo", &[], DEMO_STEPS))])
    }

    pub(crate) fn workspace(&self) -> PathBuf {
        self.tmp.path().join("work")
    }

    pub(crate) fn copy(&self, lab: &str) -> PathBuf {
        self.workspace().join(lab)
    }

    pub(crate) fn state(&self, limits: Limits) -> AppState {
        self.state_with(limits, &[ORIGIN], PORT)
    }

    pub(crate) fn state_with(&self, limits: Limits, origins: &[&str], port: u16) -> AppState {
        let (catalog, problems) = course_labs::load_catalog(&self.tmp.path().join("labs"));
        assert!(problems.is_empty(), "{problems:#?}");
        AppState::new(
            catalog,
            Settings {
                workspace: self.workspace(),
                allowed_origins: origins.iter().map(|o| o.to_string()).collect(),
                port,
                limits,
                known: Vec::new(),
            },
        )
        .expect("state")
    }
}

pub(crate) fn fast() -> Limits {
    Limits {
        check_interval: Duration::from_millis(100),
        ..Limits::default()
    }
}

// ------------------------------------------------------------------ requests

pub(crate) fn request(method: Method, uri: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("host", HOST)
}

pub(crate) fn get(uri: &str) -> Request<Body> {
    request(Method::GET, uri)
        .body(Body::empty())
        .expect("request")
}

pub(crate) fn post(uri: &str, token: &str) -> Request<Body> {
    request(Method::POST, uri)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request")
}

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) json: Value,
}

pub(crate) async fn call(state: &AppState, req: Request<Body>) -> Reply {
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

/// POSTs `action` (`run`, `cancel`) to a step, with the token.
pub(crate) async fn act(state: &AppState, lab: &str, step: &str, action: &str) -> Reply {
    let uri = format!("/api/labs/{lab}/steps/{step}/{action}");
    call(state, post(&uri, state.token())).await
}

pub(crate) async fn export(state: &AppState, lab: &str) {
    let r = call(
        state,
        post(&format!("/api/labs/{lab}/export"), state.token()),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
}

/// Polls the status until `done` holds.
pub(crate) async fn status_until(
    state: &AppState,
    lab: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
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
pub(crate) async fn output_after_exit(state: &AppState, lab: &str, step: &str) -> Value {
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

pub(crate) fn step<'a>(status: &'a Value, id: &str) -> &'a Value {
    status["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"] == id))
        .unwrap_or_else(|| panic!("no step {id} in {status}"))
}

pub(crate) fn lines(output: &Value) -> Vec<String> {
    output["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| l["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Reads SSE frames from a response body until `want` matches one.
pub(crate) struct Events {
    body: axum::body::BodyDataStream,
    buffer: String,
}

impl Events {
    pub(crate) async fn open(state: &AppState, lab: &str) -> Result<Events, StatusCode> {
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

    pub(crate) async fn until(&mut self, want: impl Fn(&str, &Value) -> bool) -> Value {
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

pub(crate) fn parse_frame(frame: &str) -> (String, Value) {
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
pub(crate) struct Logs(Arc<Mutex<Vec<u8>>>);

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
    pub(crate) fn install(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || logs.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("logs")).into_owned()
    }
}

/// A process that exists and is not a zombie waiting to be reaped.
#[cfg(target_os = "linux")]
pub(crate) fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

pub(crate) fn runner_for(fx: &Fixture, id: &str) -> course_sidecar::LabRunner {
    let (catalog, problems) = course_labs::load_catalog(&fx.tmp.path().join("labs"));
    assert!(problems.is_empty(), "{problems:#?}");
    let lab = catalog.get(id).expect("lab").clone();
    let dir = fx.copy(id);
    course_labs::export_lab(&lab, &dir, false).expect("export");
    course_sidecar::LabRunner::new(lab, dir, fast())
}

pub(crate) async fn pid_in(file: PathBuf) -> u32 {
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
