//! The routes, their handlers, and the one error type they answer with.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use course_labs::{ExportError, Step};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::checks::{self, CheckResult};
use crate::runner::{self, ExitInfo, OutputLog, RunError};
use crate::state::{AppState, LabEntry, lock};
use crate::{events, security};

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

const UNKNOWN_LAB: ApiError = ApiError::NotFound("no such lab");
const UNKNOWN_STEP: ApiError = ApiError::NotFound("no such step");

/// A lab named in the path, looked up in the catalog. Anything that is not
/// a catalog id — bad UTF-8, `..%2F..`, unknown — is a 404.
pub(crate) struct LabParam(pub(crate) Arc<LabEntry>);

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
pub(crate) struct StepParam {
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
        .route("/", get(index))
        .route("/api/health", get(health))
        .route("/api/labs", get(labs))
        .route("/api/session", post(session))
        .route("/api/labs/{lab}/status", get(status))
        .route("/api/labs/{lab}/events", get(events::events))
        .route("/api/labs/{lab}/export", post(export))
        .route("/api/labs/{lab}/reset", post(reset))
        .route("/api/labs/{lab}/steps/{step}/run", post(run))
        .route("/api/labs/{lab}/steps/{step}/cancel", post(cancel))
        .route("/api/labs/{lab}/steps/{step}/output", get(output))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::guard,
        ))
        .with_state(state)
}

/// `POST /api/session`: 204 when the token is right (the guard answers 401
/// otherwise). Changes nothing: pages use it to check a pasted token.
async fn session() -> StatusCode {
    StatusCode::NO_CONTENT
}

async fn index() -> &'static str {
    "course-sidecar is running. Open a lab page of the course: it talks to the API under /api/.\n"
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint")
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

#[derive(Serialize)]
struct LabSummary<'a> {
    id: &'a str,
    title: &'a str,
    module: u8,
    minutes: u32,
    ports: Vec<PortSummary<'a>>,
    steps: Vec<StepSummary<'a>>,
}

#[derive(Serialize)]
struct PortSummary<'a> {
    port: u16,
    service: &'a str,
}

#[derive(Serialize)]
struct StepSummary<'a> {
    id: &'a str,
    title: &'a str,
    runnable: bool,
    service: bool,
    check: Option<String>,
    has_cleanup: bool,
}

async fn labs(State(state): State<AppState>) -> Json<serde_json::Value> {
    let labs: Vec<LabSummary<'_>> = state
        .catalog()
        .labs
        .iter()
        .map(|lab| LabSummary {
            id: &lab.id,
            title: &lab.title,
            module: lab.module,
            minutes: lab.minutes,
            ports: lab
                .ports
                .iter()
                .map(|p| PortSummary {
                    port: p.port,
                    service: &p.service,
                })
                .collect(),
            steps: lab
                .steps
                .iter()
                .map(|s| StepSummary {
                    id: &s.id,
                    title: &s.title,
                    runnable: s.run.is_some(),
                    service: s.service,
                    check: s.check.as_ref().map(|c| c.spec.describe()),
                    has_cleanup: s.cleanup.is_some(),
                })
                .collect(),
        })
        .collect();
    Json(json!({ "labs": labs }))
}

#[derive(Serialize)]
struct Status<'a> {
    lab: &'a str,
    exported: bool,
    /// Where the learner's copy is (or goes): shown on the page.
    copy: String,
    /// When the checks last ran (Unix ms), `null` before the first time.
    checked_at_ms: Option<u64>,
    /// A refresh is under way; the next answer will be fresher.
    refreshing: bool,
    ports_in_use: Vec<u16>,
    running: Vec<&'a str>,
    resetting: bool,
    steps: Vec<StepStatus<'a>>,
}

#[derive(Serialize)]
struct StepStatus<'a> {
    id: &'a str,
    check: Option<CheckStatus<'a>>,
    running: bool,
    started_at_ms: Option<u64>,
    last_exit: Option<ExitInfo>,
}

#[derive(Serialize)]
struct CheckStatus<'a> {
    kind: &'static str,
    #[serde(flatten)]
    result: CheckResult,
    hint: Option<&'a str>,
}

