//! `list`: the project's Lambdas as the manifest records them, as a table or,
//! with `--json`, as a document of a stable schema (version 1):
//!
//! ```json
//! {"schema_version": 1, "project": "svc", "root": "/abs/svc", "layout": "log-centric",
//!  "python": "3.13", "arch": "x86_64", "ci": "gitlab", "dependencies": "bundle",
//!  "lambdas": [{"kind": "producers", "name": "log_event", "event": "eventbridge",
//!               "handler": "producers.log_event",
//!               "source": "producers/log_event", "test": "test/producers/log_event",
//!               "zip": "target/log_event.zip",
//!               "build": "./build.sh log_event ./producers/log_event",
//!               "function_resource": "LogEventFunction",
//!               "requirements": null}]}
//! ```
//!
//! `dependencies` is where the locked packages go: `bundle` (into every
//! zip; also without the setting) or `layer` (one layer). `requirements` is
//! the list of packages the handler's entry names (its zip holds only those
//! and what they require), `null` without one (every locked package).
//! `function_resource` is the logical ID of the Lambda's function in
//! `template.yaml`. Paths are relative to the project root. Reads the manifest only, never the tree.
//! A root that is not UTF-8 is shown with `\xNN` for each byte that is not,
//! and given exactly, in hexadecimal, as `root_hex` (present only then).

use anyhow::Result;
use serde::Serialize;

use crate::cli::ListArgs;
use crate::commands::locate;
use crate::lambdas::{self, LambdaInfo};
use crate::layout::Dependencies;
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
    /// `bundle` or `layer` (as written when it is neither).
    dependencies: &'a str,
    lambdas: Vec<LambdaInfo>,
}

pub fn run(args: ListArgs) -> Result<()> {
    let located = locate(&args.project)?;
    let manifest = &located.project.manifest;
    // One Lambda for each entry, in the entries' order.
    let infos: Vec<LambdaInfo> = lambdas::from_manifest(manifest)?
        .iter()
        .zip(manifest.handlers())
        .map(|((lambda, event), entry)| {
            let packages = entry.packages().ok().flatten();
            lambda.info(*event, packages.as_deref())
        })
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
            dependencies: dependencies(manifest.setting(Dependencies::KEY)),
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

/// The dependencies mode of a manifest's `dependencies` value (`None`: no
/// such key, which bundles); a value that is no mode as written (`check`
/// reports it).
fn dependencies(value: Option<&str>) -> &str {
    match Dependencies::from_manifest(value) {
        Some(mode) => mode.as_str(),
        None => value.unwrap_or_default(),
    }
}
