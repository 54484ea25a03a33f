//! The course's one logging setup, shared by the `course` CLI and the
//! `mdbook-labs` command: stderr only (the preprocessor's stdout carries the
//! book), one environment variable to turn it up.

/// The variable that sets the filter, e.g. `COURSE_LOG=debug`.
pub const ENV: &str = "COURSE_LOG";

/// Logs to stderr, filtered by `COURSE_LOG`, else by `default_filter`
/// (a `tracing` filter such as `warn` or `warn,course=info`). Timestamps
/// (time since start) appear only when `COURSE_LOG` asks for more than the
/// default: they show where a build spends its time. A second call does
/// nothing.
pub fn init(default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env(ENV)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if std::env::var_os(ENV).is_some() {
        builder
            .with_timer(tracing_subscriber::fmt::time::uptime())
            .try_init()
    } else {
        builder.without_time().try_init()
    };
}
