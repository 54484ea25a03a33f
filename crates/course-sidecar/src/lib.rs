//! The course sidecar: a small local server that tells a lab page the live
//! state of the learner's copy of a lab — its checks, its ports, its running
//! steps — and runs the lab's declared steps, streaming their output.
//!
//! It is a local server that runs commands, so it is built like Jupyter:
//! loopback by default, the Host and Origin of every request checked, a
//! random per-launch token for every state-changing request, lab and step
//! ids looked up in the catalog (no request carries a command, a path or a
//! URL), and every resource bounded. `THREAT_MODEL.md` lists each rule and
//! the test that proves it.
//!
//! Depend on it to serve the sidecar: [`app`] is the router (mount it, or
//! drive it with `tower::ServiceExt::oneshot`), [`serve`] runs it alone.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let (catalog, _problems) = course_labs::load_catalog("labs".as_ref());
//! let settings = course_sidecar::Settings {
//!     workspace: "my-labs".into(),
//!     ..Default::default()
//! };
//! let state = course_sidecar::AppState::new(catalog, settings)?;
//! let addr = course_sidecar::default_addr();
//! println!("{}", course_sidecar::print_banner(addr, state.token(), "http://localhost:3000/"));
//! course_sidecar::serve(state, addr).await
//! # }
//! ```

mod api;
mod checks;
mod doctor;
mod events;
mod help;
mod known;
mod probe;
mod proc;
mod progress;
mod runner;
mod security;
mod server;
mod state;

pub use api::app;
pub use known::Known;
pub use proc::{Leftover, port_listener, port_taken};
pub use runner::{ExitInfo, ExitReason, LabRunner, OutputLine, Phase, RunError};
pub use server::{
    TOKEN_FRAGMENT, bind, default_addr, print_banner, raise_fd_limit, serve, serve_on,
    shutdown_signal, token_link,
};
pub use state::{AppState, DEFAULT_PORT, Limits, Settings};
