//! The guard every request passes before it reaches a handler: Host, Origin
//! and CORS, the token, the body size and the request time. The order
//! matters: a request is judged by its headers before its body is read.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, AUTHORIZATION, CONTENT_LENGTH, HOST, ORIGIN, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use course_labs::conventions::{LOOPBACK_HOSTS, is_loopback_host, split_authority};
use futures_util::StreamExt;

use super::ApiError;
use crate::state::AppState;

/// The token header for clients that cannot set `Authorization`.
const TOKEN_HEADER: &str = "x-course-token";
const REQUEST_PRIVATE_NETWORK: &str = "access-control-request-private-network";
const ALLOW_PRIVATE_NETWORK: &str = "access-control-allow-private-network";

/// The middleware: rejects what must not reach a handler, bounds the rest,
/// and adds CORS headers for allowed origins.
pub(super) async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // The path only: a query could carry anything, and headers carry the token.
    tracing::debug!(method = %req.method(), path = %req.uri().path(), "request");
    let max_headers = state.limits().max_header_bytes;
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > max_headers {
        return ApiError::HeadersTooLarge(max_headers).into_response();
    }
    if !host_allowed(req.headers(), req.uri(), state.port()) {
        tracing::warn!(host = ?req.headers().get(HOST), "rejected a request for another host");
        return ApiError::Forbidden(
            "the Host header must be localhost, 127.0.0.1 or [::1] with this server's port",
        )
        .into_response();
    }
    let origin = match req.headers().get(ORIGIN) {
        None => None,
        Some(o) if origin_allowed(&state, o) => Some(o.clone()),
        Some(o) => {
            tracing::warn!(origin = ?o, "rejected a request from an origin not allowed");
            return ApiError::Forbidden("this page's origin may not use the sidecar")
                .into_response();
        }
    };
    let mut response = if req.method() == Method::OPTIONS {
        match &origin {
            Some(_) => preflight(req.headers()),
            None => {
                ApiError::Forbidden("preflight requests need an allowed Origin").into_response()
            }
        }
    } else if changes_state(req.method()) && !token_presented(&state, req.headers()) {
        ApiError::Unauthorized.into_response()
    } else {
        let limits = state.limits();
        let bounded = async {
            let req = read_body(req, limits.max_body_bytes).await?;
            Ok::<_, ApiError>(next.run(req).await)
        };
        match tokio::time::timeout(limits.request_timeout, bounded).await {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => e.into_response(),
            Err(_) => ApiError::Timeout.into_response(),
        }
    };
    if let Some(origin) = origin {
        let h = response.headers_mut();
        h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.append(VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// Every method but the safe ones may change something (unknown methods too).
fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// `localhost:PORT`, `127.0.0.1:PORT` or `[::1]:PORT`, exactly one Host
/// header, and the same in an absolute-form request target if there is one.
/// A page on a rebound DNS name sends its own name, so it is turned away.
fn host_allowed(headers: &HeaderMap, uri: &Uri, port: u16) -> bool {
    let mut hosts = headers.get_all(HOST).iter();
    let (Some(host), None) = (hosts.next(), hosts.next()) else {
        return false;
    };
    let Ok(host) = host.to_str() else {
        return false;
    };
    is_loopback_authority(host, port)
        && uri
            .authority()
            .is_none_or(|a| is_loopback_authority(a.as_str(), port))
}

/// `HOST:PORT` with a loopback host of the workspace's one list (any case
/// for `localhost`) and exactly this (known) port.
fn is_loopback_authority(authority: &str, port: u16) -> bool {
    port != 0
        && split_authority(authority)
            .is_some_and(|(host, p)| p == Some(port) && is_loopback_host(host))
}

/// Exact match against the allowlist or the sidecar's own origins (a page
/// of the same origin can reach the server anyway).
fn origin_allowed(state: &AppState, origin: &HeaderValue) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let port = state.port();
    state.shared.origins.iter().any(|o| o == origin)
        || (port != 0
            && LOOPBACK_HOSTS
                .iter()
                .any(|h| origin == format!("http://{h}:{port}")))
}

/// The answer to a CORS preflight from an allowed origin (the origin header
/// itself is added by the caller), including Private Network Access.
fn preflight(request: &HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST"),
    );
    h.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, x-course-token, content-type"),
    );
    h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    if request
        .get(REQUEST_PRIVATE_NETWORK)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
    {
        h.insert(ALLOW_PRIVATE_NETWORK, HeaderValue::from_static("true"));
    }
    h.insert(
        VARY,
        HeaderValue::from_static(
            "Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network",
        ),
    );
    response
}

/// The token from `Authorization: Bearer …` or `X-Course-Token`. Either
/// header, if right, is enough; neither is ever logged.
pub(super) fn token_presented(state: &AppState, headers: &HeaderMap) -> bool {
    let bearer = headers.get_all(AUTHORIZATION).iter().any(|v| {
        let v = v.as_bytes();
        v.len() > 7
            && v[..7].eq_ignore_ascii_case(b"bearer ")
            && state.shared.token.matches(&v[7..])
    });
    bearer
        || headers
            .get_all(TOKEN_HEADER)
            .iter()
            .any(|v| state.shared.token.matches(v.as_bytes()))
}

/// Reads the body, at most `max` bytes, before the handler runs: only a
/// progress import uses one, and a client that sends a huge or endless one is cut off
/// (413) or timed out (408) here.
async fn read_body(req: Request, max: usize) -> Result<Request, ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(ApiError::PayloadTooLarge(max));
    }
    let (parts, body) = req.into_parts();
    let mut data = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = data.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::BadRequest("the request body could not be read".into()))?;
        if bytes.len() + chunk.len() > max {
            return Err(ApiError::PayloadTooLarge(max));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_authorities() {
        for ok in [
            "localhost:4243",
            "LOCALHOST:4243",
            "127.0.0.1:4243",
            "[::1]:4243",
        ] {
            assert!(is_loopback_authority(ok, 4243), "{ok}");
        }
        for bad in [
            "localhost",
            "localhost:4244",
            "localhost:+4243",
            "localhost:",
            "evil.com:4243",
            "127.0.0.1.evil.com:4243",
            "127.0.0.2:4243",
            "0.0.0.0:4243",
            "[::1]",
            "localhost:4243:4243",
        ] {
            assert!(!is_loopback_authority(bad, 4243), "{bad}");
        }
        assert!(!is_loopback_authority("localhost:0", 0));
    }

    #[test]
    fn safe_methods_only_are_free() {
        for m in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert!(!changes_state(&m));
        }
        let custom = Method::from_bytes(b"FROB").expect("method");
        for m in [
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::TRACE,
            custom,
        ] {
            assert!(changes_state(&m), "{m}");
        }
    }
}
