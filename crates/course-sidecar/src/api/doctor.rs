//! `GET /api/labs/{lab}/doctor`: the machine check before a lab (see
//! [`crate::doctor`]). A read, but it starts programs and names the
//! processes that hold the lab's ports, so it needs the token.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;

use super::guard::token_presented;
use super::{ApiError, LabParam};
use crate::doctor;
use crate::state::{AppState, lock};

/// Runs the lab's machine checks, within the doctor's time limit.
pub(super) async fn doctor(
    State(state): State<AppState>,
    headers: HeaderMap,
    LabParam(entry): LabParam,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !token_presented(&state, &headers) {
        return Err(ApiError::Unauthorized);
    }
    let groups = lock(&entry.steps).groups.clone();
    let report = doctor::examine(&entry.lab, state.workspace(), groups)
        .await
        .map_err(|doctor::Busy| {
            ApiError::Unavailable(
                "a machine check is already running; try again in a moment".into(),
            )
        })?;
    Ok(Json(serde_json::to_value(&report).unwrap_or_default()))
}
