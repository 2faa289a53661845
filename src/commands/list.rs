//! `list`: the project's Lambdas as the manifest records them, as a table or,
//! with `--json`, as a document of a stable schema (version 1):
//!
//! ```json
//! {"schema_version": 1, "project": "svc", "root": "/abs/svc", "layout": "log-centric",
//!  "python": "3.13", "arch": "x86_64", "ci": "gitlab",
//!  "lambdas": [{"kind": "producers", "name": "log_event", "event": "eventbridge",
//!               "handler": "producers.log_event",
//!               "source": "producers/log_event", "test": "test/producers/log_event",
//!               "zip": "target/log_event.zip",
//!               "build": "./build.sh log_event ./producers/log_event",
//!               "function_resource": "LogEventFunction"}]}
//! ```
//!
//! `function_resource` is the logical ID of the Lambda's function in
//! `template.yaml`. Paths are relative to the project root. Reads the manifest only, never the tree.
//! A root that is not UTF-8 is shown with `\xNN` for each byte that is not,
//! and given exactly, in hexadecimal, as `root_hex` (present only then).

use anyhow::Result;
use serde::Serialize;

use crate::cli::ListArgs;
use crate::commands::locate;
use crate::lambdas::{self, LambdaInfo};
use crate::plan::{escaped, hex_unless_utf8};
use crate::report::{self, table};

/// Bumped only when a field changes meaning or disappears; fields may be added.
const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Listing<'a> {
    schema_version: u32,
    project: Option<&'a str>,
    root: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    root_hex: Option<String>,
    layout: &'a str,
    python: Option<&'a str>,
    arch: Option<&'a str>,
    ci: Option<&'a str>,
    lambdas: Vec<LambdaInfo>,
}

pub fn run(args: ListArgs) -> Result<()> {
    let located = locate(&args.project)?;
    let manifest = &located.project.manifest;
    let infos: Vec<LambdaInfo> = lambdas::from_manifest(manifest)?
        .iter()
        .map(|(lambda, event)| lambda.info(*event))
        .collect();
    if args.json {
        let root = located.project.root.canonicalize()?;
        let listing = Listing {
            schema_version: SCHEMA_VERSION,
            project: manifest.setting("name"),
            root: escaped(&root),
            root_hex: hex_unless_utf8(&root),
            layout: manifest.layout.as_str(),
            python: manifest.setting("python"),
            arch: manifest.setting("arch"),
            ci: manifest.setting("ci"),
            lambdas: infos,
        };
        report::print(&format!("{}\n", serde_json::to_string_pretty(&listing)?))?;
        return Ok(());
    }
    if infos.is_empty() {
        let first_kind = manifest.layout.kinds()[0];
        report::print(&format!(
            "no Lambdas yet; add one with `lambda-scaffold add-handler {first_kind} NAME`\n"
        ))?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = infos
        .into_iter()
        .map(|i| {
            vec![
                i.kind, i.name, i.event, i.handler, i.source, i.test, i.zip, i.build,
            ]
        })
        .collect();
    report::print(&table(
        &[
            "KIND", "NAME", "EVENT", "HANDLER", "SOURCE", "TEST", "ZIP", "BUILD",
        ],
        &rows,
    ))?;
    Ok(())
}
