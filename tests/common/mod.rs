//! Shared helpers for the end-to-end tests: run the binary, snapshot trees,
//! find the external tools the generated project is checked with.

#![allow(dead_code)] // each test crate uses its own subset of these helpers

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;

pub mod build;

/// The `lambda-scaffold` binary, run in `cwd`, with no terminal and no colour.
pub fn scaffold(cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("lambda-scaffold").expect("binary is built");
    cmd.current_dir(cwd).env("NO_COLOR", "1");
    cmd
}

pub fn run(cwd: &Path, args: &[&str]) -> Output {
    scaffold(cwd).args(args).output().expect("binary runs")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs the command and asserts it succeeded, showing its output if not.
pub fn ok(cwd: &Path, args: &[&str]) -> Output {
    let out = run(cwd, args);
    assert!(
        out.status.success(),
        "{args:?} failed:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    out
}

/// Gives `path` a modification time an hour from now: later than any write
/// of the test (timestamps are coarser than the time between two writes).
pub fn touch_later(path: &Path) {
    let file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(3600))
        .unwrap();
}

/// Every file, folder and symlink under `root` with its bytes and mode.
pub type Tree = BTreeMap<PathBuf, (String, Vec<u8>, u32)>;

pub fn snapshot(root: &Path) -> Tree {
    use std::os::unix::fs::PermissionsExt;
    let mut tree = Tree::new();
    if !root.exists() {
        return tree;
    }
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.expect("walk");
        let meta = entry.path().symlink_metadata().expect("metadata");
        let rel = entry
            .path()
            .strip_prefix(root)
            .expect("inside")
            .to_path_buf();
        let (kind, bytes) = if meta.file_type().is_symlink() {
            (
                "link",
                fs::read_link(entry.path())
                    .expect("link")
                    .into_os_string()
                    .into_encoded_bytes(),
            )
        } else if meta.is_dir() {
            ("dir", Vec::new())
        } else {
            ("file", fs::read(entry.path()).expect("read"))
        };
        tree.insert(rel, (kind.to_string(), bytes, meta.permissions().mode()));
    }
    tree
}

/// A new project made with `args` after `new-project NAME --no-input`, in a temp folder.
/// Edits a default project's lambdas.toml to Python 3.12 on arm64, as a user
/// changing the build settings would (the copies elsewhere then disagree).
pub fn change_build_settings_to_312_arm64(root: &Path) {
    let manifest = root.join("lambdas.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    let changed = text
        .replace("python = \"3.13\"", "python = \"3.12\"")
        .replace("arch = \"x86_64\"", "arch = \"arm64\"");
    assert_ne!(changed, text, "the manifest has the default settings");
    fs::write(&manifest, changed).unwrap();
}

pub fn project(name: &str, extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["new-project", name, "--no-input"];
    args.extend_from_slice(extra);
    ok(dir.path(), &args);
    let root = dir.path().join(name);
    (dir, root)
}

/// Whether the test suite runs in CI, where every tool must be present.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The path of an external tool, looked up in `LAMBDA_SCAFFOLD_TOOLS` (the
/// venv's `bin/` that `.ci/run` makes) then `PATH`. Missing: `None` locally
/// (the caller skips, saying so), a test failure in CI.
pub fn tool(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("LAMBDA_SCAFFOLD_TOOLS")
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default();
    dirs.extend(
        std::env::var_os("PATH")
            .map(|v| std::env::split_paths(&v).collect::<Vec<_>>())
            .unwrap_or_default(),
    );
    let found = dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file());
    if found.is_none() {
        assert!(
            !in_ci(),
            "`{name}` is required in CI (CI=true) but was not found; .ci/run installs it"
        );
        eprintln!("skipping: `{name}` is not installed (CI=true makes this a failure)");
    }
    found
}

