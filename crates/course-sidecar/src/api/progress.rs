//! `GET /api/progress` and `POST /api/progress/import`: the learner's
//! earned progress (see [`crate::progress`]), and bringing in an export.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::json;

use super::ApiError;
use super::guard::token_presented;
use crate::progress;
use crate::state::AppState;

/// `GET /api/progress`: `progress.json` as it is. It says what the learner
/// did and when, so unlike the status reads it needs the token.
pub(super) async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !token_presented(&state, &headers) {
        return Err(ApiError::Unauthorized);
    }
    // A file of at most a megabyte, read where the request is handled (a
    // blocking read this small is quicker than handing it to a thread).
    let body = progress::load(state.workspace());
    Ok(Json(serde_json::to_value(&body).unwrap_or_default()))
}

/// `POST /api/progress/import` with an exported `progress.json` as the
/// body: its entries for steps not yet in the file are added, marked
/// `imported`. The body is data only: ids are checked against the catalog.
pub(super) async fn import(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let report = progress::import(state.workspace(), state.catalog(), &body)
        .map_err(ApiError::BadRequest)?;
    tracing::info!(
        imported = report.imported,
        kept = report.kept,
        ignored = report.ignored,
        "progress imported"
    );
    Ok(Json(json!(report)))
}
