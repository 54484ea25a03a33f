//! The HTTP side of the sidecar: the routes, the guard every request
//! passes first, and the one error type requests are answered with.
//!
//! The domain modules (checks, events, runner, state) know nothing of HTTP:
//! they return their own errors, and the `From` impls below are the one
//! place that turns each into a status code and a message for the page.

mod doctor;
mod guard;
mod handlers;
mod help;
mod progress;

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use course_labs::{ExportError, Step};
use serde_json::json;

use crate::events::WatchError;
use crate::runner::RunError;
use crate::state::{AppState, LabEntry};

/// What a request gets instead of what it asked for. The message is meant
/// for the learner; internals stay in the log.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error(
        "a valid token is required: send `Authorization: Bearer TOKEN` (the token is printed when the sidecar starts)"
    )]
    Unauthorized,
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the request headers are larger than {0} bytes")]
    HeadersTooLarge(usize),
    #[error("the request took too long")]
    Timeout,
    #[error("too many commands are running; wait for one to finish")]
    TooManyRuns,
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error; the sidecar's log says more")]
    Internal,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::Timeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooManyRuns => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status(), Json(json!({ "error": self.to_string() }))).into_response();
        if matches!(self, ApiError::Unauthorized) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<RunError> for ApiError {
    fn from(e: RunError) -> ApiError {
        match e {
            RunError::TooManyRuns => ApiError::TooManyRuns,
            RunError::UnknownStep(_) => UNKNOWN_STEP,
            RunError::Spawn(e) => {
                tracing::error!("could not start a command: {e}");
                ApiError::Internal
            }
            RunError::NoCommand
            | RunError::NotExported(_)
            | RunError::Resetting
            | RunError::AlreadyRunning
            | RunError::NotRunning => ApiError::Conflict(e.to_string()),
        }
    }
}

impl From<WatchError> for ApiError {
    fn from(e: WatchError) -> ApiError {
        match e {
            WatchError::TooManyStreams | WatchError::TooManyOnLab => {
                ApiError::Unavailable(e.to_string())
            }
        }
    }
}

impl From<ExportError> for ApiError {
    fn from(e: ExportError) -> ApiError {
        match e {
            ExportError::WouldOverwrite { existing, .. } => ApiError::Conflict(format!(
                "{} of the lab's files already exist in your copy; export with ?force=true to replace them",
                existing.len()
            )),
            e => {
                tracing::error!("export failed: {e}");
                ApiError::Internal
            }
        }
    }
}

const UNKNOWN_LAB: ApiError = ApiError::NotFound("no such lab");
const UNKNOWN_STEP: ApiError = ApiError::NotFound("no such step");

/// A lab named in the path, looked up in the catalog. Anything that is not
/// a catalog id — bad UTF-8, `..%2F..`, unknown — is a 404.
struct LabParam(Arc<LabEntry>);

impl FromRequestParts<AppState> for LabParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let id = match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => id,
            Err(e) => {
                tracing::debug!("lab id not taken from the path: {e}");
                return Err(UNKNOWN_LAB);
            }
        };
        state.lab(&id).map(LabParam).ok_or(UNKNOWN_LAB)
    }
}

/// A lab and one of its steps, both looked up in the catalog.
struct StepParam {
    entry: Arc<LabEntry>,
    index: usize,
}

impl StepParam {
    fn step(&self) -> Result<&Step, ApiError> {
        self.entry.lab.steps.get(self.index).ok_or(UNKNOWN_STEP)
    }
}

impl FromRequestParts<AppState> for StepParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Ok(Path((lab, step))) =
            Path::<(String, String)>::from_request_parts(parts, state).await
        else {
            return Err(UNKNOWN_LAB);
        };
        let entry = state.lab(&lab).ok_or(UNKNOWN_LAB)?;
        if !course_labs::is_valid_id(&step) {
            return Err(UNKNOWN_STEP);
        }
        let index = entry
            .lab
            .steps
            .iter()
            .position(|s| s.id == step)
            .ok_or(UNKNOWN_STEP)?;
        Ok(StepParam { entry, index })
    }
}

/// The sidecar's routes, behind the security guard. Serve it with
/// [`crate::serve_on`], or mount it in another server (set the port with
/// [`AppState::set_port`]); drive it in tests with `tower::ServiceExt::oneshot`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(handlers::index))
        .route("/api/health", get(handlers::health))
        .route("/api/labs", get(handlers::labs))
        .route("/api/session", post(handlers::session))
        .route("/api/labs/{lab}/status", get(handlers::status))
        .route("/api/labs/{lab}/doctor", get(doctor::doctor))
        .route("/api/labs/{lab}/events", get(handlers::events))
        .route("/api/labs/{lab}/export", post(handlers::export))
        .route("/api/labs/{lab}/reset", post(handlers::reset))
        .route("/api/labs/{lab}/steps/{step}/run", post(handlers::run))
        .route(
            "/api/labs/{lab}/steps/{step}/cancel",
            post(handlers::cancel),
        )
        .route("/api/labs/{lab}/steps/{step}/output", get(handlers::output))
        .route("/api/progress", get(progress::get))
        .route("/api/progress/import", post(progress::import))
        .route("/api/labs/{lab}/help", post(help::help))
        .fallback(handlers::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), guard::guard))
        .with_state(state)
}
