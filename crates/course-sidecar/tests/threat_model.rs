//! One test per rule of `THREAT_MODEL.md`, each named `tm_…` as the threat
//! model cites it: Host and Origin checks, CORS and Private Network Access,
//! the token, ids looked up in the catalog, and every bound.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use course_sidecar::Limits;

use support::*;

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
    act(&state, "demo", "serve", "cancel").await;
    output_after_exit(&state, "demo", "serve").await;
    assert_eq!(run("family").await.status, StatusCode::ACCEPTED);
    output_after_exit(&state, "demo", "slow").await;
    let r = run("loud").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    act(&state, "demo", "family", "cancel").await;
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
    act(&state, "demo", "loud", "run").await;
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
    act(&state, "demo", "slow", "run").await;
    let out = output_after_exit(&state, "demo", "slow").await;
    assert_eq!(out["last_exit"]["reason"], "timed_out");
    assert!(
        out["last_exit"]["duration_ms"]
            .as_u64()
            .is_some_and(|ms| ms >= 1000)
    );
    assert!(started.elapsed() < Duration::from_secs(10));
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

#[tokio::test]
async fn tm_progress_reads_and_imports_need_the_token() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    // A GET, yet it needs the token: it says what the learner did and when.
    let r = call(&state, get("/api/progress")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let wrong = request(Method::GET, "/api/progress")
        .header("authorization", "Bearer wrong")
        .body(Body::empty())
        .expect("req");
    assert_eq!(call(&state, wrong).await.status, StatusCode::UNAUTHORIZED);
    let right = request(Method::GET, "/api/progress")
        .header("x-course-token", state.token())
        .body(Body::empty())
        .expect("req");
    assert_eq!(call(&state, right).await.status, StatusCode::OK);
    let body = r#"{"version":1,"entries":[{"lab":"demo","step":"hello","at":"2026-01-01T00:00:00Z","check":{"state":"pass","message":"m"}}]}"#;
    let unsigned = request(Method::POST, "/api/progress/import")
        .body(Body::from(body))
        .expect("req");
    assert_eq!(
        call(&state, unsigned).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert!(!fx.workspace().join("progress.json").exists());
}

#[tokio::test]
async fn tm_progress_cannot_be_claimed_by_a_request() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    let claim = serde_json::json!({"version": 1, "entries": [
        {"lab": "demo", "step": "hello", "at": "2026-01-01T00:00:00Z", "check": {"state": "pass", "message": "m"}, "imported": false},
        {"lab": "../../x", "step": "hello", "at": "2026-01-01T00:00:00Z", "check": {"state": "pass", "message": "m"}},
        {"lab": "demo", "step": "../../../etc", "at": "2026-01-01T00:00:00Z", "check": {"state": "pass", "message": "m"}}
    ]});
    let r = call(
        &state,
        request(Method::POST, "/api/progress/import")
            .header("authorization", format!("Bearer {}", state.token()))
            .body(Body::from(claim.to_string()))
            .expect("req"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["imported"], 1);
    assert_eq!(r.json["ignored"], 2);
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fx.workspace().join("progress.json")).expect("progress.json"),
    )
    .expect("json");
    let entries = file["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0]["imported"], true,
        "an import is marked imported, whatever it says"
    );
    // Only files the sidecar owns, in the workspace folder, are written.
    let mut names: Vec<String> = std::fs::read_dir(fx.workspace())
        .expect("workspace")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["progress.json"]);
    // An earned entry comes from the check passing, and then only.
    export(&state, "demo").await;
    status_until(&state, "demo", |s| {
        step(s, "hello")["check"]["state"] == "pass"
    })
    .await;
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fx.workspace().join("progress.json")).expect("progress.json"),
    )
    .expect("json");
    assert!(file["entries"][0].get("imported").is_none(), "{file}");
}

#[tokio::test]
async fn tm_help_bundle_needs_the_token_and_is_redacted() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    let r = call(
        &state,
        request(Method::POST, "/api/labs/demo/help")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = call(&state, post("/api/labs/..%2F..%2Fetc/help", state.token())).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = call(&state, post("/api/labs/demo/help", state.token())).await;
    assert_eq!(r.status, StatusCode::OK);
    let text = r.json.as_str().expect("text");
    assert!(text.starts_with("Lab: demo"), "{text}");
    assert!(!text.contains(state.token()));
    let home = std::env::var("HOME").unwrap_or_default();
    assert!(home.len() < 2 || !text.contains(&home), "{text}");
}

#[tokio::test]
async fn tm_the_doctor_needs_the_token_runs_only_its_list_and_is_bounded() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let marker = tmp.path().join("pwned");
    let yaml = lab_yaml("doc", &[], DEMO_STEPS).replace(
        "minutes: 5\n",
        &format!(
            "minutes: 5\nrequires:\n  - tool: \"sh -c 'touch {m}'\"\n  - tool: \"../../bin/sh\"\n  - tool: \"$(touch {m})\"\n  - tool: nosuchtool-doctor\n",
            m = marker.display()
        ),
    );
    let fx = Fixture::new(&[("doc", yaml)]);
    let state = fx.state(fast());
    // A read, but it starts programs and names other processes: token only.
    let r = call(&state, get("/api/labs/doc/doctor")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = call(
        &state,
        request(Method::GET, "/api/labs/doc/doctor")
            .header("x-course-token", "0".repeat(64))
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let started = Instant::now();
    let r = call(
        &state,
        request(Method::GET, "/api/labs/doc/doctor")
            .header("x-course-token", state.token())
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "{:?}",
        started.elapsed()
    );
    let items = r.json["items"].as_array().expect("items");
    // A tool name that is not a plain program name is never run, through
    // a shell or a path: it is reported as unknown.
    let odd: Vec<&serde_json::Value> = items
        .iter()
        .filter(|i| i["kind"] == "tool" && i["id"] != "tool-nosuchtool-doctor")
        .collect();
    assert_eq!(odd.len(), 3, "{items:#?}");
    for i in odd {
        assert_eq!(i["state"], "unknown", "{i:#}");
        assert!(
            i["detail"]
                .as_str()
                .expect("d")
                .contains("not a program name"),
            "{i:#}"
        );
    }
    assert!(
        !marker.exists(),
        "the doctor ran a tool name through a shell"
    );
    // No step needs Docker and no tool is docker: docker is not asked.
    assert!(items.iter().all(|i| i["kind"] != "docker"), "{items:#?}");
}
