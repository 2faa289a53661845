//! `invoke KIND NAME`: find the handler and its event (and, with `--zip`,
//! check that this host can run its zip), then run it through
//! [`crate::invoke`] as Lambda would.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::ValueEnum;

use crate::cli::InvokeArgs;
use crate::commands::{handler, locate};
use crate::env_file;
use crate::error::UserError;
use crate::invoke::{Invocation, MEMORY, TIMEOUT, ZipBuild, invoke, zip_runs_here};
use crate::layout::{Arch, DEFAULT_PYTHON, Dependencies};
use crate::manifest::MANIFEST_FILE;
use crate::report;
use crate::stack::TEMPLATE_FILE;

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
    let template = fs::read_to_string(project.root.join(TEMPLATE_FILE)).ok();
    let timeout = args
        .timeout
        .unwrap_or_else(|| TIMEOUT.from_template(template.as_deref(), &lambda.handler()));
    let event = match args.event.as_deref() {
        Some(path) if path == Path::new("-") => {
            let bytes = read_at_most(std::io::stdin().lock(), "standard input")?;
            checked_json(bytes, "standard input")?
        }
        Some(path) => {
            let bytes = read_event_file(path, timeout)?;
            checked_json(bytes, &format!("`{}`", path.display()))?
        }
        None => {
            let fixture = project
                .manifest
                .event_of(lambda.kind, &lambda.name)
                .fixture_path();
            let bytes = fs::read(project.root.join(&fixture)).map_err(|_| {
                UserError::new(format!("sample event `{}` is missing", fixture.display()))
                    .hint("pass an event with --event FILE")
            })?;
            checked_json(bytes, &format!("`{}`", fixture.display()))?
        }
    };
    let environment = match args.env_file.as_deref() {
        Some(path) => {
            let bytes = fs::read(path).map_err(|e| {
                UserError::new(format!("cannot read env file `{}`: {e}", path.display()))
                    .hint("pass a file of `NAME=VALUE` lines to --env-file")
            })?;
            env_file::parse(&bytes, &path.display().to_string())?
        }
        None => Vec::new(),
    };
    let from_zip = if args.zip {
        let arch = project
            .manifest
            .setting("arch")
            .and_then(|value| Arch::from_str(value, false).ok())
            .ok_or_else(|| {
                UserError::new(format!(
                    "`{MANIFEST_FILE}` has no supported `arch`, so the zip's architecture is unknown"
                ))
                .hint("set `arch` to x86_64 or arm64 (`lambda-scaffold check` reports it)")
            })?;
        zip_runs_here(arch, std::env::consts::OS, std::env::consts::ARCH)?;
        // The stamp of a zip whose entry lists packages records the list.
        let packages = project
            .manifest
            .handlers()
            .iter()
            .find(|entry| entry.kind == lambda.kind.as_str() && entry.name == lambda.name.as_str())
            .and_then(|entry| entry.packages().ok().flatten());
        Some(ZipBuild {
            arch,
            layer: project.manifest.dependencies() == Some(Dependencies::Layer),
            packages,
        })
    } else {
        None
    };
    invoke(&Invocation {
        root: &project.root,
        lambda: &lambda,
        event: &event,
        timeout_seconds: timeout,
        memory_mb: MEMORY.from_template(template.as_deref(), &lambda.handler()),
        python_version: project.manifest.setting("python").unwrap_or(DEFAULT_PYTHON),
        environment: &environment,
        from_zip,
    })
}

/// Lambda's limit on a synchronous invocation's payload: 6 MB.
const MAX_EVENT_BYTES: u64 = 6 * 1024 * 1024;

/// Reads an event, refusing one larger than Lambda accepts.
fn read_at_most(reader: impl Read, source: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_EVENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read the event from {source}"))?;
    if bytes.len() as u64 > MAX_EVENT_BYTES {
        return Err(UserError::new(format!(
            "the event in {source} is larger than {MAX_EVENT_BYTES} bytes, Lambda's limit for an invocation"
        ))
        .hint("pass a smaller event")
        .into());
    }
    Ok(bytes)
}

/// Reads `--event FILE`. A file that is not a regular one (a FIFO, a
/// `<(...)` pipe) may never be written to: reading it gets `timeout_seconds`.
fn read_event_file(path: &Path, timeout_seconds: u64) -> Result<Vec<u8>> {
    let shown = format!("`{}`", path.display());
    if fs::metadata(path)
        .map_err(|e| unreadable(&shown, e))?
        .is_file()
    {
        let file = fs::File::open(path).map_err(|e| unreadable(&shown, e))?;
        return read_at_most(file, &shown);
    }
    let (sender, receiver) = mpsc::channel();
    let (owned, source) = (path.to_path_buf(), shown.clone());
    // Opening a FIFO waits for a writer: in a thread that may be left behind.
    thread::spawn(move || {
        let read = fs::File::open(&owned)
            .map_err(|e| unreadable(&source, e))
            .and_then(|file| read_at_most(file, &source));
        let _ = sender.send(read);
    });
    receiver
        .recv_timeout(Duration::from_secs(timeout_seconds))
        .unwrap_or_else(|_| {
            Err(UserError::new(format!(
                "no event came from {shown} within {timeout_seconds} s (the --timeout): it is \
                 not a regular file, and nothing wrote to it"
            ))
            .hint("pass a JSON file to --event, or `-` for standard input")
            .into())
        })
}

fn unreadable(shown: &str, error: std::io::Error) -> anyhow::Error {
    UserError::new(format!("cannot read event file {shown}: {error}"))
        .hint("pass a JSON file to --event, or `-` for standard input")
        .into()
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
