//! The `course` CLI as a library, so tests drive the same code the binary
//! runs: [`build`] the site, [`serve`] it with live reload, [`check`] the
//! course, list and export [`lab`]s.

pub mod build;
pub mod check;
pub mod follow;
pub mod lab;
pub mod project;
pub mod serve;
pub mod sidecar;
pub mod transcript;
pub mod verify;

/// Whether this runs in CI (`CI=true`), where nothing may be skipped for a
/// missing tool.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Logs to stderr, filtered by `COURSE_LOG` (default: warnings and our info).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("COURSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,course=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Timestamps only when asked for more than the default (they help to see
    // where a build spends its time).
    let _ = if std::env::var_os("COURSE_LOG").is_some() {
        builder
            .with_timer(tracing_subscriber::fmt::time::uptime())
            .try_init()
    } else {
        builder.without_time().try_init()
    };
}
