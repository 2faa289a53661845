//! Running one handler locally, as Lambda runs it from its zip.
//!
//! The project's own packager (`tools/package_lambda.py --stage`) writes the
//! files the zip would hold into a temporary task root, so `invoke` runs
//! exactly those files; then `python3` runs the runner embedded in the binary
//! (`invoke_runner.py`) there, in a process group of its own, with the context
//! and Lambda's variables built by the project template `test/lambda_context.py`
//! (embedded too: the one definition the tests use). This module enforces the
//! timeouts, ends the whole process group whatever happens, and turns what the
//! runner reports into the answer or one error. It writes only into its
//! temporary folder, never into the project (no bytecode either).
//!
//! With `--zip` the task root holds the built zip's files instead (and a
//! folder standing for Lambda's `/opt` the layer's, in layer mode), which the
//! packager checks (built from the current inputs, no path leaving the
//! folder, no link, bounded sizes) and extracts; Python then runs without its
//! installed packages, so the handler imports exactly what ships. Only on a
//! Linux host of the Lambda's architecture, where the zip's binaries load.

use std::io::{self, BufRead, BufReader};
use std::iter;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::error::UserError;
use crate::lambdas::Lambda;
use crate::layout::Arch;
use crate::packages::PackageName;
use crate::report;
use crate::stack::{self, FunctionSetting};

/// The Python program that imports and calls the handler (ruff-clean, tested).
const RUNNER: &str = include_str!("invoke_runner.py");

/// The generated project's test support: the one definition of the context
/// object and of the variables Lambda sets, for its tests and for `invoke`.
const LAMBDA_CONTEXT: &str = include_str!("../templates/project/test/lambda_context.py");

/// The project's packager, which knows which files a zip holds.
pub const PACKAGER: &str = "tools/package_lambda.py";

const PYTHON: &str = "python3";

/// A setting of a Lambda function that `invoke` takes from `template.yaml`:
/// its key, Lambda's default, the values Lambda allows, and the generated
/// template's value.
pub struct FunctionDefault {
    key: &'static str,
    lambda_default: u64,
    allowed: std::ops::RangeInclusive<u64>,
    generated: u64,
}

/// The timeout, in seconds.
pub const TIMEOUT: FunctionDefault = FunctionDefault {
    key: "Timeout",
    lambda_default: 3,
    allowed: 1..=MAX_TIMEOUT,
    generated: stack::GENERATED_TIMEOUT,
};

/// The memory, in MB (what the context and `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`
/// report).
pub const MEMORY: FunctionDefault = FunctionDefault {
    key: "MemorySize",
    lambda_default: 128,
    allowed: 128..=10_240,
    generated: stack::GENERATED_MEMORY_MB,
};

/// Lambda's longest timeout, in seconds.
pub const MAX_TIMEOUT: u64 = 900;

impl FunctionDefault {
    /// The value the function of `handler` gets from `template` (the text of
    /// `template.yaml`, `None` without one), as [`stack::function_setting`]
    /// reads it: its own or `Globals`'; Lambda's default when neither sets
    /// it; the generated template's when the text does not tell for sure or
    /// gives a value Lambda refuses.
    pub fn from_template(&self, template: Option<&str>, handler: &str) -> u64 {
        match template.map(|text| stack::function_setting(text, handler, self.key)) {
            Some(FunctionSetting::Set(value)) if self.allowed.contains(&value) => value,
            Some(FunctionSetting::Unset) => self.lambda_default,
            _ => self.generated,
        }
    }
}

/// Lambda gives a function's import (its init phase) ten seconds of its own.
const INIT_SECONDS: u64 = 10;

/// The longest wait for what a runner wrote before it ended (the reader
/// thread hands it over at once, unless the machine is very busy).
const DRAIN: Duration = Duration::from_secs(5);

/// One run of a handler.
#[derive(Debug)]
pub struct Invocation<'a> {
    pub root: &'a Path,
    pub lambda: &'a Lambda,
    /// The event, already checked to be JSON.
    pub event: &'a [u8],
    pub timeout_seconds: u64,
    /// The function's memory, in MB, as the context reports it.
    pub memory_mb: u64,
    /// The project's Lambda runtime (`3.13`), to note a different local Python.
    pub python_version: &'a str,
    /// The function's own environment variables (`--env-file`).
    pub environment: &'a [(String, String)],
    /// Run from the built zip (`--zip`), built with these settings.
    pub from_zip: Option<ZipBuild>,
}

