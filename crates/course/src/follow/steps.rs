//! Following a lab's steps: each step's check must fail before it and pass
//! after it; a command must exit 0, a service must keep running.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use course_labs::{Lab, Need, Step};
use course_sidecar::{LabRunner, Limits, OutputLine};

use super::machine::{Docker, holder, port_bound};
use super::{FollowOptions, MAX_SERVICE_READY, MIN_CHECK_WAIT, POLL, TAIL_LINES, Tally, Verdict};
use crate::project::Project;

/// One lab followed in its own fresh export at `dir`.
pub(super) struct Follower<'a> {
    pub(super) project: &'a Project,
    pub(super) lab: &'a Lab,
    pub(super) options: &'a FollowOptions,
    pub(super) docker: Docker,
    pub(super) dir: PathBuf,
}

/// A step's outcome: the verdict, one line after the ids, and detail lines.
pub(super) struct Outcome {
    pub(super) verdict: Verdict,
    pub(super) summary: String,
    pub(super) detail: Vec<String>,
}

impl Outcome {
    pub(super) fn pass(summary: String) -> Outcome {
        Outcome {
            verdict: Verdict::Pass,
            summary,
            detail: Vec::new(),
        }
    }

    pub(super) fn fail(summary: String) -> Outcome {
        Outcome {
            verdict: Verdict::Fail,
            summary,
            detail: Vec::new(),
        }
    }

    pub(super) fn skip(summary: String) -> Outcome {
        Outcome {
            verdict: Verdict::Skip,
            summary,
            detail: Vec::new(),
        }
    }
}

