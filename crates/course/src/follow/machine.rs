//! What a lab leaves on the machine, and what the machine offers: the
//! Docker engine that answers, the processes holding the lab's ports, the
//! lab's containers.

use std::time::Duration;

/// The daemon label of the course's own test engine (scripts/containers),
/// whose base images are local stand-ins and which pulls from no registry.
const STANDIN_ENGINE_LABEL: &str = "mlops-course.standins=true";

/// The Docker engine `docker` reaches, if one answers within a few seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Docker {
    /// None answers.
    Missing,
    /// The course's test engine: stand-in base images, no registry.
    Standins,
    /// Any other engine, which pulls from registries as a learner's does.
    Engine,
}

pub(super) async fn docker_engine() -> Docker {
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

/// Whether something listens on the loopback port (v4 or v6).
pub(super) fn port_bound(port: u16) -> bool {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
    let quick = Duration::from_millis(300);
    [
        SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
    ]
    .iter()
    .any(|a| TcpStream::connect_timeout(a, quick).is_ok())
        || !matches!(course_sidecar::port_taken(port), Ok(false))
}

/// `" by pid N (command)"` for the process listening on the port, when
/// `/proc` tells; empty otherwise.
pub(super) fn holder(port: u16) -> String {
    course_sidecar::port_listener(port)
        .map(|(pid, cmd)| format!(" by pid {pid} ({cmd})"))
        .unwrap_or_default()
}

/// Names of containers (running or not) that belong to the lab: labelled
/// `mlops-course.lab=ID`, or in the compose project named after it.
pub(super) async fn lab_containers(lab: &str) -> Vec<String> {
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