/// The settings of lambdas.toml a zip is built with, for `invoke --zip`.
#[derive(Debug, Clone)]
pub struct ZipBuild {
    pub arch: Arch,
    /// `dependencies = "layer"`: the dependencies are in `target/dependencies.zip`.
    pub layer: bool,
    /// The packages the handler's entry lists (`requirements`), if any.
    pub packages: Option<Vec<PackageName>>,
}

/// Refuses `invoke --zip` on a host that could not load the zip's binaries:
/// anything but Linux on the Lambda's architecture (`os` and `machine` as
/// Rust's `std::env::consts` name them).
pub fn zip_runs_here(arch: Arch, os: &str, machine: &str) -> Result<(), UserError> {
    if os == "linux" && machine == arch.machine() {
        return Ok(());
    }
    Err(UserError::new(format!(
        "`invoke --zip` runs the zip's files, whose native libraries are built for Lambda's \
         Linux {}, and this machine is {os} {machine}",
        arch.as_str()
    ))
    .hint(format!(
        "run it on a Linux {} machine (or in the SAM build image), or drop --zip to run the \
         handler's code with this machine's packages",
        arch.machine()
    )))
}

/// What the runner writes to its stdout, one JSON object a line: `started`
/// when the handler is called, then one of the others, last.
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Message {
    Started,
    Answered { answer: String },
    ImportFailed { error: String },
    HandlerMissing,
    Raised { error: String },
    NotJson { error: String },
    NotFinite,
}

/// Runs the handler: its answer goes to stdout, its logs and any traceback to
/// stderr. Fails with a [`UserError`] when it cannot run, raises, cannot be
/// imported, answers something that is not JSON, ends without answering or
/// times out.
pub fn invoke(invocation: &Invocation) -> Result<()> {
    // Absolute: the runner starts in the task root.
    let root = invocation
        .root
        .canonicalize()
        .with_context(|| format!("cannot read `{}`", invocation.root.display()))?;
    let scratch = tempfile::Builder::new()
        .prefix("lambda-scaffold-invoke-")
        .tempdir()
        .context("cannot make a temporary folder for the task root")?;
    let task_root = scratch.path().join("task");
    std::fs::create_dir(&task_root).context("cannot make the task root")?;
    // Lambda's /opt, where it extracts layers.
    let opt = scratch.path().join("opt");
    let mut runner = python();
    let mut packager = python();
    packager
        .arg(root.join(PACKAGER))
        .arg("--stage")
        .arg(&task_root);
    if let Some(build) = &invocation.from_zip {
        std::fs::create_dir(&opt).context("cannot make the folder of the layer")?;
        packager
            .arg("--from-zip")
            .args(["--python-version", invocation.python_version])
            .args(["--arch", build.arch.as_str()]);
        if let Some(packages) = &build.packages {
            let names: Vec<&str> = packages.iter().map(PackageName::as_str).collect();
            packager.arg("--packages").arg(format!(
                "{}={}",
                invocation.lambda.name,
                names.join(",")
            ));
        }
        if build.layer {
            packager
                .args(["--dependencies", "layer"])
                .arg("--opt")
                .arg(&opt);
            runner.env("LAMBDA_SCAFFOLD_OPT", &opt);
        }
        // No site-packages, no PYTHONPATH: the handler imports what the zip
        // holds, and the standard library.
        runner.arg("-S").env_remove("PYTHONPATH");
    }
    stage(&root, invocation, &mut packager)?;
    let context_file = scratch.path().join("lambda_context.py");
    let event_file = scratch.path().join("event.json");
    std::fs::write(&context_file, LAMBDA_CONTEXT).context("cannot write the context module")?;
    std::fs::write(&event_file, invocation.event).context("cannot write the event")?;

    let lambda = invocation.lambda;
    runner
        .arg("-c")
        .arg(RUNNER)
        .arg(&task_root)
        .arg(&context_file)
        .arg(&event_file)
        .arg(lambda.kind.as_str())
        .arg(lambda.name.as_str())
        .arg(invocation.python_version)
        .current_dir(&task_root)
        .envs(invocation.environment.iter().map(|(k, v)| (k, v)))
        .env(
            "LAMBDA_SCAFFOLD_TIMEOUT",
            invocation.timeout_seconds.to_string(),
        )
        .env(
            "LAMBDA_SCAFFOLD_MEMORY_MB",
            invocation.memory_mb.to_string(),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .process_group(0);
    // Before the spawn: a Ctrl-C from then on must end the runner's group too.
    catch_interrupts();
    let mut child = spawn(&mut runner, invocation.python_version)?;
    let _group = ProcessGroup::of(&child);
    let messages = read_messages(&mut child);
    let ended = supervise(&mut child, &messages, invocation.timeout_seconds)?;
    conclude(ended, lambda, invocation.timeout_seconds)
}

/// `python3`, never writing bytecode into the project or the task root.
fn python() -> Command {
    let mut command = Command::new(PYTHON);
    command.env("PYTHONDONTWRITEBYTECODE", "1");
    command
}

fn spawn(command: &mut Command, python_version: &str) -> Result<Child> {
    command.spawn().map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => UserError::new(format!("`{PYTHON}` was not found"))
            .hint(format!(
                "install Python 3 (this project's Lambda runtime is python{python_version}) \
                 and put `{PYTHON}` on PATH"
            ))
            .into(),
        _ => anyhow::Error::new(e).context(format!("cannot run `{PYTHON}`")),
    })
}

