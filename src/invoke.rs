//! Running one handler locally, imported exactly as Lambda imports it from its
//! zip: `python3` runs the runner embedded in the binary (`invoke_runner.py`)
//! with the handler folder as the task root, the event on stdin and the
//! handler's timeout. Starts a process and waits for it; never writes into the
//! project (no bytecode either).

use std::io::{self, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::error::UserError;
use crate::lambdas::Lambda;

/// The Python program that imports and calls the handler (ruff-clean, tested).
const RUNNER: &str = include_str!("invoke_runner.py");

const PYTHON: &str = "python3";

/// Lambda's default timeout, in seconds.
pub const DEFAULT_TIMEOUT: u64 = 3;
/// Lambda's longest timeout, in seconds.
pub const MAX_TIMEOUT: u64 = 900;

/// Lambda gives a function's import (its init phase) ten seconds of its own;
/// the runner times the handler call itself, and this bounds the whole run.
const INIT_SECONDS: u64 = 10;

/// What the runner's exit status says happened (its constants of the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Raised = 10,
    ImportFailed = 11,
    HandlerMissing = 12,
    NotJson = 13,
    TimedOut = 14,
}

impl Status {
    const ALL: [Status; 5] = [
        Status::Raised,
        Status::ImportFailed,
        Status::HandlerMissing,
        Status::NotJson,
        Status::TimedOut,
    ];

    fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|s| *s as i32 == code)
    }
}

/// One run of a handler.
#[derive(Debug)]
pub struct Invocation<'a> {
    pub root: &'a Path,
    pub lambda: &'a Lambda,
    /// The event, already checked to be JSON.
    pub event: &'a [u8],
    pub timeout_seconds: u64,
    /// The project's Lambda runtime (`3.13`), to note a different local Python.
    pub python_version: &'a str,
}

/// Runs the handler: its answer goes to stdout, its logs and any traceback to
/// stderr. Fails with a [`UserError`] when it cannot run, raises, cannot be
/// imported, answers something that is not JSON or times out.
pub fn invoke(invocation: &Invocation) -> Result<()> {
    let lambda = invocation.lambda;
    // Absolute: the runner starts in the task root, and relative paths would move with it.
    let root = invocation
        .root
        .canonicalize()
        .with_context(|| format!("cannot read `{}`", invocation.root.display()))?;
    let task_root = root.join(lambda.source());
    let mut child = Command::new(PYTHON)
        .arg("-c")
        .arg(RUNNER)
        .arg(&task_root)
        .arg(&root)
        .arg(lambda.kind.as_str())
        .arg(lambda.name.as_str())
        .arg(invocation.timeout_seconds.to_string())
        .arg(invocation.python_version)
        .current_dir(&task_root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => UserError::new(format!("`{PYTHON}` was not found"))
                .hint(format!(
                    "install Python 3 (this project's Lambda runtime is python{}) and put `{PYTHON}` on PATH",
                    invocation.python_version
                ))
                .into(),
            _ => anyhow::Error::new(e).context(format!("cannot run `{PYTHON}`")),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A runner that stops before reading the event says why itself.
        let _ = stdin.write_all(invocation.event);
    }
    let limit = Duration::from_secs(INIT_SECONDS + invocation.timeout_seconds);
    match wait_at_most(&mut child, limit)? {
        Some(status) => outcome(status, lambda, invocation.timeout_seconds),
        None => Err(timed_out(lambda, invocation.timeout_seconds)),
    }
}

/// The exit status, or `None` when the process ran past `limit` and was killed.
fn wait_at_most(child: &mut Child, limit: Duration) -> Result<Option<ExitStatus>> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().context("cannot wait for python3")? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(10));
    }
}

fn outcome(status: ExitStatus, lambda: &Lambda, timeout_seconds: u64) -> Result<()> {
    let handler = lambda.handler();
    let Some(code) = status.code() else {
        return Err(UserError::new(format!(
            "`{PYTHON}` was stopped by a signal while running handler `{handler}` ({status})"
        ))
        .into());
    };
    if code == 0 {
        return Ok(());
    }
    let error = match Status::from_code(code) {
        Some(Status::Raised) => UserError::new(format!(
            "handler `{handler}` raised an exception (traceback above)"
        )),
        Some(Status::ImportFailed) => UserError::new(format!(
            "module `{}` cannot be imported from `{}` as Lambda imports it (see above)",
            lambda.kind,
            lambda.source().display()
        ))
        .hint(format!(
            "in the zip, the files of `{}` are at the root, beside `utils/`: import a module \
             next to the handler as `import helpers`, not through `{}.{}`",
            lambda.source().display(),
            lambda.kind,
            lambda.name
        )),
        Some(Status::HandlerMissing) => UserError::new(format!(
            "module `{}` defines no function `{}`",
            lambda.module().display(),
            lambda.name
        ))
        .hint(format!("define `def {}(event, context):` in it", lambda.name)),
        Some(Status::NotJson) => UserError::new(format!(
            "the answer of handler `{handler}` is not JSON-serializable, so Lambda could not return it"
        ))
        .hint("return dicts, lists, strings, numbers, booleans or None"),
        Some(Status::TimedOut) => return Err(timed_out(lambda, timeout_seconds)),
        None => UserError::new(format!(
            "`{PYTHON}` stopped with exit status {code} while running handler `{handler}`"
        )),
    };
    Err(error.into())
}

fn timed_out(lambda: &Lambda, timeout_seconds: u64) -> anyhow::Error {
    let unit = if timeout_seconds == 1 {
        "second"
    } else {
        "seconds"
    };
    UserError::new(format!(
        "handler `{}` timed out after {timeout_seconds} {unit}",
        lambda.handler()
    ))
    .hint(format!(
        "pass --timeout SECONDS to give it longer (Lambda allows up to {MAX_TIMEOUT})"
    ))
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runner_uses_the_same_exit_statuses() {
        let names = [
            (Status::Raised, "RAISED"),
            (Status::ImportFailed, "IMPORT_FAILED"),
            (Status::HandlerMissing, "HANDLER_MISSING"),
            (Status::NotJson, "NOT_JSON"),
            (Status::TimedOut, "TIMED_OUT"),
        ];
        for (status, name) in names {
            let line = format!("\n{name} = {}\n", status as i32);
            assert!(
                RUNNER.contains(&line),
                "invoke_runner.py lacks `{}`",
                line.trim()
            );
            assert_eq!(Status::from_code(status as i32), Some(status));
        }
        assert_eq!(Status::from_code(1), None);
    }
}
