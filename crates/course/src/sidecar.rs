//! `course sidecar`: the learner's sidecar on its own, for readers of the
//! hosted book or of a stock `mdbook serve`; and the settings `course serve`
//! uses when it mounts the sidecar under `/api`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use course_labs::load_catalog;
use course_sidecar::{AppState, Limits, Settings};

use crate::project::Project;

/// Origins allowed by default: `course serve` and a stock `mdbook serve` on
/// their default ports.
pub const DEFAULT_ORIGINS: &[&str] = &[
    "http://127.0.0.1:4242",
    "http://localhost:4242",
    "http://127.0.0.1:3000",
    "http://localhost:3000",
];

/// The book the printed link opens by default: a stock `mdbook serve`.
pub const DEFAULT_BOOK_URL: &str = "http://localhost:3000/";

/// The origin (`scheme://host[:port]`) of a book's address, or why it has none.
pub fn book_origin(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("https://")
        .map(|r| ("https://", r))
        .or_else(|| url.strip_prefix("http://").map(|r| ("http://", r)));
    let Some((scheme, rest)) = rest else {
        bail!(
            "`{url}` is not a web address\n  help: give the book's address as you open it, e.g. https://example.github.io/mlops-course/"
        );
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains('@') {
        bail!(
            "`{url}` has no host\n  help: give the book's address as you open it, e.g. https://example.github.io/mlops-course/"
        );
    }
    Ok(format!("{scheme}{}", host.to_ascii_lowercase()))
}

/// An `--allow-origin` value as browsers send it: `scheme://host[:port]`,
/// nothing more (a trailing `/` is dropped, the host lowercased).
fn allowed_origin(given: &str) -> Result<String> {
    let given = given.trim_end_matches('/');
    match book_origin(given) {
        Ok(origin) if origin.eq_ignore_ascii_case(given) => Ok(origin),
        _ => bail!(
            "`{given}` is not an origin\n  help: an origin is scheme://host[:port], e.g. https://example.github.io"
        ),
    }
}

/// Where learners' copies of labs go by default: `~/mlops-course/labs`.
pub fn default_workspace() -> Result<PathBuf> {
    let home = std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .context("no home folder (HOME is not set)\n  help: pass --workspace DIR")?;
    Ok(PathBuf::from(home).join("mlops-course").join("labs"))
}

/// The sidecar's state for a project: its catalog, the workspace, the
/// allowed origins (the defaults plus `extra`).
pub fn state(
    project: &Project,
    workspace: Option<PathBuf>,
    extra: &[String],
    port: u16,
    limits: Limits,
) -> Result<AppState> {
    let (catalog, problems) = load_catalog(&project.labs);
    for p in &problems {
        eprintln!("{p}");
    }
    if !problems.is_empty() {
        bail!(
            "{} lab manifest problem(s); `course check` lists them",
            problems.len()
        );
    }
    let workspace = match workspace {
        Some(w) => w,
        None => default_workspace()?,
    };
    std::fs::create_dir_all(&workspace)
        .with_context(|| format!("creating the workspace {}", workspace.display()))?;
    let mut allowed_origins: Vec<String> =
        DEFAULT_ORIGINS.iter().map(|s| (*s).to_owned()).collect();
    for origin in extra {
        allowed_origins.push(allowed_origin(origin)?);
    }
    // Each watching page holds a socket: make room for all of them, or
    // lower the limit to what the system allows (with a word about it).
    let mut limits = limits;
    const SPARE_FDS: usize = 128;
    let wanted = (limits.max_sse_total + SPARE_FDS) as u64;
    if let Some(fds) = course_sidecar::raise_fd_limit(wanted) {
        let fits = usize::try_from(fds)
            .unwrap_or(usize::MAX)
            .saturating_sub(SPARE_FDS)
            .max(1);
        if fits < limits.max_sse_total {
            eprintln!(
                "warning: this system allows {fds} open files, so at most {fits} pages can watch at once (not {})\n  help: raise it with `ulimit -n` before starting",
                limits.max_sse_total
            );
            limits.max_sse_total = fits;
            limits.max_sse_per_lab = limits.max_sse_per_lab.min(fits);
        }
    }
    // The book's known failures, so a failed step or check can point at its
    // fix; a malformed symptom is left out here (`course check` reports it).
    let (known, symptom_problems) = course_labs::troubleshoot::load_book(&project.src);
    for p in &symptom_problems {
        eprintln!("warning: {p}");
    }
    let settings = Settings {
        workspace,
        allowed_origins,
        port,
        limits,
        known,
    };
    AppState::new(catalog, settings).context("starting the sidecar")
}

/// Runs the sidecar alone until Ctrl-C or SIGTERM.
pub fn run(
    project: &Project,
    addr: SocketAddr,
    workspace: Option<PathBuf>,
    book_url: &str,
    origins: &[String],
    limits: Limits,
) -> Result<()> {
    let book = book_origin(book_url).context("--book-url")?;
    let mut origins = origins.to_vec();
    if !DEFAULT_ORIGINS.contains(&book.as_str()) {
        origins.push(book.clone());
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = course_sidecar::bind(addr).await.with_context(|| {
            format!("cannot listen on {addr}\n  help: another program uses this port; pass --port with another number")
        })?;
        let bound = listener.local_addr()?;
        let state = state(project, workspace, &origins, bound.port(), limits)?;
        print!("{}", course_sidecar::print_banner(bound, state.token(), book_url));
        println!("Pages of {book} may use it; labs are copied into {}", state.workspace().display());
        if book_url == DEFAULT_BOOK_URL {
            println!("Reading the hosted book? Start with --book-url and its address instead.");
        }
        // Ctrl-C or SIGTERM: either way the steps' process groups stop first.
        course_sidecar::serve_on(state, listener, course_sidecar::shutdown_signal())
            .await
            .context("serving")?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_book_address_gives_its_origin() {
        assert_eq!(
            book_origin("https://Example.github.io/mlops-course/").expect("an origin"),
            "https://example.github.io"
        );
        assert_eq!(
            book_origin("http://localhost:3000/").expect("an origin"),
            "http://localhost:3000"
        );
        assert_eq!(
            book_origin("http://192.0.2.7:8080#x").expect("an origin"),
            "http://192.0.2.7:8080"
        );
    }

    #[test]
    fn an_allowed_origin_is_scheme_host_and_port_only() {
        assert_eq!(
            allowed_origin("https://Example.github.io/").expect("an origin"),
            "https://example.github.io"
        );
        assert_eq!(
            allowed_origin("http://127.0.0.1:8080").expect("an origin"),
            "http://127.0.0.1:8080"
        );
        for bad in [
            "https://example.github.io/mlops-course",
            "example.github.io",
            "ftp://x",
        ] {
            let err = format!("{:#}", allowed_origin(bad).expect_err("refused"));
            assert!(err.contains("is not an origin"), "{bad}: {err}");
        }
    }

    #[test]
    fn an_address_without_scheme_or_host_is_refused_with_an_example() {
        for bad in [
            "example.github.io/mlops-course/",
            "https://",
            "ftp://x",
            "https://u@h/",
        ] {
            let err = format!("{:#}", book_origin(bad).expect_err("refused"));
            assert!(
                err.contains("help: give the book's address"),
                "{bad}: {err}"
            );
        }
    }
}
