//! `course lab follow`: a lab's steps followed in order, as a learner on the
//! page would, in a fresh export, with the sidecar's own runner.
//!
//! For each step: its check must not pass yet (a check that passes on the
//! starting state proves nothing), the step must succeed (a command exits 0;
//! a service keeps running), and then its check must pass. Services stay up
//! until the lab ends. Then Reset runs, and nothing of the lab may be left:
//! no process of the groups it started, no declared port bound, no container
//! carrying the lab's labels.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use course_labs::{Lab, Need, Step, Transcript};
use course_sidecar::{LabRunner, Limits, OutputLine, Phase};

use crate::project::Project;

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
    let docker = runtime.block_on(docker_engine());
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

/// The daemon label of the course's own test engine (scripts/containers),
/// whose base images are local stand-ins and which pulls from no registry.
const STANDIN_ENGINE_LABEL: &str = "mlops-course.standins=true";

/// The Docker engine `docker` reaches, if one answers within a few seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Docker {
    /// None answers.
    Missing,
    /// The course's test engine: stand-in base images, no registry.
    Standins,
    /// Any other engine, which pulls from registries as a learner's does.
    Engine,
}

async fn docker_engine() -> Docker {
    let probe = tokio::process::Command::new("docker")
        .args(["info", "--format", "{{json .Labels}}"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(Duration::from_secs(15), probe).await {
        Ok(Ok(out)) if out.status.success() => {
            if String::from_utf8_lossy(&out.stdout).contains(STANDIN_ENGINE_LABEL) {
                Docker::Standins
            } else {
                Docker::Engine
            }
        }
        _ => Docker::Missing,
    }
}

struct Follower<'a> {
    project: &'a Project,
    lab: &'a Lab,
    options: &'a FollowOptions,
    docker: Docker,
    dir: PathBuf,
}

/// A step's outcome: the verdict, one line after the ids, and detail lines.
struct Outcome {
    verdict: Verdict,
    summary: String,
    detail: Vec<String>,
}

impl Outcome {
    fn pass(summary: String) -> Outcome {
        Outcome {
            verdict: Verdict::Pass,
            summary,
            detail: Vec::new(),
        }
    }

    fn fail(summary: String) -> Outcome {
        Outcome {
            verdict: Verdict::Fail,
            summary,
            detail: Vec::new(),
        }
    }

    fn skip(summary: String) -> Outcome {
        Outcome {
            verdict: Verdict::Skip,
            summary,
            detail: Vec::new(),
        }
    }
}

impl Follower<'_> {
    fn print(&self, step: &str, outcome: &Outcome, tally: &mut Tally) {
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

    async fn run(&self) -> Result<Tally> {
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

    /// Reset, then nothing of the lab may be left.
    async fn reset(&self, runner: &LabRunner) -> Outcome {
        let started = Instant::now();
        let cleanups = match runner.reset().await {
            Ok(ids) => ids,
            Err(e) => return Outcome::fail(format!("reset could not start: {e}")),
        };
        let mut problems = Vec::new();
        for id in &cleanups {
            if let Some(exit) = runner.last_exit(id)
                && exit.phase == Phase::Cleanup
                && !exit.succeeded()
            {
                problems.push(format!("the cleanup of `{id}` {}", exit.describe()));
                problems.extend(tail(runner, id).into_iter().map(|l| format!("  {l}")));
            }
        }
        for p in runner.leftovers() {
            problems.push(format!(
                "{p} is still running, in a process group the lab started"
            ));
        }
        let deadline = Instant::now() + SETTLE;
        let mut ports: Vec<u16> = self.lab.ports.iter().map(|p| p.port).collect();
        let mut containers;
        loop {
            ports.retain(|&p| port_bound(p));
            containers = if self.docker != Docker::Missing {
                lab_containers(&self.lab.id).await
            } else {
                Vec::new()
            };
            if (ports.is_empty() && containers.is_empty()) || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(POLL).await;
        }
        for p in ports {
            problems.push(format!(
                "port {p} is still bound after the reset{}",
                holder(p)
            ));
        }
        for c in containers {
            problems.push(format!(
                "container {c} of the lab is still there after the reset"
            ));
        }
        let took = started.elapsed().as_secs_f64();
        if problems.is_empty() {
            Outcome::pass(format!(
                "{took:.1} s  {} cleanup(s) ran; no process, port or container of the lab is left",
                cleanups.len()
            ))
        } else {
            let mut o = Outcome::fail(format!("{took:.1} s  the reset left things behind"));
            o.detail = problems;
            o
        }
    }

    /// Writes the step's normalised output as its transcript, atomically.
    fn record(&self, runner: &LabRunner, step: &Step) -> Result<()> {
        let (lines, _) = runner.output(&step.id);
        let text: String =
            lines
                .iter()
                .filter(|l| l.phase == Phase::Run)
                .fold(String::new(), |mut s, l| {
                    let _ = writeln!(s, "{}", l.text);
                    s
                });
        let normal =
            crate::transcript::normalise(&text, &self.dir, &self.lab.id, &self.project.root);
        let transcript = Transcript::new(&self.lab.id, step, normal);
        let path = course_labs::transcript_path(&self.project.book, &self.lab.id, &step.id);
        write_atomically(&path, transcript.render().as_bytes())
    }
}

/// The last lines a step printed, for a failure.
fn tail(runner: &LabRunner, step: &str) -> Vec<String> {
    let (lines, _) = runner.output(step);
    let skip = lines.len().saturating_sub(TAIL_LINES);
    lines
        .iter()
        .skip(skip)
        .map(|l: &OutputLine| l.text.clone())
        .collect()
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("a transcript path has a folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("writing into {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Whether something listens on the loopback port (v4 or v6).
fn port_bound(port: u16) -> bool {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
    let quick = Duration::from_millis(300);
    [
        SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
    ]
    .iter()
    .any(|a| TcpStream::connect_timeout(a, quick).is_ok())
        || std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err()
}

/// `" by pid N (command)"` for the process listening on the port, when
/// `/proc` tells; empty otherwise.
fn holder(port: u16) -> String {
    course_sidecar::port_listener(port)
        .map(|(pid, cmd)| format!(" by pid {pid} ({cmd})"))
        .unwrap_or_default()
}

/// Names of containers (running or not) that belong to the lab: labelled
/// `mlops-course.lab=ID`, or in the compose project named after it.
async fn lab_containers(lab: &str) -> Vec<String> {
    let mut names = Vec::new();
    for label in [
        format!("mlops-course.lab={lab}"),
        format!("com.docker.compose.project={lab}"),
    ] {
        let out = tokio::process::Command::new("docker")
            .args([
                "ps",
                "-a",
                "--filter",
                &format!("label={label}"),
                "--format",
                "{{.Names}}",
            ])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .output();
        if let Ok(Ok(out)) = tokio::time::timeout(Duration::from_secs(15), out).await {
            for name in String::from_utf8_lossy(&out.stdout).lines() {
                if !name.is_empty() && !names.iter().any(|n| n == name) {
                    names.push(name.to_owned());
                }
            }
        }
    }
    names
}
