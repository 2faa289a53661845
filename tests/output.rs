//! Standard output that cannot be written: a pipe nobody reads (`| head -0`)
//! or a full device (`> /dev/full`), for every command that prints. Never a
//! panic; a closed pipe ends the output quietly with the command's own exit
//! code; a full device is one `error:` line and exit 1, which says so when
//! the project was changed all the same.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Output, Stdio};

use common::*;

/// Where the command's standard output goes.
#[derive(Clone, Copy, Debug)]
enum Sink {
    /// A pipe whose reading end is closed before the command starts.
    ClosedPipe,
    /// `/dev/full`: every write fails with ENOSPC.
    Full,
}

fn run_into(cwd: &Path, args: &[&str], sink: Sink) -> Output {
    let stdout = match sink {
        Sink::ClosedPipe => {
            let (reader, writer) = std::io::pipe().expect("pipe");
            drop(reader);
            Stdio::from(writer)
        }
        Sink::Full => Stdio::from(
            fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .expect("/dev/full"),
        ),
    };
    scaffold(cwd)
        .args(args)
        .stdout(stdout)
        .output()
        .expect("binary runs")
}

fn assert_no_panic(args: &[&str], out: &Output) {
    let err = stderr(out);
    assert!(
        !err.contains("panicked") && out.status.code() != Some(101),
        "{args:?}: {err}"
    );
}

/// A project with one problem `check` can fix (a missing marker).
fn project_to_fix() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, root) = project("svc", &[]);
    fs::remove_file(root.join("test/producers/__init__.py")).unwrap();
    (dir, root)
}

/// Commands that only read, with the exit code they end with.
const READERS: &[(&[&str], i32)] = &[
    (&["list"], 0),
    (&["list", "--json"], 0),
    (&["check"], 0),
    (&["check", "--json"], 0),
    (&["add-handler", "producers", "new_one", "--dry-run"], 0),
    (
        &["remove-handler", "producers", "log_event", "--dry-run"],
        0,
    ),
    (&["completions", "bash"], 0),
    (&["--help"], 0),
    (&["--version"], 0),
    (&["list", "--help"], 0),
];

#[test]
fn a_closed_pipe_ends_reading_commands_quietly_with_their_own_exit_code() {
    let (_dir, root) = project("svc", &[]);
    let before = snapshot(&root);
    for (args, code) in READERS {
        let out = run_into(&root, args, Sink::ClosedPipe);
        assert_no_panic(args, &out);
        assert_eq!(out.status.code(), Some(*code), "{args:?}");
        assert_eq!(stderr(&out), "", "{args:?}: quiet");
    }
    // A check that finds problems still says so on stderr and exits 1.
    let (_dir, broken) = project_to_fix();
    let out = run_into(&broken, &["check"], Sink::ClosedPipe);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: 1 problem found\n"),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(&root), before);
}

#[test]
fn a_full_stdout_is_one_error_line_and_exit_1_for_reading_commands() {
    let (_dir, root) = project("svc", &[]);
    let before = snapshot(&root);
    for (args, _) in READERS {
        let out = run_into(&root, args, Sink::Full);
        assert_no_panic(args, &out);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr(&out),
            "error: cannot write to standard output: No space left on device\n",
            "{args:?}"
        );
    }
    assert_eq!(snapshot(&root), before);
    // Its note on the default layout comes before the project is made: not made.
    let dir = tempfile::tempdir().unwrap();
    let out = run_into(
        dir.path(),
        &["new-project", "svc", "--no-input"],
        Sink::Full,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.path().join("svc").exists());
}

#[test]
fn commands_that_change_the_project_make_the_change_and_say_so_when_stdout_fails() {
    for sink in [Sink::ClosedPipe, Sink::Full] {
        let said = |out: &Output, change: &str| match sink {
            Sink::ClosedPipe => {
                assert_eq!(out.status.code(), Some(0), "{sink:?}: {}", stderr(out));
                assert_eq!(stderr(out), "");
            }
            Sink::Full => {
                assert_eq!(out.status.code(), Some(1), "{sink:?}");
                assert_eq!(
                    stderr(out),
                    format!(
                        "error: cannot write to standard output: No space left on device; \
                         the change was made: {change}\n"
                    )
                );
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let args = ["new-project", "svc", "--layout", "log-centric"];
        let out = run_into(dir.path(), &args, sink);
        assert_no_panic(&args, &out);
        said(&out, "created project `svc` in `svc`");
        let root = dir.path().join("svc");
        ok(&root, &["check"]);

        let args = ["add-handler", "producers", "error_event"];
        let out = run_into(&root, &args, sink);
        assert_no_panic(&args, &out);
        said(&out, "added producer `error_event`");
        assert!(root.join("producers/error_event/producers.py").is_file());
        ok(&root, &["check"]);

        let args = ["remove-handler", "producers", "error_event"];
        let out = run_into(&root, &args, sink);
        assert_no_panic(&args, &out);
        said(&out, "removed producer `error_event`");
        assert!(!root.join("producers/error_event").exists());

        fs::remove_file(root.join("test/producers/__init__.py")).unwrap();
        let args = ["check", "--fix"];
        let out = run_into(&root, &args, sink);
        assert_no_panic(&args, &out);
        said(&out, "fixed 1 problem");
        ok(&root, &["check"]);
    }
}

#[test]
fn a_full_stderr_never_panics_and_keeps_the_exit_code() {
    let (_dir, root) = project("svc", &[]);
    let full = || {
        Stdio::from(
            fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .expect("/dev/full"),
        )
    };
    for (args, code) in [
        (&["add-handler", "producers", "9lives"][..], 1),
        (&["check"], 0),
        (&["list", "--bogus"], 2),
    ] {
        let out = scaffold(&root)
            .args(args)
            .stderr(full())
            .output()
            .expect("binary runs");
        assert_eq!(out.status.code(), Some(code), "{args:?}");
    }
}