impl Follower<'_> {
    pub(super) fn print(&self, step: &str, outcome: &Outcome, tally: &mut Tally) {
        let word = match outcome.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "skip",
        };
        println!(
            "{word:<5} {:<22} {step:<18} {}",
            self.lab.id, outcome.summary
        );
        for line in &outcome.detail {
            println!("      | {line}");
        }
        tally.add(outcome.verdict);
    }

    pub(super) async fn run(&self) -> Result<Tally> {
        let mut tally = Tally::default();
        // A port already taken would make the lab's services fail, or its
        // checks pass on somebody else's service.
        let taken: Vec<String> = self
            .lab
            .ports
            .iter()
            .filter(|p| port_bound(p.port))
            .map(|p| {
                format!(
                    "port {} ({}) is in use{}",
                    p.port,
                    p.service,
                    holder(p.port)
                )
            })
            .collect();
        if !taken.is_empty() {
            let mut o = Outcome::fail("the lab's ports are taken before it starts".into());
            o.detail = taken;
            self.print("(ports)", &o, &mut tally);
            return Ok(tally);
        }
        course_labs::export_lab(self.lab, &self.dir, false)
            .with_context(|| format!("exporting {} into {}", self.lab.id, self.dir.display()))?;
        let runner = LabRunner::new(self.lab.clone(), self.dir.clone(), Limits::default());
        let steps = async {
            for step in &self.lab.steps {
                let outcome = self.step(&runner, step).await;
                self.print(&step.id, &outcome, &mut tally);
            }
        };
        // The steps run in process groups of their own, so Ctrl+C reaches
        // only the follower: it resets the lab before it stops.
        let interrupted = tokio::select! {
            () = steps => false,
            _ = tokio::signal::ctrl_c() => true,
        };
        if interrupted {
            eprintln!("interrupted: resetting {} before stopping", self.lab.id);
            let reset = self.reset(&runner).await;
            self.print("(reset)", &reset, &mut tally);
            bail!("interrupted while following {}", self.lab.id);
        }
        let reset = self.reset(&runner).await;
        self.print("(reset)", &reset, &mut tally);
        Ok(tally)
    }

    /// What the machine lacks of what the step needs, as a skip reason.
    fn unmet(&self, step: &Step) -> Option<(Need, String)> {
        step.needs.iter().find_map(|&need| {
            let have = self.options.with.contains(&need)
                || match need {
                    Need::Docker => self.docker != Docker::Missing,
                    Need::Registry => self.docker == Docker::Engine,
                    Need::Kubernetes | Need::Github => false,
                };
            (!have).then(|| (need, format!("needs {}", need.describe())))
        })
    }

    async fn step(&self, runner: &LabRunner, step: &Step) -> Outcome {
        if let Some((need, why)) = self.unmet(step) {
            if need == Need::Docker && crate::ci() {
                let mut o = Outcome::fail(format!("{why}, and none answers (`docker info`)"));
                o.detail.push("CI=true: a Docker engine is required; start one (scripts/containers/engine.sh start) and point DOCKER_HOST at it".into());
                return o;
            }
            let hint = match need {
                Need::Docker => " (install Docker Engine 25 or newer and start it)",
                Need::Kubernetes => " (pass --with kubernetes where kind, kubectl and helm work)",
                Need::Github => " (pass --with github where the lab's repository is on GitHub)",
                Need::Registry if self.docker == Docker::Standins => {
                    " (this engine has local stand-ins for base images only; the labs workflow runs it with upstream images)"
                }
                Need::Registry => " (a Docker engine that can pull images)",
            };
            return Outcome::skip(format!("{why}{hint}"));
        }
        let started = Instant::now();
        if step.run.is_none() {
            // A step to read (and perhaps look at): its check, if any, must hold.
            return match &step.check {
                None => Outcome::pass("nothing to run".into()),
                Some(check) => match self
                    .wait_for_check(runner, step, check.timeout.max(MIN_CHECK_WAIT), None)
                    .await
                {
                    Ok(msg) => Outcome::pass(msg),
                    Err(o) => o,
                },
            };
        }
        let mut before = None;
        if step.check.is_some()
            && !step.rerunnable
            && let Some((true, msg)) = runner.check(&step.id).await
        {
            before = Some(msg);
        }
        if let Err(e) = runner.start(&step.id) {
            return Outcome::fail(format!("could not start: {e}"));
        }
        let result = if step.service {
            self.service(runner, step).await
        } else {
            self.command(runner, step).await
        };
        let mut outcome = match result {
            Ok(msg) => Outcome::pass(format!("{:.1} s  {msg}", started.elapsed().as_secs_f64())),
            Err(o) => o,
        };
        if let Some(msg) = before {
            outcome.verdict = Verdict::Fail;
            outcome.detail.insert(
                0,
                format!(
                    "its check already passed before the step ran, so it proves nothing: {msg}"
                ),
            );
            outcome.detail.insert(
                1,
                "make the check look at what the step makes, or mark a step meant to be re-run `rerunnable: true`".into(),
            );
        }
        if outcome.verdict == Verdict::Pass
            && self.options.record
            && let Err(e) = self.record(runner, step)
        {
            outcome.verdict = Verdict::Fail;
            outcome
                .detail
                .push(format!("could not write its transcript: {e:#}"));
        }
        outcome
    }

    /// A command: it must exit 0, then its check must pass.
    async fn command(&self, runner: &LabRunner, step: &Step) -> Result<String, Outcome> {
        let exit = runner.wait(&step.id).await;
        match exit {
            Some(exit) if exit.succeeded() => {}
            Some(exit) => {
                let mut o = Outcome::fail(format!("the command {}", exit.describe()));
                o.detail = tail(runner, &step.id);
                return Err(o);
            }
            None => return Err(Outcome::fail("the command never ran".into())),
        }
        match &step.check {
            None => Ok("exit 0".into()),
            Some(check) => {
                self.wait_for_check(runner, step, check.timeout.max(MIN_CHECK_WAIT), None)
                    .await
            }
        }
    }

    /// A service: its check must pass while it keeps running.
    async fn service(&self, runner: &LabRunner, step: &Step) -> Result<String, Outcome> {
        let budget = step.timeout.min(MAX_SERVICE_READY);
        match &step.check {
            Some(_) => {
                self.wait_for_check(runner, step, budget, Some(runner))
                    .await
            }
            None => {
                // Nothing to ask it: it must at least stay up a moment.
                tokio::time::sleep(MIN_CHECK_WAIT).await;
                if runner.is_running(&step.id) {
                    Ok("running".into())
                } else {
                    let exit = runner.wait(&step.id).await;
                    let mut o = Outcome::fail(format!(
                        "the service {}",
                        exit.map(|e| e.describe())
                            .unwrap_or_else(|| "stopped".into())
                    ));
                    o.detail = tail(runner, &step.id);
                    Err(o)
                }
            }
        }
    }

    /// Re-runs the step's check until it passes or `budget` is spent; a
    /// service that exits meanwhile fails at once.
    async fn wait_for_check(
        &self,
        runner: &LabRunner,
        step: &Step,
        budget: Duration,
        service: Option<&LabRunner>,
    ) -> Result<String, Outcome> {
        let deadline = Instant::now() + budget;
        loop {
            let Some((pass, msg)) = runner.check(&step.id).await else {
                return Ok("no check".into());
            };
            if pass {
                return Ok(msg);
            }
            if service.is_some() && !runner.is_running(&step.id) {
                let exit = runner.wait(&step.id).await;
                let mut o = Outcome::fail(format!(
                    "the service {} before its check passed: {msg}",
                    exit.map(|e| e.describe())
                        .unwrap_or_else(|| "stopped".into())
                ));
                o.detail = tail(runner, &step.id);
                return Err(o);
            }
            if Instant::now() >= deadline {
                let mut o = Outcome::fail(format!(
                    "its check did not pass within {:.0} s: {msg}",
                    budget.as_secs_f64()
                ));
                if let Some(hint) = step.check.as_ref().and_then(|c| c.hint.as_deref()) {
                    o.detail.push(format!("hint: {hint}"));
                }
                o.detail.extend(tail(runner, &step.id));
                return Err(o);
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// The last lines a step printed, for a failure.
pub(super) fn tail(runner: &LabRunner, step: &str) -> Vec<String> {
    let (lines, _) = runner.output(step);
    let skip = lines.len().saturating_sub(TAIL_LINES);
    lines
        .iter()
        .skip(skip)
        .map(|l: &OutputLine| l.text.clone())
        .collect()
}