/// Has the project's packager (`packager`, with its options) write the
/// Lambda's files, as its zip holds them, into the task root; relays its
/// warnings and turns its refusal into ours.
fn stage(root: &Path, invocation: &Invocation, packager: &mut Command) -> Result<()> {
    let lambda = invocation.lambda;
    if !root.join(PACKAGER).is_file() {
        return Err(UserError::new(format!("`{PACKAGER}` is missing"))
            .hint(format!(
                "invoke runs the files the zip holds, as the project's packager picks them: \
                 restore `{PACKAGER}` (a new project made by lambda-scaffold has it)"
            ))
            .into());
    }
    let output: Output = spawn(
        packager
            .arg("--")
            .arg(lambda.name.as_str())
            .arg(format!("./{}", crate::plan::slash(&lambda.source())))
            .current_dir(root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
        invocation.python_version,
    )?
    .wait_with_output()
    .with_context(|| format!("cannot run `{PACKAGER}`"))?;
    let said = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(0) => {
            report::eprint(&said);
            Ok(())
        }
        Some(1) => {
            let line = |prefix: &str| {
                said.lines()
                    .find_map(|l| l.strip_prefix(prefix))
                    .map(str::to_string)
            };
            let message = line("error: ")
                .unwrap_or_else(|| format!("`{PACKAGER}` cannot stage `{lambda}` (exit status 1)"));
            report::eprint(
                &said
                    .lines()
                    .filter(|l| !l.starts_with("error: ") && !l.starts_with("hint: "))
                    .map(|l| format!("{l}\n"))
                    .collect::<String>(),
            );
            let error = UserError::new(message);
            Err(match line("hint: ") {
                Some(hint) => error.hint(hint),
                None => error,
            }
            .into())
        }
        _ => {
            report::eprint(&said);
            Err(UserError::new(format!(
                "`{PACKAGER}` cannot stage the files of `{lambda}` for invoke ({})",
                output.status
            ))
            .hint(format!(
                "this project's packager may predate the options invoke gives it (`--stage`, `--from-zip`): copy `{PACKAGER}` from a new \
                 project made by this lambda-scaffold"
            ))
            .into())
        }
    }
}

/// The runner's messages, read by a thread of their own. A line that is not
/// a message (a handler that wrote to the inherited pipe) is dropped.
fn read_messages(child: &mut Child) -> Receiver<Message> {
    let (sender, receiver) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(message) = serde_json::from_str::<Message>(&line)
                    && sender.send(message).is_err()
                {
                    break;
                }
            }
        });
    }
    receiver
}

