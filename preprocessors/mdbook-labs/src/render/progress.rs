//! The course-progress table of `{{#lab-progress}}`.

use std::collections::BTreeMap;

use course_labs::Lab;
use serde::Serialize;

use super::{Assets, embed_assets};
use crate::html::{as_markdown_block, escape};

#[derive(Serialize)]
struct ProgressLab<'a> {
    id: &'a str,
    title: &'a str,
    module: u8,
    href: String,
    steps: Vec<ProgressStep<'a>>,
}

#[derive(Serialize)]
struct ProgressStep<'a> {
    id: &'a str,
    title: &'a str,
}

/// The course-progress table: every lab, in module order, linked to the
/// chapter that embeds it. The widget fills in each lab's state.
pub(crate) fn render_progress(
    catalog: &course_labs::Catalog,
    embedded_at: &BTreeMap<String, String>,
    path_to_root: &str,
    assets: &Assets,
    sidecar_url: &str,
) -> String {
    let mut labs: Vec<&Lab> = catalog.labs.iter().collect();
    labs.sort_by(|a, b| (a.module, &a.id).cmp(&(b.module, &b.id)));
    let entries: Vec<ProgressLab<'_>> = labs
        .iter()
        .map(|lab| ProgressLab {
            id: &lab.id,
            title: &lab.title,
            module: lab.module,
            href: embedded_at
                .get(&lab.id)
                .map(|page| format!("{path_to_root}{page}#lab-{}", lab.id))
                .unwrap_or_default(),
            steps: lab
                .steps
                .iter()
                .map(|s| ProgressStep {
                    id: &s.id,
                    title: &s.title,
                })
                .collect(),
        })
        .collect();
    let json = serde_json::to_string(&entries).unwrap_or_else(|_| "[]".to_owned());
    // A plain list first, so the page says something without JavaScript.
    let mut list = String::from("<ul class=\"labs-progress-list\">");
    for (lab, entry) in labs.iter().zip(&entries) {
        list.push_str(&format!(
            "<li><a href=\"{}\">Module {:02}: {}</a> ({} steps)</li>",
            escape(&entry.href),
            lab.module,
            escape(&lab.title),
            lab.steps.len()
        ));
    }
    list.push_str("</ul>");
    let html = format!(
        "{assets}\n<div class=\"labs-progress\" data-sidecar=\"{sidecar}\" data-labs=\"{labs}\" aria-live=\"polite\">{list}</div>",
        assets = embed_assets(assets, path_to_root),
        sidecar = escape(sidecar_url),
        labs = escape(&json),
    );
    as_markdown_block(&html)
}
