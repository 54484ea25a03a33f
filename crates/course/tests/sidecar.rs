//! `course sidecar`, the binary: stopped by SIGTERM as by Ctrl-C, it stops
//! the steps it started.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{CourseTest, free_port, http_post};

mod common;

/// The processes whose command line is exactly `words` (read from /proc).
#[cfg(target_os = "linux")]
fn processes_running(words: &[&str]) -> Vec<u32> {
    let wanted: Vec<u8> = words
        .iter()
        .flat_map(|w| [w.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == wanted))
        .collect()
}

/// `course sidecar` asked to stop with SIGTERM (`kill`, systemd, `docker
/// stop`) stops the steps it started, as it does on Ctrl-C: no process group
/// outlives it.
#[cfg(target_os = "linux")]
#[test]
fn sidecar_stopped_by_sigterm_stops_the_steps_it_started() {
    use std::io::BufRead;
    let course = CourseTest::new();
    // A sleep no other process runs: its length is this test's own.
    let secs = (3000 + std::process::id() % 5000).to_string();
    course.add_lab(
        "stopme",
        &[],
        &format!("  - id: wait\n    title: Wait\n    run: exec sleep {secs}\n    service: true\n"),
    );
    let port = free_port();
    /// Stops the sidecar should the test fail half way.
    struct Stopped(std::process::Child);
    impl Drop for Stopped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut sidecar = Stopped(
        course
            .cmd()
            .args(["sidecar", "--port", &port.to_string()])
            .args(["--workspace", &course.path("work").display().to_string()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("course sidecar"),
    );
    let child = &mut sidecar.0;
    // Read all it prints (a closed pipe would fail its next line), and
    // take the token from the banner's link.
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let Some((_, t)) = line.split_once("#course-token=") {
                let _ = tx.send(t.trim().to_owned());
            }
        }
    });
    let token = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the banner's link carries the token");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let (status, body) = http_post(addr, "/api/labs/stopme/export", Some(&token));
    assert!((200..300).contains(&status), "{body}");
    let (status, body) = http_post(addr, "/api/labs/stopme/steps/wait/run", Some(&token));
    assert!((200..300).contains(&status), "{body}");
    let sleep = ["sleep", secs.as_str()];
    let deadline = Instant::now() + Duration::from_secs(10);
    while processes_running(&sleep).is_empty() {
        assert!(Instant::now() < deadline, "the step never started");
        std::thread::sleep(Duration::from_millis(50));
    }

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("course sidecar did not stop within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "a clean stop: {exit}");
    assert_eq!(
        processes_running(&sleep),
        Vec::<u32>::new(),
        "the step's process outlived the sidecar"
    );
}