/// Runs `python3 -m unittest` in `root` and returns how many tests ran.
pub fn python_unittest(root: &Path) -> usize {
    let python = tool("python3").expect("python3 is needed to run the generated tests");
    let out = Command::new(python)
        .args(["-m", "unittest"])
        .current_dir(root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("STREAM_NAME")
        .output()
        .expect("python3 runs");
    let err = stderr(&out);
    assert!(
        out.status.success(),
        "python -m unittest failed in {}:\n{err}",
        root.display()
    );
    err.lines()
        .find_map(|l| {
            l.strip_prefix("Ran ")
                .and_then(|r| r.split_whitespace().next()?.parse().ok())
        })
        .expect("unittest prints `Ran N tests`")
}

/// Runs a refused command in `cwd`, asserting exit 1, an `error:` line with
/// `message`, a `hint:` line and that nothing under `watched` changed; returns
/// stderr.
pub fn assert_refused(cwd: &Path, watched: &Path, args: &[&str], message: &str) -> String {
    let before = snapshot(watched);
    let out = run(cwd, args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(err.starts_with("error: "), "{args:?}: {err}");
    assert!(
        err.contains(message),
        "{args:?}: expected `{message}` in:\n{err}"
    );
    assert!(err.contains("\nhint: "), "{args:?}: no hint in:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(snapshot(watched), before, "{args:?} changed the tree");
    err
}

/// Runs `check --fix` in `root`: when it may not fix everything (`fixable`
/// false), asserts exit 1 and the tree unchanged and returns `None`;
/// otherwise asserts success and returns its stdout. `what` names the case.
pub fn check_fix(root: &Path, fixable: bool, what: &str) -> Option<String> {
    let before = snapshot(root);
    let out = run(root, &["check", "--fix"]);
    if !fixable {
        assert_eq!(out.status.code(), Some(1), "{what}");
        assert_eq!(snapshot(root), before, "{what}: fix changed the tree");
        return None;
    }
    assert!(out.status.success(), "{what}: {}", stderr(&out));
    Some(stdout(&out))
}

/// Asserts that each command line is a usage error (exit 2) and changes nothing in `root`.
pub fn assert_usage_errors(root: &Path, commands: &[&[&str]]) {
    let before = snapshot(root);
    for args in commands {
        let out = run(root, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"));
    }
    assert_eq!(snapshot(root), before);
}

/// Like [`assert_refused`], for a refusal over the staging folder `staging`:
/// the message names it and the hint says how to delete it.
pub fn assert_staging_refused(
    cwd: &Path,
    watched: &Path,
    args: &[&str],
    staging: &Path,
    message: &str,
) -> String {
    let err = assert_refused(cwd, watched, args, message);
    assert!(
        err.contains(&format!("`{}`", staging.display())),
        "{args:?}: the folder is not named in:\n{err}"
    );
    assert!(
        err.contains(&format!("rm -r -- '{}'", staging.display())),
        "{args:?}: no way out in:\n{err}"
    );
    err
}

/// `cp -a from to`: a copy of a tree with its modes and links.
pub fn copy_tree(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp runs");
    assert!(status.success());
}

/// The staging folders left in `dir` (there should be none after a run).
pub fn staging_dirs(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".lambda-scaffold-staging-"))
        .collect()
}

/// Tests every new log-centric project has before any handler: those of its
/// test support (`test/test_lambda_context.py`) and of `utils/`
/// (`test/utils/`), so that `python -m unittest` never runs zero tests (an
/// error since Python 3.12).
pub const PROJECT_TESTS: usize = 7;
/// A web-stack project has the tests of `utils/http.py` too.
pub const WEB_STACK_PROJECT_TESTS: usize = PROJECT_TESTS + 15;

/// The tests of a new project of `layout` before any handler.
pub fn project_tests(layout: &str) -> usize {
    match layout {
        "web-stack" => WEB_STACK_PROJECT_TESTS,
        _ => PROJECT_TESTS,
    }
}

/// How many tests one handler of `kind` (`producers`, ...) brings.
pub fn handler_tests(kind: &str) -> usize {
    match kind {
        "producers" => 9,
        "consumers" => 7,
        "handlers" => 10,
        _ => panic!("unknown kind {kind}"),
    }
}

/// Every `add-handler --event` source, as it is spelled there.
pub const EVENT_SOURCES: [&str; 10] = [
    "kinesis",
    "sqs",
    "sns",
    "s3",
    "dynamodb",
    "eventbridge",
    "schedule",
    "http-api",
    "rest-api",
    "function-url",
];

/// The tests of a new log-centric project with its example handlers.
pub fn log_centric_example_tests() -> usize {
    PROJECT_TESTS + handler_tests("producers") + handler_tests("consumers")
}

/// Writes `text` to `root/path`, making the folders on the way.
pub fn write_file(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().expect("a file path")).expect("folders");
    fs::write(path, text).expect("write");
}

/// Runs `cmd` with `input` on its standard input; returns what it printed.
pub fn output_with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("command starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input)
        .expect("stdin takes the input");
    child.wait_with_output().expect("command runs")
}

/// `command` with no AWS credentials or configuration of this machine's: the
/// tests must pass on a laptop, and never reach an account.
pub fn without_aws_credentials(command: &mut Command) -> &mut Command {
    command
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
}

/// The shell script of `job` in a generated CI file (`file`, relative to
/// `root`), as tests/support/ci_job_script.py reads it with the YAML parser of
/// the tools' venv. `None` when python3 is missing outside CI.
pub fn ci_job_script(root: &Path, file: &str, job: &str) -> Option<String> {
    read_ci_file(root, file, Some(job))
}

/// A generated CI file as JSON, GitLab's `extends` resolved (see
/// [`ci_job_script`]).
pub fn ci_document(root: &Path, file: &str) -> Option<serde_json::Value> {
    let json = read_ci_file(root, file, None)?;
    Some(serde_json::from_str(&json).expect("JSON"))
}

fn read_ci_file(root: &Path, file: &str, job: Option<&str>) -> Option<String> {
    let python = tool("python3")?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/ci_job_script.py");
    let out = Command::new(python)
        .arg(script)
        .arg(file)
        .args(job)
        .current_dir(root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{file}: {}", stderr(&out));
    Some(stdout(&out))
}
