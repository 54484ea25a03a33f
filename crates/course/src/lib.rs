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

/// Logs to stderr, filtered by `COURSE_LOG` (default: warnings and our
/// info), through the setup the preprocessor shares.
pub fn init_logging() {
    mdbook_labs::logging::init("warn,course=info");
}
