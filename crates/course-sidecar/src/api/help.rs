//! `POST /api/labs/{lab}/help`: the redacted help bundle (see [`crate::help`]).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::LabParam;
use crate::state::AppState;

/// Answers the bundle as `text/plain`. A POST with the token: it runs the
/// version commands of the lab's tools, and its text is the learner's.
pub(super) async fn help(
    State(state): State<AppState>,
    LabParam(entry): LabParam,
) -> impl IntoResponse {
    let text = crate::help::bundle(&entry, state.token()).await;
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
}
