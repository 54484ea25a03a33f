//! `course`: the MLOps course's command line. Builds the book with our
//! preprocessors in process, serves it with live reload, checks everything
//! static, and lists and exports labs.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use course::{build, check, lab, project::Project, serve};

#[derive(Parser)]
#[command(
    name = "course",
    version,
    about = "Build, serve and check the MLOps course; list and export its labs."
)]
struct Cli {
    /// The book folder (the one with book.toml). Default: `book/` in this
    /// folder or the nearest parent that has one.
    #[arg(long, global = true, value_name = "DIR")]
    book: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the site (pages, search index, lab zips).
    Build {
        /// Where to write the site (default: the book's build-dir).
        #[arg(long, value_name = "DIR")]
        dest: Option<PathBuf>,
    },
    /// Build, serve on 127.0.0.1, rebuild on change and reload open pages.
    Serve {
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = serve::DEFAULT_PORT)]
        port: u16,
        /// Open the site in the default browser.
        #[arg(long)]
        open: bool,
    },
    /// Report every static problem of the course, then exit non-zero if any.
    Check,
    /// Run the sidecar alone: live lab status and runnable steps for pages
    /// of the hosted book or of a stock `mdbook serve`.
    Sidecar {
        /// Port to listen on.
        #[arg(long, default_value_t = course_sidecar::DEFAULT_PORT)]
        port: u16,
        /// Address to bind. Anything but loopback exposes a server that runs
        /// commands: only with a reason.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Where learners' copies of the labs go (default ~/mlops-course/labs).
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
        /// The book you read, e.g. the hosted book's address: the link the
        /// sidecar prints opens it with the token, and its origin may use
        /// the sidecar. Default: a stock `mdbook serve` (localhost:3000).
        #[arg(long = "book-url", value_name = "URL", default_value = course::sidecar::DEFAULT_BOOK_URL)]
        book_url: String,
        /// Another origin whose pages may use the sidecar (scheme://host[:port]).
        /// Repeatable.
        #[arg(long = "allow-origin", value_name = "URL")]
        allow_origin: Vec<String>,
        /// Most pages that may watch one lab at once (event streams).
        #[arg(long, value_name = "N", default_value_t = course_sidecar::Limits::default().max_sse_per_lab)]
        max_watchers_per_lab: usize,
        /// Most pages that may watch at once, all labs together.
        #[arg(long, value_name = "N", default_value_t = course_sidecar::Limits::default().max_sse_total)]
        max_watchers: usize,
    },
    /// Labs: list them, or export one into a folder.
    #[command(subcommand)]
    Lab(LabCommand),
}

#[derive(Subcommand)]
enum LabCommand {
    /// List the labs.
    List,
    /// Copy a lab's files into DIR (refuses to overwrite without --force).
    Export {
        /// The lab's id (see `course lab list`).
        id: String,
        /// The folder to copy into (created if missing).
        dir: PathBuf,
        /// Replace files that already exist.
        #[arg(long)]
        force: bool,
    },
    /// Follow a lab's steps in order in a fresh export, as a learner would:
    /// each check fails before its step and passes after it; then Reset
    /// must leave nothing behind.
    Follow {
        /// One lab (default: every lab, in module order).
        id: Option<String>,
        /// Also run steps that need these (kubernetes, github, registry);
        /// steps that need a Docker engine run when `docker info` answers,
        /// and those that pull images when it is not the course's stand-in
        /// test engine.
        #[arg(long, value_name = "NEED", value_delimiter = ',', value_parser = parse_need)]
        with: Vec<course_labs::Need>,
        /// Write each passing step's output, normalised, to the book's
        /// transcripts/ (what chapters quote with {{#lab-output}}).
        #[arg(long)]
        record: bool,
        /// Keep the labs' copies and print where they are.
        #[arg(long)]
        keep: bool,
    },
    /// Run every check of a lab once, as one refresh of its page does, and
    /// print what each found and how long the refresh took.
    Status {
        /// The lab's id.
        id: String,
        /// The learner's copy (default ~/mlops-course/labs/ID).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Check lab files with their ecosystem's tools and run each lab's tests.
    Test {
        /// One lab (default: every lab).
        id: Option<String>,
        /// Check every file of this folder instead of a lab.
        #[arg(long, value_name = "DIR", conflicts_with = "id")]
        path: Option<PathBuf>,
    },
}

fn parse_need(s: &str) -> Result<course_labs::Need, String> {
    course_labs::Need::parse(s).ok_or_else(|| {
        let all: Vec<&str> = course_labs::Need::ALL.iter().map(|n| n.as_str()).collect();
        format!("`{s}` is not one of: {}", all.join(", "))
    })
}

fn main() -> ExitCode {
    course::init_logging();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // The preprocessor's problems come as `FILE:LINE:COL: error: …`
            // lines already; anything else gets its `error:` here.
            let msg = e.to_string();
            if msg.lines().next().is_some_and(|l| l.contains(": error: ")) {
                eprintln!("{msg}");
            } else {
                eprintln!("error: {msg}");
            }
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let project = Project::locate(cli.book.as_deref())?;
    match cli.command {
        Command::Build { dest } => {
            let out = build::build(&project, dest.as_deref())?;
            println!(
                "Built the course into {} in {:.2?}",
                out.dir.display(),
                out.elapsed
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { port, open } => {
            serve::serve(project, port, open)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check => {
            let problems = check::check(&project);
            for p in &problems {
                eprintln!("{p}");
            }
            if problems.is_empty() {
                println!("course check: no problems");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("course check: {} problem(s)", problems.len());
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Sidecar {
            port,
            bind,
            workspace,
            book_url,
            allow_origin,
            max_watchers_per_lab,
            max_watchers,
        } => {
            let limits = course_sidecar::Limits {
                max_sse_per_lab: max_watchers_per_lab,
                max_sse_total: max_watchers,
                ..course_sidecar::Limits::default()
            };
            let addr = std::net::SocketAddr::new(bind, port);
            course::sidecar::run(&project, addr, workspace, &book_url, &allow_origin, limits)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Lab(LabCommand::List) => {
            lab::list(&project)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Lab(LabCommand::Test { id, path }) => {
            let ok = lab::test(&project, id.as_deref(), path.as_deref())?;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Lab(LabCommand::Follow {
            id,
            with,
            record,
            keep,
        }) => {
            let options = course::follow::FollowOptions { with, record, keep };
            let tally = course::follow::follow(&project, id.as_deref(), &options)?;
            Ok(if tally.failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Lab(LabCommand::Status { id, dir }) => {
            let dir = match dir {
                Some(dir) => dir,
                None => course::sidecar::default_workspace()?.join(&id),
            };
            let ok = course::follow::status(&project, &id, &dir)?;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Lab(LabCommand::Export { id, dir, force }) => {
            lab::export(&project, &id, &dir, force)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