/// How a run ended.
#[derive(Debug)]
enum Ended {
    /// The runner's final message.
    Reported(Message),
    /// The process ended without one.
    Silent(ExitStatus),
    /// The import ran past Lambda's init time.
    InitTimedOut,
    /// The handler ran past its timeout.
    TimedOut,
}

/// Waits for the run to end, within Lambda's limits: [`INIT_SECONDS`] for the
/// import, then `timeout_seconds` from the handler's call.
fn supervise(
    child: &mut Child,
    messages: &Receiver<Message>,
    timeout_seconds: u64,
) -> Result<Ended> {
    let mut deadline = Instant::now() + Duration::from_secs(INIT_SECONDS);
    let mut started = false;
    loop {
        if let Some(signal) = interrupted() {
            ProcessGroup::end(child);
            reraise(signal);
        }
        match messages.recv_timeout(Duration::from_millis(20)) {
            Ok(Message::Started) => {
                started = true;
                deadline = Instant::now() + Duration::from_secs(timeout_seconds);
            }
            Ok(last) => return Ok(Ended::Reported(last)),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {}
        }
        if let Some(status) = child.try_wait().context("cannot wait for python3")? {
            // What it wrote before it ended is on its way; ending what it left
            // running closes the pipe, so the reader sees its end.
            ProcessGroup::end(child);
            let last = iter::from_fn(|| messages.recv_timeout(DRAIN).ok())
                .find(|message| *message != Message::Started);
            return Ok(last.map_or(Ended::Silent(status), Ended::Reported));
        }
        if Instant::now() >= deadline {
            return Ok(if started {
                Ended::TimedOut
            } else {
                Ended::InitTimedOut
            });
        }
    }
}

fn conclude(ended: Ended, lambda: &Lambda, timeout_seconds: u64) -> Result<()> {
    let handler = lambda.handler();
    let error = match ended {
        Ended::Reported(Message::Answered { answer }) => {
            return Ok(report::print(&format!("{answer}\n"))?);
        }
        Ended::Reported(Message::Raised { error }) => UserError::new(format!(
            "handler `{handler}` raised an exception (traceback above): {error}"
        )),
        Ended::Reported(Message::ImportFailed { error }) => UserError::new(format!(
            "module `{}` cannot be imported as Lambda imports it from the zip (traceback \
             above): {error}",
            lambda.kind
        ))
        .hint(format!(
            "import the handler's helpers by package path, as its tests do: \
             `from {}.{}.helpers import x`; the zip holds `{}/` and `utils/`. A package \
             from PyPI goes in requirements.txt (and in the entry's `requirements`, if it \
             has that list), then `./build.sh --lock`; install the lock here \
             (`pip install --require-hashes --no-deps -r requirements.lock`) or rebuild \
             and run with `--zip`",
            lambda.kind,
            lambda.name,
            crate::plan::slash(&lambda.source())
        )),
        Ended::Reported(Message::HandlerMissing) => UserError::new(format!(
            "module `{}` defines no function `{}`",
            lambda.module().display(),
            lambda.name
        ))
        .hint(format!(
            "define `def {}(event, context):` in it",
            lambda.name
        )),
        Ended::Reported(Message::NotJson { error }) => UserError::new(format!(
            "the answer of handler `{handler}` cannot be encoded as JSON, so Lambda could not \
             return it: {error}"
        ))
        .hint("return dicts, lists, strings, numbers, booleans or None"),
        Ended::Reported(Message::NotFinite) => UserError::new(format!(
            "the answer of handler `{handler}` holds NaN or Infinity, which JSON cannot hold"
        ))
        .hint("return None or a string where a number is not finite"),
        Ended::Reported(Message::Started) | Ended::Silent(_) => {
            let how = match &ended {
                Ended::Silent(status) => match status.code() {
                    Some(code) => format!("exit status {code}"),
                    None => status.to_string(),
                },
                _ => "a second start".to_string(),
            };
            UserError::new(format!(
                "no answer came back from handler `{handler}`: its process ended ({how}) \
                 before it returned"
            ))
            .hint(
                "Lambda reports such an invocation as failed; return from the handler \
                 instead of calling os._exit or exit",
            )
        }
        Ended::InitTimedOut => UserError::new(format!(
            "module `{}` did not finish importing within {INIT_SECONDS} seconds, Lambda's \
             init time",
            lambda.kind
        ))
        .hint("move slow work out of the module's top level, into the handler"),
        Ended::TimedOut => UserError::new(format!(
            "handler `{handler}` timed out after {timeout_seconds} {}",
            if timeout_seconds == 1 {
                "second"
            } else {
                "seconds"
            }
        ))
        .hint(format!(
            "pass --timeout SECONDS to give it longer (Lambda allows up to {MAX_TIMEOUT})"
        )),
    };
    Err(error.into())
}

