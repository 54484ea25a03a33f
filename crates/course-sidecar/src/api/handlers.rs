//! The endpoints: each looks its lab and step up through [`LabParam`] and
//! [`StepParam`], calls the domain modules, and answers JSON (or, for
//! `events`, server-sent events).

use std::convert::Infallible;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use course_labs::ExportError;
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{ApiError, LabParam, StepParam};
use crate::checks::{self, CheckResult};
use crate::events::Subscription;
use crate::runner::{self, ExitInfo, OutputLog};
use crate::state::{AppState, lock};

/// `POST /api/session`: 204 when the token is right (the guard answers 401
/// otherwise). Changes nothing: pages use it to check a pasted token.
pub(super) async fn session() -> StatusCode {
    StatusCode::NO_CONTENT
}

pub(super) async fn index() -> &'static str {
    "course-sidecar is running. Open a lab page of the course: it talks to the API under /api/.\n"
}

pub(super) async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint")
}

pub(super) async fn health() -> Json<serde_json::Value> {
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

pub(super) async fn labs(State(state): State<AppState>) -> Json<serde_json::Value> {
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
    /// The troubleshooting entry a failed check is known as, if one matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    known: Option<crate::Known>,
}

/// `GET /api/labs/{lab}/status`: answered from the cache at once; a stale
/// cache starts one (coalesced) refresh in the background.
pub(super) async fn status(LabParam(entry): LabParam) -> Json<serde_json::Value> {
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
                        known: (result.state == checks::CheckState::Fail)
                            .then(|| crate::known::for_check(&entry, &result.message))
                            .flatten(),
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
pub(super) struct ExportQuery {
    #[serde(default)]
    force: bool,
}

/// `GET /api/labs/{lab}/events`: the lab's events as they happen, after a
/// `status` event per check from the cache.
pub(super) async fn events(
    State(state): State<AppState>,
    LabParam(entry): LabParam,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let events = Subscription::open(&state, &entry)?
        .into_stream()
        .map(|e| Ok(Event::default().event(e.name()).data(e.data())));
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// `POST /api/labs/{lab}/export[?force=true]`: copies the lab's files into
/// `workspace/ID/`; refuses (409) to replace files unless `force`.
pub(super) async fn export(
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
    let report = exported?;
    tracing::info!(lab = %entry.lab.id, files = report.written.len(), "lab exported");
    Ok((
        StatusCode::CREATED,
        Json(json!({ "lab": entry.lab.id, "written": report.written })),
    ))
}

/// `POST /api/labs/{lab}/reset`: 202, then the cleanups run in the background.
pub(super) async fn reset(
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
pub(super) async fn run(
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
pub(super) async fn cancel(
    param: StepParam,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
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
pub(super) async fn output(param: StepParam) -> Result<Json<serde_json::Value>, ApiError> {
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
