//! The lab model of the MLOps course.
//!
//! A lab is a folder `labs/<id>/` with a `lab.yaml` manifest and the files a
//! learner copies. This crate parses and validates manifests (every problem is
//! a [`Diagnostic`] with file, line and column), resolves which files a lab
//! shows and exports, and builds a lab's zip byte-for-byte reproducibly.
//!
//! Depend on it when you need to know what a lab is: the `mdbook-labs`
//! preprocessor renders labs, the `course` CLI checks and exports them, the
//! sidecar runs their checks and steps.

mod catalog;
pub mod conventions;
mod diag;
mod export;
mod files;
mod manifest;
mod pins;
mod readme;
mod transcript;
pub mod troubleshoot;
mod version;
mod zip;

pub use catalog::{Catalog, LAB_FILE, load_catalog, nearest_id};
pub use diag::Diagnostic;
pub use export::{ExportError, ExportReport, export_lab};
pub use files::LabFile;
pub use manifest::{
    Check, CheckSpec, HttpMethod, Lab, Need, Port, Requirement, Step, is_valid_id, load_lab,
    parse_lab,
};
pub use pins::{
    Pin, PinKind, civil_from_days, lab_pins, locked_versions, normalize_package, today_utc,
};
pub use readme::{lab_readme, readme_name};
pub use transcript::{TRANSCRIPTS_DIR, Transcript, TranscriptError, run_digest, transcript_path};
pub use version::Version;
pub use zip::lab_zip;