/// The runner's process group, ended (every process the handler started
/// too) when this is dropped: at the end of a run, however it ended.
struct ProcessGroup(libc::pid_t);

impl ProcessGroup {
    fn of(child: &Child) -> Self {
        Self(child.id() as libc::pid_t)
    }

    fn end(child: &mut Child) {
        // SAFETY: killpg only sends a signal; the group is the runner's own.
        unsafe { libc::killpg(child.id() as libc::pid_t, libc::SIGKILL) };
        let _ = child.wait();
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        // SAFETY: as above; a group that is gone already gives ESRCH, ignored.
        unsafe { libc::killpg(self.0, libc::SIGKILL) };
    }
}

/// The signal that asked this process to stop while a handler ran, if any.
static INTERRUPT: AtomicI32 = AtomicI32::new(0);

extern "C" fn remember_interrupt(signal: libc::c_int) {
    INTERRUPT.store(signal, Ordering::SeqCst);
}

/// The runner has a process group of its own, so Ctrl-C reaches only this
/// process: remember it, end the group, then stop by the same signal.
fn catch_interrupts() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(
                signal,
                remember_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t,
            )
        };
    }
}

fn interrupted() -> Option<libc::c_int> {
    match INTERRUPT.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

fn reraise(signal: libc::c_int) -> ! {
    // SAFETY: restores the default action, then delivers the signal to this process.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
    std::process::exit(128 + signal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runner_sends_every_message_this_side_reads() {
        for (kind, line) in [
            ("started", r#"{"type": "started"}"#),
            ("answered", r#"{"type": "answered", "answer": "1"}"#),
            (
                "import_failed",
                r#"{"type": "import_failed", "error": "e"}"#,
            ),
            ("handler_missing", r#"{"type": "handler_missing"}"#),
            ("raised", r#"{"type": "raised", "error": "e"}"#),
            ("not_json", r#"{"type": "not_json", "error": "e"}"#),
            ("not_finite", r#"{"type": "not_finite"}"#),
        ] {
            assert!(
                RUNNER.contains(&format!("\"{kind}\"")),
                "invoke_runner.py never sends `{kind}`"
            );
            assert!(serde_json::from_str::<Message>(line).is_ok(), "{line}");
        }
    }

    #[test]
    fn a_zip_runs_only_on_linux_of_the_lambdas_architecture() {
        assert!(zip_runs_here(Arch::X86_64, "linux", "x86_64").is_ok());
        assert!(zip_runs_here(Arch::Arm64, "linux", "aarch64").is_ok());
        for (arch, os, machine) in [
            (Arch::Arm64, "linux", "x86_64"),
            (Arch::X86_64, "linux", "aarch64"),
            (Arch::X86_64, "macos", "x86_64"),
            (Arch::Arm64, "macos", "aarch64"),
        ] {
            let err = zip_runs_here(arch, os, machine).unwrap_err();
            assert!(
                err.message.ends_with(&format!(
                    "built for Lambda's Linux {}, and this machine is {os} {machine}",
                    arch.as_str()
                )),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn the_shared_context_module_is_copied_as_it_is() {
        // The template set copies files without template syntax verbatim, so
        // the project's copy and the embedded one are the same text.
        assert!(!LAMBDA_CONTEXT.contains("{{") && !LAMBDA_CONTEXT.contains("{%"));
        assert!(LAMBDA_CONTEXT.contains("def lambda_environment("));
    }
}
