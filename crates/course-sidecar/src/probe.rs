//! A minimal HTTP/1.1 client for `http` checks: one request to a loopback
//! address, `Connection: close`, the response read whole (bounded). Small
//! enough to read in one sitting, and it can reach nothing but this machine.

use std::net::SocketAddr;

use course_labs::conventions::{loopback_addrs, split_authority};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response read; a health endpoint answers in bytes, not megabytes.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Where a check's URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The authority as written, sent as the Host header.
    pub(crate) host: String,
    /// The loopback addresses it may be reached at, in order.
    pub(crate) addrs: Vec<SocketAddr>,
    /// Path and query, sent as the request target.
    pub(crate) path: String,
}

/// A response: status and (decoded) body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// Parses `http://HOST[:PORT][/PATH][?QUERY]` where HOST is a loopback host
/// of the workspace's one list (`127.0.0.1`, `localhost`, `[::1]`, see
/// `course_labs::conventions`). Anything else is refused: a manifest is checked
/// when it loads, and this check keeps the client safe on its own.
pub(crate) fn parse_url(url: &str) -> Result<Target, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("`{url}` is not an http:// URL"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (name, port) = split_authority(authority)
        .ok_or_else(|| format!("`{authority}` is not a host and a port"))?;
    let ips =
        loopback_addrs(name).ok_or_else(|| format!("`{authority}` is not a loopback address"))?;
    let tail = tail.split('#').next().unwrap_or_default();
    let path = match tail.chars().next() {
        None => "/".to_owned(),
        Some('?') => format!("/{tail}"),
        Some(_) => tail.to_owned(),
    };
    if !path.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the URL's path has spaces, control or non-ASCII characters".into());
    }
    Ok(Target {
        host: authority.to_owned(),
        addrs: ips
            .iter()
            .map(|&ip| SocketAddr::new(ip, port.unwrap_or(80)))
            .collect(),
        path,
    })
}

/// Sends one request and reads the response. The caller bounds the time.
pub(crate) async fn request(
    target: &Target,
    method: &str,
    body: Option<&str>,
) -> Result<Response, String> {
    let mut stream = connect(target).await?;
    let mut head = format!(
        "{method} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: course-sidecar\r\nAccept: application/json, */*;q=0.5\r\nConnection: close\r\n",
        target.path, target.host
    );
    match body {
        Some(body) => {
            let kind = if serde_json::from_str::<Value>(body).is_ok() {
                "application/json"
            } else {
                "text/plain; charset=utf-8"
            };
            head.push_str(&format!(
                "Content-Type: {kind}\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        None if matches!(method, "POST" | "PUT") => head.push_str("Content-Length: 0\r\n"),
        None => {}
    }
    head.push_str("\r\n");
    let io = |e: std::io::Error| format!("{}: {e}", target.host);
    stream.write_all(head.as_bytes()).await.map_err(io)?;
    if let Some(body) = body {
        stream.write_all(body.as_bytes()).await.map_err(io)?;
    }
    let is_head = method == "HEAD";
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = stream.read(&mut buf).await.map_err(io)?;
        if n == 0 {
            return parse_response(&raw, is_head, true)?
                .ok_or_else(|| "the connection closed before a full response".into());
        }
        raw.extend_from_slice(&buf[..n]);
        if raw.len() > MAX_RESPONSE_BYTES {
            return Err(format!(
                "the response is larger than {MAX_RESPONSE_BYTES} bytes"
            ));
        }
        if let Some(response) = parse_response(&raw, is_head, false)? {
            return Ok(response);
        }
    }
}

async fn connect(target: &Target) -> Result<TcpStream, String> {
    let mut last = String::from("no address");
    for addr in &target.addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!("cannot connect to {}: {last}", target.host))
}

/// Parses what has arrived: `Ok(None)` while more is needed, an error when
/// it cannot be HTTP. `eof` says the server closed the connection.
pub(crate) fn parse_response(
    raw: &[u8],
    is_head: bool,
    eof: bool,
) -> Result<Option<Response>, String> {
    let mut start = 0;
    loop {
        let Some(end) = find(&raw[start..], b"\r\n\r\n") else {
            return if eof {
                Err("the answer is not an HTTP response".into())
            } else {
                Ok(None)
            };
        };
        let head = String::from_utf8_lossy(&raw[start..start + end]);
        let body = &raw[start + end + 4..];
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let mut words = status_line.split(' ');
        let (Some(version), Some(code)) = (words.next(), words.next()) else {
            return Err("the answer is not an HTTP response".into());
        };
        let status = match code.parse::<u16>() {
            Ok(s) if version.starts_with("HTTP/1.") && code.len() == 3 && s >= 100 => s,
            _ => return Err(format!("unexpected status line `{status_line}`")),
        };
        if (100..200).contains(&status) {
            // An interim answer (100 Continue, 103 Early Hints): the real one follows.
            start += end + 4;
            continue;
        }
        let mut length = None;
        let mut chunked = false;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .parse::<usize>()
                        .map_err(|_| format!("bad Content-Length `{value}`"))?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            }
        }
        let body = if is_head || status == 204 || status == 304 {
            Some(Vec::new())
        } else if chunked {
            dechunk(body)?
        } else if let Some(n) = length {
            (body.len() >= n).then(|| body[..n].to_vec())
        } else if eof {
            Some(body.to_vec())
        } else {
            None
        };
        return match body {
            Some(body) => Ok(Some(Response { status, body })),
            None if eof => Err("the connection closed in the middle of the body".into()),
            None => Ok(None),
        };
    }
}

