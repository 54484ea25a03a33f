//! A lab's checks: their cached results, and a refresh of the cache at
//! most once per interval however many pages ask. How each kind of check
//! (`http`, `tcp`, `file`, `command`) runs is in `kinds`.

mod kinds;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use course_labs::{Lab, Port};
use serde::Serialize;

pub(crate) use kinds::run_check;

use crate::state::{LabEntry, lock, now_ms};

/// Where a check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CheckState {
    /// Not run yet.
    Pending,
    Pass,
    Fail,
}

/// The last result of one step's check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CheckResult {
    pub(crate) state: CheckState,
    pub(crate) message: String,
    /// When it ran, in Unix milliseconds.
    pub(crate) checked_at_ms: Option<u64>,
}

/// The cached results of a lab's checks.
pub(crate) struct CheckCache {
    /// One entry per step, `None` for steps without a check.
    pub(crate) results: Vec<Option<CheckResult>>,
    /// Declared ports something already listens on.
    pub(crate) ports_in_use: Vec<u16>,
    /// When the last refresh finished.
    pub(crate) refreshed_at: Option<Instant>,
    pub(crate) refreshed_at_ms: Option<u64>,
}

impl CheckCache {
    pub(crate) fn new(lab: &Lab) -> CheckCache {
        let pending = CheckResult {
            state: CheckState::Pending,
            message: "not checked yet".into(),
            checked_at_ms: None,
        };
        CheckCache {
            results: lab
                .steps
                .iter()
                .map(|s| s.check.as_ref().map(|_| pending.clone()))
                .collect(),
            ports_in_use: Vec::new(),
            refreshed_at: None,
            refreshed_at_ms: None,
        }
    }

    fn is_stale(&self, interval: Duration) -> bool {
        self.refreshed_at.is_none_or(|t| t.elapsed() >= interval)
    }
}

/// What a `status` event says about one step's check.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StatusEvent<'a> {
    pub(crate) step: &'a str,
    #[serde(flatten)]
    pub(crate) result: &'a CheckResult,
    pub(crate) hint: Option<&'a str>,
}

/// Marks a refresh as in progress for as long as it lives.
struct Refreshing<'a>(&'a AtomicBool);

impl<'a> Refreshing<'a> {
    fn take(flag: &'a AtomicBool) -> Option<Refreshing<'a>> {
        flag.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| Refreshing(flag))
    }
}

impl Drop for Refreshing<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Whether a refresh would run now: the cache is stale and no refresh is
/// in progress.
pub(crate) fn needs_refresh(entry: &LabEntry) -> bool {
    !entry.refreshing.load(Ordering::Acquire)
        && lock(&entry.checks).is_stale(entry.limits.check_interval)
}

/// Starts a refresh in the background if one is due (the status endpoint's
/// way: answer from the cache now, fresher next time).
pub(crate) fn refresh_soon(entry: &Arc<LabEntry>) {
    if needs_refresh(entry) {
        let entry = entry.clone();
        tokio::spawn(async move { refresh(&entry).await });
    }
}

/// Runs every check of the lab concurrently, unless the cache is younger
/// than the interval or another refresh is running: that is what makes each
/// check run at most once per interval. Sends a `status` event for every
/// check whose state or message changed.
pub(crate) async fn refresh(entry: &LabEntry) {
    let interval = entry.limits.check_interval;
    if !lock(&entry.checks).is_stale(interval) {
        return;
    }
    let Some(_refreshing) = Refreshing::take(&entry.refreshing) else {
        return;
    };
    // Another refresh may have finished between the first look and taking the flag.
    if !lock(&entry.checks).is_stale(interval) {
        return;
    }
    let dir = entry.dir.as_path();
    let probes = entry.lab.steps.iter().map(|step| async move {
        match &step.check {
            Some(check) => Some(run_check(check, dir).await),
            None => None,
        }
    });
    let outcomes = futures_util::future::join_all(probes).await;
    let ports = ports_in_use(&entry.lab.ports);
    let now = now_ms();
    let mut changed = Vec::new();
    {
        let mut cache = lock(&entry.checks);
        for (i, outcome) in outcomes.into_iter().enumerate() {
            let Some((pass, message)) = outcome else {
                continue;
            };
            let result = CheckResult {
                state: if pass {
                    CheckState::Pass
                } else {
                    CheckState::Fail
                },
                message,
                checked_at_ms: Some(now),
            };
            if let Some(slot) = cache.results.get_mut(i) {
                let differs = slot
                    .as_ref()
                    .is_none_or(|old| old.state != result.state || old.message != result.message);
                if differs {
                    changed.push((i, result.clone()));
                }
                *slot = Some(result);
            }
        }
        cache.ports_in_use = ports;
        cache.refreshed_at = Some(Instant::now());
        cache.refreshed_at_ms = Some(now);
    }
    for (i, result) in &changed {
        if let Some(step) = entry.lab.steps.get(*i) {
            if result.state == CheckState::Pass {
                // The lab's copy is `WORKSPACE/ID`: progress is kept beside it.
                crate::progress::record_pass(
                    entry.dir.parent().unwrap_or(&entry.dir),
                    &entry.lab.id,
                    &step.id,
                    &result.message,
                );
            }
            entry.send("status", &status_event(step, result));
        }
    }
}

pub(crate) fn status_event<'a>(
    step: &'a course_labs::Step,
    result: &'a CheckResult,
) -> StatusEvent<'a> {
    StatusEvent {
        step: &step.id,
        result,
        hint: failing_hint(step, result.state),
    }
}

/// The check's hint, when the check fails.
pub(crate) fn failing_hint(step: &course_labs::Step, state: CheckState) -> Option<&str> {
    match state {
        CheckState::Fail => step.check.as_ref()?.hint.as_deref(),
        CheckState::Pass | CheckState::Pending => None,
    }
}

/// Declared ports that something already listens on. Only "address in use"
/// counts: a port we may not bind (below 1024, say) is not evidence.
pub(crate) fn ports_in_use(ports: &[Port]) -> Vec<u16> {
    ports
        .iter()
        .filter(|p| crate::proc::port_taken(p.port).unwrap_or(false))
        .map(|p| p.port)
        .collect()
}
