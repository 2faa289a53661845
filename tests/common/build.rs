//! Running a generated project's `build.sh`, and wheels made by hand for it,
//! for the tests of the host build (`tests/build.rs`) and of the Docker build
//! (`tests/docker_build.rs`).

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

/// A minimal pure-Python wheel, built by hand: no network, no build backend.
pub fn write_wheel(dir: &Path, package: &str, body: &str) {
    let script = format!(
        r#"
import zipfile, sys
name = "{package}"
path = sys.argv[1] + "/" + name + "-1.0-py3-none-any.whl"
with zipfile.ZipFile(path, "w") as w:
    w.writestr(name + "/__init__.py", {body:?})
    w.writestr(name + "/tests/__init__.py", "")
    info = name + "-1.0.dist-info/"
    w.writestr(info + "METADATA", "Metadata-Version: 2.1\nName: " + name + "\nVersion: 1.0\n")
    w.writestr(info + "WHEEL", "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    w.writestr(info + "RECORD", "")
"#
    );
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}
