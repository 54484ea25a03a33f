//! Live reload: the websocket that tells open pages to reload or shows a
//! failed rebuild's error, and the script every served page gets for it.

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use tokio::sync::broadcast;

use super::ServeState;

/// Injected before `</body>` of every HTML page: reload on rebuild, show a
/// failed rebuild's error at the top of the page.
const RELOAD_SCRIPT: &str = concat!("<script>\n", include_str!("reload.js"), "</script>");

/// `html` with the reload script before its `</body>` (or at the end).
pub(super) fn inject(html: &mut String) {
    match html.rfind("</body>") {
        Some(i) => html.insert_str(i, RELOAD_SCRIPT),
        None => html.push_str(RELOAD_SCRIPT),
    }
}

/// The message that shows a failed rebuild's error on the pages.
pub(super) fn error_message(message: &str) -> String {
    serde_json::json!({"type": "error", "message": message}).to_string()
}

/// The message that reloads the pages.
pub(super) const RELOAD: &str = r#"{"type":"reload"}"#;

pub(super) async fn socket(ws: WebSocketUpgrade, State(state): State<ServeState>) -> Response {
    ws.on_upgrade(move |socket| pump(socket, state))
}

async fn pump(mut socket: WebSocket, state: ServeState) {
    let mut rx = state.subscribe();
    if let Some(message) = state.error()
        && socket
            .send(Message::Text(error_message(&message).into()))
            .await
            .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                Ok(text) => if socket.send(Message::Text(text.into())).await.is_err() { return },
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_goes_before_the_last_body_end() {
        let mut page = "<html><body><p>x</p></body></html>".to_owned();
        inject(&mut page);
        assert!(page.starts_with("<html><body><p>x</p><script>\n(function () {"));
        assert!(page.ends_with("})();\n</script></body></html>"));
        assert!(page.contains(super::super::RELOAD_PATH));
        let mut fragment = "<p>x</p>".to_owned();
        inject(&mut fragment);
        assert!(fragment.ends_with("</script>"));
    }
}
