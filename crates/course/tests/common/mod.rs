//! The harness every suite of the `course` CLI shares, in the spirit of
//! mdBook's own `BookTest`: a scratch copy of the fixture course, edited by
//! the test, then driven through the CLI (the real binary) or the library,
//! with helpers to assert on what it printed and wrote.

#![allow(
    dead_code,
    reason = "each suite is its own crate and uses part of the harness"
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use course::project::Project;
use futures_util::StreamExt;

/// The fixture course: a book, its labs, templates and transcripts.
pub(crate) fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../preprocessors/mdbook-labs/tests/fixtures/basic")
}

/// A scratch copy of the fixture course, removed when dropped.
pub(crate) struct CourseTest {
    dir: tempfile::TempDir,
}

impl CourseTest {
    /// A fresh copy of the fixture course (without what a build left in it).
    pub(crate) fn new() -> CourseTest {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_dir(&fixture(), dir.path());
        CourseTest { dir }
    }

    /// The course's root (holds `book/` and `labs/`).
    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `rel` inside the course.
    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// The book folder (holds book.toml).
    pub(crate) fn book(&self) -> PathBuf {
        self.path("book")
    }

    /// The course as the library finds it.
    pub(crate) fn project(&self) -> Project {
        Project::locate(Some(&self.book())).expect("project")
    }

    /// `course serve` of the course on a free loopback port, its sidecar's
    /// workspace in `workspace/` of the course.
    pub(crate) async fn serve(&self) -> course::serve::Server {
        course::serve::start(
            self.project(),
            "127.0.0.1:0".parse().expect("addr"),
            Some(self.path("workspace")),
        )
        .await
        .expect("start")
    }

    /// Rewrites the file `rel` with `f`.
    pub(crate) fn edit(&self, rel: &str, f: impl FnOnce(String) -> String) -> &CourseTest {
        let path = self.path(rel);
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, f(text)).expect("write");
        self
    }

    /// Writes the file `rel`, making its folders.
    pub(crate) fn write(&self, rel: &str, text: &str) -> &CourseTest {
        let path = self.path(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write");
        self
    }

    /// What `course check` finds, one message per problem.
    pub(crate) fn check(&self) -> Vec<String> {
        course::check::check(&self.project())
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// The `course` binary, pointed at this course's book.
    pub(crate) fn cmd(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_course"));
        cmd.arg("--book").arg(self.book());
        cmd
    }

    /// Runs `course ARGS…` on this course.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        Run(self.cmd().args(args).output().expect("run course"))
    }

    /// Adds lab `id` with `steps` (and a `notes.txt`), binding `ports`.
    pub(crate) fn add_lab(&self, id: &str, ports: &[u16], steps: &str) -> &CourseTest {
        let mut yaml = format!(
            "id: {id}\ntitle: Lab {id}\nmodule: 1\nsummary: A lab to follow.\nminutes: 1\n"
        );
        if !ports.is_empty() {
            yaml.push_str("ports:\n");
            for p in ports {
                yaml.push_str(&format!("  - port: {p}\n    service: a web server\n"));
            }
        }
        yaml.push_str("files:\n  - path: notes.txt\nsteps:\n");
        yaml.push_str(steps);
        self.write(&format!("labs/{id}/notes.txt"), "notes\n")
            .write(&format!("labs/{id}/lab.yaml"), &yaml)
    }
}

/// Copies the fixture, leaving out what a stock build wrote into it.
fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from).sort_by_file_name() {
        let entry = entry.expect("entry");
        let rel = entry.path().strip_prefix(from).expect("inside");
        if rel.starts_with("book/src/labs") || rel.starts_with("book/book") {
            continue;
        }
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A finished run of the binary.
pub(crate) struct Run(pub(crate) Output);

impl Run {
    /// Whether it exited 0.
    pub(crate) fn ok(&self) -> bool {
        self.0.status.success()
    }

    /// What it printed on stdout.
    pub(crate) fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    /// What it printed on stderr.
    pub(crate) fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
}

/// A port nothing listens on now.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A plain HTTP/1.1 request (nothing in between that could hide what the
/// server answers); returns the status and the whole response.
fn http(addr: SocketAddr, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response)
}

/// `GET path`.
pub(crate) fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    http(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
}

/// `POST path` with an empty body, and the bearer `token` if given.
pub(crate) fn http_post(addr: SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    http(
        addr,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    )
}

/// The next text message of a websocket, within 30 s.
pub(crate) async fn next_text<S>(ws: &mut S) -> String
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t)))) => return t.to_string(),
            Ok(Some(Ok(_))) => continue,
            Ok(other) => panic!("websocket ended: {other:?}"),
            Err(_) => panic!("no message within 30 s"),
        }
    }
}
