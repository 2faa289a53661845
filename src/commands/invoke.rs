//! `invoke KIND NAME`: find the handler and its event, then run it through
//! [`crate::invoke`] as Lambda would.

use std::fs;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::InvokeArgs;
use crate::commands::{handler, locate};
use crate::error::UserError;
use crate::invoke::{Invocation, invoke};
use crate::layout::DEFAULT_PYTHON;
use crate::report;

pub fn run(args: InvokeArgs) -> Result<()> {
    let located = locate(&args.project)?;
    let project = &located.project;
    let (lambda, note) = handler(&args.handler, project)?;
    if let Some(note) = note {
        // stdout carries only the answer.
        report::eprint(&format!("{note}\n"));
    }
    if !project.root.join(lambda.module()).is_file() {
        return Err(UserError::new(format!(
            "handler `{lambda}` has no module `{}`",
            lambda.module().display()
        ))
        .hint("run `lambda-scaffold list` to see the project's handlers")
        .into());
    }
    let event = match args.event.as_deref() {
        Some(path) if path == Path::new("-") => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("cannot read the event from standard input")?;
            checked_json(bytes, "standard input")?
        }
        Some(path) => {
            let bytes = fs::read(path).map_err(|e| {
                UserError::new(format!("cannot read event file `{}`: {e}", path.display()))
                    .hint("pass a JSON file to --event, or `-` for standard input")
            })?;
            checked_json(bytes, &format!("`{}`", path.display()))?
        }
        None => {
            let fixture = lambda.fixture();
            let bytes = fs::read(project.root.join(&fixture)).map_err(|_| {
                UserError::new(format!("sample event `{}` is missing", fixture.display()))
                    .hint("pass an event with --event FILE")
            })?;
            checked_json(bytes, &format!("`{}`", fixture.display()))?
        }
    };
    invoke(&Invocation {
        root: &project.root,
        lambda: &lambda,
        event: &event,
        timeout_seconds: args.timeout,
        python_version: project.manifest.setting("python").unwrap_or(DEFAULT_PYTHON),
    })
}

/// The event's bytes, once they are known to be one JSON value.
fn checked_json(bytes: Vec<u8>, source: &str) -> Result<Vec<u8>> {
    match serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
        Ok(_) => Ok(bytes),
        Err(e) => Err(
            UserError::new(format!("the event in {source} is not valid JSON: {e}"))
                .hint("an event is one JSON value, such as the samples in test/fixtures/")
                .into(),
        ),
    }
}
