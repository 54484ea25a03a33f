//! After a lab: Reset, and the proof that nothing of the lab is left; and
//! the transcripts of the steps that passed.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use course_labs::{Step, Transcript};
use course_sidecar::{LabRunner, Phase};

use super::machine::{Docker, holder, lab_containers, port_bound};
use super::steps::{Follower, Outcome, tail};
use super::{POLL, SETTLE};

impl Follower<'_> {
    /// Reset, then nothing of the lab may be left.
    pub(super) async fn reset(&self, runner: &LabRunner) -> Outcome {
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
    pub(super) fn record(&self, runner: &LabRunner, step: &Step) -> Result<()> {
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

/// Writes `bytes` to `path` through a temporary file beside it.
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