/// Decodes a chunked body: `Ok(None)` while incomplete.
pub(crate) fn dechunk(data: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let bad = || String::from("malformed chunked body");
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let Some(eol) = find(&data[i..], b"\r\n") else {
            return Ok(None);
        };
        let line = String::from_utf8_lossy(&data[i..i + eol]);
        let size = line.split(';').next().unwrap_or_default().trim();
        if size.is_empty() {
            return Err(bad());
        }
        let size = usize::from_str_radix(size, 16).map_err(|_| bad())?;
        i += eol + 2;
        if size == 0 {
            return Ok(Some(out));
        }
        let end = i.checked_add(size).ok_or_else(bad)?;
        let Some(chunk) = data.get(i..end) else {
            return Ok(None);
        };
        match data.get(end..end + 2) {
            None => return Ok(None),
            Some(b"\r\n") => {}
            Some(_) => return Err(bad()),
        }
        out.extend_from_slice(chunk);
        i = end + 2;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether `actual` contains `expected`: objects by their keys (extra keys
/// are fine), arrays by each expected element matching some actual one,
/// numbers by value (`1` matches `1.0`), the rest by equality.
pub(crate) fn json_contains(actual: &Value, expected: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, ev)| a.get(k).is_some_and(|av| json_contains(av, ev))),
        (Value::Array(e), Value::Array(a)) => {
            e.iter().all(|ev| a.iter().any(|av| json_contains(av, ev)))
        }
        (Value::Number(e), Value::Number(a)) => {
            e == a || (e.as_f64().is_some() && e.as_f64() == a.as_f64())
        }
        (e, a) => e == a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_loopback_urls_only() {
        let t = parse_url("http://127.0.0.1:8000/health?x=1#frag").expect("ok");
        assert_eq!(t.host, "127.0.0.1:8000");
        assert_eq!(t.path, "/health?x=1");
        assert_eq!(t.addrs, vec![SocketAddr::from(([127, 0, 0, 1], 8000))]);
        let t = parse_url("http://localhost:9090").expect("ok");
        assert_eq!(t.path, "/");
        assert_eq!(t.addrs.len(), 2);
        let t = parse_url("http://[::1]:5000?q").expect("ok");
        assert_eq!(t.path, "/?q");
        assert_eq!(
            parse_url("http://localhost/").expect("ok").addrs[0].port(),
            80
        );
        for bad in [
            "https://127.0.0.1/",
            "http://example.com/",
            "http://127.0.0.1.example.com/",
            "http://127.0.0.1@example.com/",
            "http://example.com@127.0.0.1:80/x@",
            "http://10.0.0.1:80/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::ffff:127.0.0.1]:80/",
            "http://127.0.0.1:99999/",
            "http://127.0.0.1:80/a b",
            "http://127.0.0.1:80/a\r\nX-Evil: 1",
            "http://127.0.0.1:80/é",
            "file:///etc/passwd",
        ] {
            assert!(parse_url(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn parses_responses() {
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            false,
            false,
        )
        .expect("valid")
        .expect("complete");
        assert_eq!((r.status, r.body.as_slice()), (200, &b"ok"[..]));
        assert_eq!(
            parse_response(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok",
                false,
                false
            ),
            Ok(None)
        );
        assert!(
            parse_response(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok",
                false,
                true
            )
            .is_err()
        );
        let r = parse_response(b"HTTP/1.0 503 Nope\r\n\r\ndown", false, true)
            .expect("valid")
            .expect("complete");
        assert_eq!((r.status, r.body.as_slice()), (503, &b"down"[..]));
        let r = parse_response(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
            false,
            false,
        )
        .expect("valid")
        .expect("complete");
        assert_eq!((r.status, r.body.as_slice()), (201, &b"abcde"[..]));
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",
            true,
            false,
        )
        .expect("valid")
        .expect("complete");
        assert!(r.body.is_empty());
        for bad in [
            &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
            b"HTTP/1.1 abc OK\r\n\r\n",
            b"garbage",
        ] {
            assert!(parse_response(bad, false, true).is_err());
        }
    }

    #[test]
    fn dechunks_incrementally_and_refuses_garbage() {
        assert_eq!(dechunk(b"3\r\nab"), Ok(None));
        assert_eq!(dechunk(b"3\r\nabc\r\n"), Ok(None));
        assert_eq!(dechunk(b"3\r\nabc\r\n0\r\n\r\n"), Ok(Some(b"abc".to_vec())));
        assert!(dechunk(b"zz\r\n").is_err());
        assert!(dechunk(b"\r\n").is_err());
        assert!(dechunk(b"3\r\nabcXY0\r\n").is_err());
        assert!(dechunk(b"ffffffffffffffffff\r\n").is_err());
        assert!(dechunk(b"ffffffffffffffff\r\nab").is_err());
        assert_eq!(dechunk(b"ffff\r\nab"), Ok(None));
    }

    #[test]
    fn json_subsets() {
        let actual = json!({"status": "ok", "n": 1, "model": {"name": "wine", "v": 2.0}, "tags": ["a", "b"]});
        assert!(json_contains(&actual, &json!({"status": "ok"})));
        assert!(json_contains(&actual, &json!({"model": {"name": "wine"}})));
        assert!(json_contains(
            &actual,
            &json!({"n": 1.0, "model": {"v": 2}})
        ));
        assert!(json_contains(&actual, &json!({"tags": ["b"]})));
        assert!(json_contains(&actual, &json!({})));
        assert!(!json_contains(&actual, &json!({"status": "down"})));
        assert!(!json_contains(&actual, &json!({"missing": null})));
        assert!(!json_contains(&actual, &json!({"tags": ["c"]})));
        assert!(!json_contains(&actual, &json!({"n": "1"})));
        assert!(!json_contains(&json!([1]), &json!({"a": 1})));
    }
}
