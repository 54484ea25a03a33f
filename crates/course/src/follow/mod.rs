//! `course lab follow`: a lab's steps followed in order, as a learner on the
//! page would, in a fresh export, with the sidecar's own runner.
//!
//! For each step: its check must not pass yet (a check that passes on the
//! starting state proves nothing), the step must succeed (a command exits 0;
//! a service keeps running), and then its check must pass. Services stay up
//! until the lab ends. Then Reset runs, and nothing of the lab may be left:
//! no process of the groups it started, no declared port bound, no container
//! carrying the lab's labels.
//!
//! Here: the options, the tally and `course lab status`. The parts:
//! `steps` (a step and its check), `reset` (the reset, the leftovers, the
//! transcripts) and `machine` (Docker, ports and containers).

mod machine;
mod reset;
mod steps;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use course_labs::Need;
use course_sidecar::{LabRunner, Limits};

use crate::project::Project;
use steps::Follower;

/// How often a check is re-run while it waits to pass.
const POLL: Duration = Duration::from_millis(250);
/// The least time a check gets to pass after its step.
const MIN_CHECK_WAIT: Duration = Duration::from_secs(2);
/// The longest a service gets to become ready.
const MAX_SERVICE_READY: Duration = Duration::from_secs(300);
/// Output lines quoted under a failure.
const TAIL_LINES: usize = 20;
/// How long the lab's ports and containers get to go away after a reset.
const SETTLE: Duration = Duration::from_secs(10);

/// What `course lab follow` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct FollowOptions {
    /// What this machine offers beyond a Docker engine (which is detected):
    /// steps that need anything else are skipped.
    pub with: Vec<Need>,
    /// Write each passing step's transcript into the book.
    pub record: bool,
    /// Keep the exported copies (their folder is printed).
    pub keep: bool,
}

/// How one step (or a lab's reset) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It did what it says.
    Pass,
    /// It did not; the detail says why.
    Fail,
    /// It needs what this machine lacks.
    Skip,
}

/// The counts of a follow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Steps (and resets) that passed.
    pub passed: usize,
    /// That failed.
    pub failed: usize,
    /// That were skipped.
    pub skipped: usize,
}

impl Tally {
    fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail => self.failed += 1,
            Verdict::Skip => self.skipped += 1,
        }
    }
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "follow: {} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// Follows one lab (or every lab, in module order) and prints a line per
/// step, then the tally. Returns the tally.
pub fn follow(project: &Project, id: Option<&str>, options: &FollowOptions) -> Result<Tally> {
    let catalog = crate::lab::sound_catalog(project, id)?;
    let labs = crate::lab::chosen(&catalog, id)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let docker = runtime.block_on(machine::docker_engine());
    let workspace = tempfile::Builder::new()
        .prefix("course-follow-")
        .tempdir()
        .context("making a folder for the labs' copies")?;
    let mut tally = Tally::default();
    for lab in labs {
        let started = Instant::now();
        let follower = Follower {
            project,
            lab,
            options,
            docker,
            dir: workspace.path().join(&lab.id),
        };
        let lab_tally = runtime.block_on(follower.run())?;
        println!(
            "lab   {:<22} {} passed, {} failed, {} skipped in {:.1} s",
            lab.id,
            lab_tally.passed,
            lab_tally.failed,
            lab_tally.skipped,
            started.elapsed().as_secs_f64()
        );
        tally += lab_tally;
    }
    if options.keep {
        let kept = workspace.keep();
        println!("the labs' copies are kept in {}", kept.display());
    }
    println!("{tally}");
    Ok(tally)
}

/// `course lab status`: every check of the lab run once, at once, in the
/// learner's copy at `dir`, as one refresh of the page does. Prints a line
/// per step and the time the refresh took; returns whether every check passed.
pub fn status(project: &Project, id: &str, dir: &Path) -> Result<bool> {
    let catalog = crate::lab::sound_catalog(project, Some(id))?;
    let lab = crate::lab::lab_by_id(&catalog, id)?;
    if !dir.is_dir() {
        bail!(
            "{} does not exist\n  help: export the lab first: course lab export {id} {}",
            dir.display(),
            dir.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let runner = LabRunner::new(lab.clone(), dir.to_path_buf(), Limits::default());
    let started = Instant::now();
    let results = runtime.block_on(runner.check_all());
    let took = started.elapsed();
    let (mut passed, mut failed) = (0, 0);
    for (step, outcome) in &results {
        match outcome {
            Some((true, msg)) => {
                passed += 1;
                println!("pass  {step:<18} {msg}");
            }
            Some((false, msg)) => {
                failed += 1;
                println!("fail  {step:<18} {msg}");
            }
            None => println!("----  {step:<18} no check"),
        }
    }
    println!(
        "checks: {passed} pass, {failed} fail; the refresh took {:.3} s",
        took.as_secs_f64()
    );
    Ok(failed == 0)
}
