//! Running a generated project's `build.sh`, and wheels made by hand for it,
//! for the tests of the host build (`tests/build.rs`) and of the Docker build
//! (`tests/docker_build.rs`), and running a zip under the Lambda runtime
//! client (awslambdaric).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{stderr, stdout, tool};

pub fn python() -> PathBuf {
    tool("python3").expect("python3 is needed for the build tests")
}

/// `build.sh ARGS` in `root` with `envs`; PIP_EXTRA_ARGS only when a test sets it.
pub fn build_sh(root: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(root.join("build.sh"));
    cmd.args(args)
        .current_dir(root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("PIP_EXTRA_ARGS");
    // Nothing may come from the network: an empty requirements.txt needs no pip,
    // and tests with dependencies pass --no-index.
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("build.sh runs")
}

pub fn build_ok(root: &Path, args: &[&str], envs: &[(&str, &str)]) -> String {
    let out = build_sh(root, args, envs);
    assert!(
        out.status.success(),
        "build.sh {args:?} failed:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// Extracts `zip` into a fresh task root and runs `handler` there under the
/// Lambda runtime client; returns the zip's entries and the handler's answer.
pub fn run_from_zip(zip: &Path, handler: &str, event: &Path) -> serde_json::Value {
    let answer = run_zip_with(zip, handler, event, &[]);
    assert_eq!(
        answer["outcome"],
        "response",
        "{handler} from {} did not answer:\n{}\nlog:\n{}",
        zip.display(),
        answer["result"],
        answer["log"].as_str().unwrap_or_default()
    );
    answer
}

/// Runs `handler` from `zip` as [`run_from_zip`] does, with the function's
/// `settings` (its environment variables); returns whatever the run gave.
pub fn run_zip_with(
    zip: &Path,
    handler: &str,
    event: &Path,
    settings: &[(&str, &str)],
) -> serde_json::Value {
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/lambda_runtime.py");
    let out = Command::new(python())
        .arg("-I")
        .arg(runtime)
        .arg(zip)
        .arg(handler)
        .arg(event)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("AWS_LAMBDA_FUNCTION_NAME")
        .env_remove("AWS_LAMBDA_LOG_FORMAT")
        .env_remove("AWS_LAMBDA_LOG_LEVEL")
        .env_remove("STREAM_NAME")
        .envs(settings.iter().copied())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "running {handler} from {} failed (is awslambdaric installed? scripts/test.sh \
         installs it):\n{}",
        zip.display(),
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("runtime prints JSON")
}

/// Runs tests/support/make_wheel.py: a tiny wheel (or sdist) in `dir`, made by
/// hand (no network, no build backend); `args` are the script's (see its doc).
pub fn make_wheel(dir: &Path, args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/make_wheel.py");
    let out = Command::new(python())
        .arg(script)
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}
