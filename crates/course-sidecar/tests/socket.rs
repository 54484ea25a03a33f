//! The sidecar on a real socket, spoken to in raw HTTP/1.1: the server
//! `serve_on` runs, its event stream dechunked by hand, and its shutdown.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use support::*;

/// `serve_on` on a real loopback socket, in a runtime of its own.
struct RealServer {
    runtime: tokio::runtime::Runtime,
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RealServer {
    fn start(state: course_sidecar::AppState) -> RealServer {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let listener = runtime
            .block_on(course_sidecar::bind("127.0.0.1:0".parse().expect("addr")))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = runtime.spawn(course_sidecar::serve_on(state, listener, async {
            let _ = stopped.await;
        }));
        RealServer {
            runtime,
            addr,
            stop,
            task,
        }
    }

    /// Asks the server to shut down; it must stop cleanly within [`WAIT`].
    fn stop(self) {
        let _ = self.stop.send(());
        let result = self
            .runtime
            .block_on(async { tokio::time::timeout(WAIT, self.task).await })
            .expect("the server stopped in time")
            .expect("the server task");
        assert!(result.is_ok(), "{result:?}");
    }
}

/// One request over a fresh connection; the status code and body.
fn http(addr: SocketAddr, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let (status, _, body) = raw(
        addr,
        &format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\n"),
    );
    (status, body)
}

/// Sends `head` (request line and headers, each ending in CRLF) with
/// `Connection: close` over a fresh connection; the status code, the
/// response's headers (lowercased) and its body.
fn raw(addr: SocketAddr, head: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    write!(stream, "{head}Connection: close\r\n\r\n").expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (headers, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (status, headers.to_ascii_lowercase(), body.to_owned())
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

    let server = RealServer::start(state);
    let addr = server.addr;

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
    server.stop();
    #[cfg(target_os = "linux")]
    assert!(!alive(svc_pid), "the service {svc_pid} outlived the server");
    #[cfg(not(target_os = "linux"))]
    let _ = svc_pid;
    drop(service);
}

/// THREAT_MODEL rules 2, 3 and 12 on the wire, with hyper in front of the
/// guard: 200 KB of headers (within hyper's own buffer) are refused with
/// 431, a rebound Host and a foreign Origin with 403, and an allowed Origin
/// gets its CORS headers.
#[test]
fn a_real_server_bounds_headers_and_judges_host_and_origin() {
    let fx = Fixture::demo();
    let state = fx.state_with(fast(), &[ORIGIN], 0);
    let server = RealServer::start(state);
    let addr = server.addr;

    let filler = "x".repeat(200 * 1024);
    let (status, _, body) = raw(
        addr,
        &format!("GET /api/labs HTTP/1.1\r\nHost: {addr}\r\nX-Filler: {filler}\r\n"),
    );
    assert_eq!(status, 431, "{body}");
    let max = course_sidecar::Limits::default().max_header_bytes;
    assert!(body.contains(&max.to_string()), "{body}");
    let cookies = "c".repeat(8 * 1024);
    let (status, _, body) = raw(
        addr,
        &format!("GET /api/labs HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookies}\r\n"),
    );
    assert_eq!(status, 200, "a page's usual headers pass: {body}");

    let port = addr.port();
    let (status, ..) = raw(
        addr,
        &format!("GET /api/health HTTP/1.1\r\nHost: evil.example:{port}\r\n"),
    );
    assert_eq!(status, 403, "a rebound Host is refused");

    let (status, headers, _) = raw(
        addr,
        &format!("GET /api/labs HTTP/1.1\r\nHost: {addr}\r\nOrigin: https://evil.example\r\n"),
    );
    assert_eq!(status, 403, "a foreign Origin is refused");
    assert!(!headers.contains("access-control-"), "{headers}");
    let (status, headers, _) = raw(
        addr,
        &format!("GET /api/labs HTTP/1.1\r\nHost: {addr}\r\nOrigin: {ORIGIN}\r\n"),
    );
    assert_eq!(status, 200);
    assert!(
        headers.contains(&format!("access-control-allow-origin: {ORIGIN}")),
        "{headers}"
    );
    assert!(headers.contains("vary: origin"), "{headers}");

    server.stop();
}
