//! The static file server: the site's files from the stack of folders
//! served, HTML pages with the reload script, `/api` handed to the sidecar.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use course_labs::conventions::contained_relative;

use super::layers::find_in;
use super::{ServeState, reload};

/// Answers a request: the sidecar's paths, else a file of the site (a
/// folder redirects to its `/`, then serves its `index.html`; a missing
/// file gets the site's 404 page).
pub(super) async fn static_file(State(state): State<ServeState>, request: Request) -> Response {
    let raw = request.uri().path();
    if raw == "/api" || raw.starts_with("/api/") {
        // The sidecar keeps its own paths (/api/...) and its own security checks.
        return match tower::ServiceExt::oneshot(state.sidecar.clone(), request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
    }
    if !matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    ) {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let layers = state.layers();
    let Some(mut rel) = safe_relative(raw) else {
        return (StatusCode::BAD_REQUEST, "bad path").into_response();
    };
    if layers.iter().any(|layer| layer.join(&rel).is_dir()) {
        if !raw.ends_with('/') {
            let location = format!("{raw}/");
            return Response::builder()
                .status(StatusCode::MOVED_PERMANENTLY)
                .header(header::LOCATION, location)
                .body(Body::empty())
                .unwrap_or_default();
        }
        rel.push("index.html");
    }
    let (status, path) = match find_in(&layers, &rel) {
        Some(path) => (StatusCode::OK, path),
        None => match find_in(&layers, Path::new("404.html")) {
            Some(path) => (StatusCode::NOT_FOUND, path),
            None => return (StatusCode::NOT_FOUND, "not found").into_response(),
        },
    };
    let Ok(bytes) = tokio::fs::read(&path).await else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mime = content_type(&path);
    let body = if mime.starts_with("text/html") {
        let mut html = String::from_utf8_lossy(&bytes).into_owned();
        reload::inject(&mut html);
        Body::from(html)
    } else {
        Body::from(bytes)
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The URL path as a relative path inside the site, or None if it tries to leave it.
fn safe_relative(url_path: &str) -> Option<PathBuf> {
    contained_relative(&percent_decode(url_path)?)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "zip" => "application/zip",
        "txt" | "md" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_site() {
        assert_eq!(safe_relative("/a/b.html"), Some(PathBuf::from("a/b.html")));
        assert_eq!(safe_relative("/"), Some(PathBuf::new()));
        assert_eq!(
            safe_relative("/a%20b.html"),
            Some(PathBuf::from("a b.html"))
        );
        for bad in [
            "/../etc/passwd",
            "/a/%2e%2e/%2e%2e/x",
            "/a\\b",
            "/%zz",
            "/c:/x",
        ] {
            assert_eq!(safe_relative(bad), None, "{bad}");
        }
    }
}
