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
    build_sh_within(root, None, args, envs)
}

/// [`build_sh`], with `memory_kib`: its address space bounded to that many
/// KiB (`ulimit -v`), so that a build that allocates what it should not
/// fails instead of taking the machine's memory.
pub fn build_sh_within(
    root: &Path,
    memory_kib: Option<u64>,
    args: &[&str],
    envs: &[(&str, &str)],
) -> Output {
    let mut cmd = match memory_kib {
        None => Command::new(root.join("build.sh")),
        Some(kib) => {
            let mut shell = Command::new("sh");
            shell
                .arg("-c")
                .arg(format!("ulimit -v {kib} && exec ./build.sh \"$@\""))
                .arg("build.sh");
            shell
        }
    };
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

/// `./build.sh --lock ARGS...` in `root` with `envs`, finding uv where the
/// tests find their tools (scripts/test.sh installs it).
pub fn lock_sh(root: &Path, envs: &[(&str, &str)]) -> Output {
    let uv = tool("uv").expect("uv is needed to write requirements.lock");
    let mut dirs = vec![uv.parent().expect("uv is in a folder").to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(dirs).expect("PATH joins");
    let path = path.to_str().expect("PATH is UTF-8");
    let mut envs = envs.to_vec();
    envs.push(("PATH", path));
    build_sh(root, &["--lock"], &envs)
}

/// `./build.sh --lock` from the wheels in `wheels` only, which must succeed.
pub fn lock_from(root: &Path, wheels: &Path) {
    let extra = format!("--no-index --find-links {}", wheels.display());
    let out = lock_sh(root, &[("PIP_EXTRA_ARGS", &extra)]);
    assert!(
        out.status.success(),
        "build.sh --lock failed:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
}

/// Writes `requirements.lock` by hand for the lines `NAME` or `NAME==VERSION`
/// of `requirements.txt`: each pinned to the one version `wheels` holds of it
/// (or the given one), with the hashes of its files there,
/// with the header `./build.sh --lock` writes. For the tests of the
/// packager's own checks, which uv's resolution would stop earlier.
pub fn hand_lock(root: &Path, wheels: &Path) {
    let setting = |key: &str| -> String {
        let manifest = std::fs::read_to_string(root.join("lambdas.toml")).unwrap();
        manifest
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key} = \"")))
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap_or_else(|| panic!("lambdas.toml has no {key}"))
            .to_string()
    };
    let requirements = std::fs::read(root.join("requirements.txt")).unwrap();
    let input =
        lambda_scaffold::lock::LockInput::new(&requirements, &setting("python"), &setting("arch"));
    let mut lock = format!("# written by hand for a test\n{input}\n");
    for line in String::from_utf8(requirements).unwrap().lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, pinned) = line.split_once("==").unwrap_or((line, ""));
        let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(wheels)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter_map(|p| {
                let file = p.file_name()?.to_str()?.to_string();
                let rest = file.strip_prefix(&format!("{name}-"))?;
                let version = rest.split('-').next()?.trim_end_matches(".tar.gz");
                (pinned.is_empty() || version == pinned).then(|| (version.to_string(), p))
            })
            .collect();
        files.sort();
        let version = files
            .first()
            .map(|(v, _)| v.clone())
            .unwrap_or(pinned.to_string());
        assert!(
            files.iter().all(|(v, _)| *v == version),
            "one version of {name}"
        );
        lock.push_str(&format!("{name}=={version}"));
        for (_, file) in files {
            let hash = lambda_scaffold::generated::file_hash(&std::fs::read(file).unwrap());
            lock.push_str(&format!(" \\\n    --hash=sha256:{hash}"));
        }
        lock.push('\n');
    }
    std::fs::write(root.join("requirements.lock"), lock).unwrap();
}

/// Adds a top-level `line` (`dependencies = "layer"`) to `root`'s lambdas.toml.
pub fn add_setting(root: &Path, line: &str) {
    let manifest = root.join("lambdas.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(text.contains("\nci = "), "{text}");
    std::fs::write(
        &manifest,
        text.replacen("\nci = ", &format!("\n{line}\nci = "), 1),
    )
    .unwrap();
}

/// Makes a `py3-none-any` wheel per `(name, module text)` in `dir/wheels`,
/// requires them all in `root`'s requirements.txt and locks it; returns the
/// PIP_EXTRA_ARGS that build from that wheelhouse.
pub fn lock_wheels(dir: &Path, root: &Path, packages: &[(&str, &str)]) -> String {
    let wheels = dir.join("wheels");
    std::fs::create_dir_all(&wheels).unwrap();
    let mut requirements = String::new();
    for (name, init) in packages {
        make_wheel(&wheels, &[name, "1.0", "py3-none-any", "--init", init]);
        requirements.push_str(&format!("{name}\n"));
    }
    std::fs::write(root.join("requirements.txt"), requirements).unwrap();
    lock_from(root, &wheels);
    format!("--no-index --find-links {}", wheels.display())
}

/// The `X.Y` of the python3 the tests run, which builds for that runtime
/// with bytecode.
pub fn host_python_version() -> String {
    let out = Command::new(python())
        .args(["-c", "import sys; print(*sys.version_info[:2], sep='.')"])
        .output()
        .unwrap();
    stdout(&out).trim().to_string()
}

/// The entry names of a zip, as Python's zipfile reads them.
pub fn zip_names(zip: &Path) -> Vec<String> {
    let out = Command::new(python())
        .args([
            "-c",
            "import sys, zipfile; print(*zipfile.ZipFile(sys.argv[1]).namelist(), sep='\\n')",
        ])
        .arg(zip)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).lines().map(String::from).collect()
}