/// `GET /api/labs/{lab}/status`: answered from the cache at once; a stale
/// cache starts one (coalesced) refresh in the background.
async fn status(LabParam(entry): LabParam) -> Json<serde_json::Value> {
    checks::refresh_soon(&entry);
    let lab = &entry.lab;
    let (results, ports_in_use, checked_at_ms) = {
        let cache = lock(&entry.checks);
        (
            cache.results.clone(),
            cache.ports_in_use.clone(),
            cache.refreshed_at_ms,
        )
    };
    let steps_state = lock(&entry.steps);
    let steps: Vec<StepStatus<'_>> = lab
        .steps
        .iter()
        .zip(results)
        .map(|(step, result)| {
            let run = steps_state.by_id.get(&step.id);
            let running = run.and_then(|r| r.running.as_ref());
            StepStatus {
                id: &step.id,
                check: step.check.as_ref().zip(result).map(|(check, result)| {
                    let hint = checks::status_event(step, &result).hint;
                    CheckStatus {
                        kind: check.spec.kind(),
                        hint: hint.and(check.hint.as_deref()),
                        result,
                    }
                }),
                running: running.is_some(),
                started_at_ms: running.map(|r| r.started_at_ms),
                last_exit: run.and_then(|r| r.last_exit.clone()),
            }
        })
        .collect();
    let body = Status {
        lab: &lab.id,
        exported: entry.exported(),
        copy: entry.dir.display().to_string(),
        checked_at_ms,
        refreshing: entry.refreshing.load(std::sync::atomic::Ordering::Acquire),
        ports_in_use,
        running: steps.iter().filter(|s| s.running).map(|s| s.id).collect(),
        resetting: steps_state.resetting,
        steps,
    };
    Json(serde_json::to_value(&body).unwrap_or_default())
}

#[derive(Deserialize)]
struct ExportQuery {
    #[serde(default)]
    force: bool,
}

/// `POST /api/labs/{lab}/export[?force=true]`: copies the lab's files into
/// `workspace/ID/`; refuses (409) to replace files unless `force`.
async fn export(
    State(state): State<AppState>,
    LabParam(entry): LabParam,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let Ok(Query(ExportQuery { force })) = query else {
        return Err(ApiError::BadRequest(
            "the only query parameter is force=true|false".into(),
        ));
    };
    let task_entry = entry.clone();
    let workspace = state.workspace().to_path_buf();
    let exported = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&workspace).map_err(|source| ExportError::Io {
            path: workspace.clone(),
            source,
        })?;
        course_labs::export_lab(&task_entry.lab, &task_entry.dir, force)
    })
    .await
    .map_err(|e| {
        tracing::error!("the export task failed: {e}");
        ApiError::Internal
    })?;
    match exported {
        Ok(report) => {
            tracing::info!(lab = %entry.lab.id, files = report.written.len(), "lab exported");
            Ok((
                StatusCode::CREATED,
                Json(json!({ "lab": entry.lab.id, "written": report.written })),
            ))
        }
        Err(ExportError::WouldOverwrite { existing, .. }) => Err(ApiError::Conflict(format!(
            "{} of the lab's files already exist in your copy; export with ?force=true to replace them",
            existing.len()
        ))),
        Err(e) => {
            tracing::error!(lab = %entry.lab.id, "export failed: {e}");
            Err(ApiError::Internal)
        }
    }
}

/// `POST /api/labs/{lab}/reset`: 202, then the cleanups run in the background.
async fn reset(
    State(state): State<AppState>,
    LabParam(entry): LabParam,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let (cleanups, work) = runner::reset(&state.shared.slots, &entry)?;
    tokio::spawn(work);
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "lab": entry.lab.id, "cleanups": cleanups })),
    ))
}

/// `POST /api/labs/{lab}/steps/{step}/run`: 202, then output and exit on
/// the event stream.
async fn run(
    State(state): State<AppState>,
    param: StepParam,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let step = param.step()?;
    // Said before the run starts: a service step that finds its port taken
    // fails, and this tells the learner why.
    let ports_in_use = checks::ports_in_use(&param.entry.lab.ports);
    runner::start(&state.shared.slots, &param.entry, step)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "lab": param.entry.lab.id,
            "step": step.id,
            "started": true,
            "ports_in_use": ports_in_use,
        })),
    ))
}

/// `POST /api/labs/{lab}/steps/{step}/cancel`: 202, the `exit` event follows.
async fn cancel(param: StepParam) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let step = param.step()?;
    runner::cancel(&param.entry, step)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "lab": param.entry.lab.id, "step": step.id, "cancelling": true })),
    ))
}

#[derive(Serialize)]
struct StepOutput<'a> {
    step: &'a str,
    running: bool,
    #[serde(flatten)]
    output: OutputLog,
    last_exit: Option<ExitInfo>,
}

/// `GET /api/labs/{lab}/steps/{step}/output`: the output kept of the
/// step's latest run, for a page that opens after it started.
async fn output(param: StepParam) -> Result<Json<serde_json::Value>, ApiError> {
    let step = param.step()?;
    let body = {
        let steps = lock(&param.entry.steps);
        let run = steps.by_id.get(&step.id);
        StepOutput {
            step: &step.id,
            running: run.is_some_and(|r| r.running.is_some()),
            output: run.map(|r| r.output.clone()).unwrap_or_default(),
            last_exit: run.and_then(|r| r.last_exit.clone()),
        }
    };
    Ok(Json(serde_json::to_value(&body).unwrap_or_default()))
}
