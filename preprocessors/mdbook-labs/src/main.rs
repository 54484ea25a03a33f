//! `mdbook-labs` as an external command for stock `mdbook`: the handshake
//! (`supports RENDERER`), then book JSON in on stdin and out on stdout.
//! Logs go to stderr. The zips, file pages and widget files are written into the book's
//! `src/labs/` folder, which the HTML renderer copies into the site.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

fn main() -> ExitCode {
    mdbook_labs::logging::init("warn");
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("supports") {
        // Every renderer gets the embed; non-HTML renderers see HTML blocks.
        return ExitCode::SUCCESS;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mdbook-labs: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let (ctx, book) = mdbook_preprocessor::parse_input(std::io::stdin().lock())?;
    let expanded = mdbook_labs::expand(&ctx, book)?;
    for id in &expanded.unembedded {
        tracing::warn!("lab `{id}` is not embedded by any chapter");
    }
    let src = ctx.root.join(&ctx.config.book.src);
    mdbook_labs::write_assets(&src, &expanded.assets)?;
    mdbook_labs::prune_file_pages(&src, &expanded.assets)?;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &expanded.book).context("writing the book to stdout")?;
    out.flush()?;
    Ok(())
}
