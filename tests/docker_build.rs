//! The Docker build mode, run for real: `./build.sh NAME PATH` builds the
//! project's Dockerfile and runs the packager in a container.
//!
//! `scripts/docker-test-env.sh` (which `scripts/test.sh` runs in CI) installs
//! Docker from Debian's packages, starts a daemon and makes a stand-in for the
//! AWS SAM build image with debootstrap (Debian bookworm: Python 3.11, pip, a C
//! compiler), named in `LAMBDA_SCAFFOLD_DOCKER_IMAGE`; the tests hand it to
//! `build.sh` in place of the SAM image. No registry is reachable, so the
//! dependencies come from a folder of wheels inside the project (mounted in the
//! container with it). Without that image the tests skip, saying so, except in
//! CI, where they fail.

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::build::*;
use common::*;

/// `build.sh`'s variable that names the build image of the Docker mode.
const IMAGE_VARIABLE: &str = "SAM_IMAGE";
/// pip options for the wheelhouse `./wheels` of the test projects.
const WHEELHOUSE: &str = "--no-index --find-links ./wheels";
/// The pure-Python dependency every test project has, from its wheelhouse.
const DEPENDENCY: &str = "lsdemo_greeting";

/// The stand-in build image, or `None` (the caller skips, saying so) when the
/// tests run without `scripts/docker-test-env.sh`; in CI that is a failure.
fn stand_in_image() -> Option<String> {
    let image = std::env::var("LAMBDA_SCAFFOLD_DOCKER_IMAGE").unwrap_or_default();
    if !image.is_empty() {
        return Some(image);
    }
    assert!(
        !in_ci(),
        "the Docker tests must run in CI (CI=true): run them through scripts/test.sh, \
         which sets up Docker and the stand-in build image"
    );
    eprintln!(
        "skipping: no Docker build image; `LAMBDA_SCAFFOLD_DOCKER_TESTS=1 scripts/test.sh` \
         (as root) sets one up"
    );
    None
}

/// A project for the stand-in's Python, 3.11, whose requirements name
/// `lsdemo_greeting` from the wheelhouse `./wheels` (made here).
fn project_with_wheelhouse(extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let mut args = vec!["--python", "3.11"];
    args.extend_from_slice(extra);
    let (dir, root) = project("svc", &args);
    let wheels = root.join("wheels");
    fs::create_dir(&wheels).unwrap();
    make_wheel(
        &wheels,
        &[
            DEPENDENCY,
            "1.0",
            "py3-none-any",
            "--init",
            "def greet(name):\n    return 'hi ' + name\n",
        ],
    );
    add_requirement(&root, &format!("{DEPENDENCY}==1.0"));
    (dir, root)
}

/// Adds `line` to requirements.txt and locks it from the wheelhouse (by hand:
/// an sdist's metadata would need a build on the host).
fn add_requirement(root: &Path, line: &str) {
    let path = root.join("requirements.txt");
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str(line);
    text.push('\n');
    fs::write(path, text).unwrap();
    hand_lock(root, &root.join("wheels"));
}

/// The environment of a Docker-mode build with the stand-in and the wheelhouse.
fn docker_env(image: &str) -> [(&'static str, &str); 2] {
    [(IMAGE_VARIABLE, image), ("PIP_EXTRA_ARGS", WHEELHOUSE)]
}

/// Every zip `target/` holds, by name, with its bytes.
fn zips(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut zips: Vec<(String, Vec<u8>)> = fs::read_dir(root.join("target"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "zip"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&p).unwrap())
        })
        .collect();
    zips.sort();
    zips
}

/// Runs `code` with the files of `zip` (extracted) first on `sys.path`; returns stdout.
fn python_with_zip(zip: &Path, code: &str) -> String {
    let script = format!(
        "import sys, tempfile, zipfile\n\
         root = tempfile.mkdtemp()\n\
         zipfile.ZipFile(sys.argv[1]).extractall(root)\n\
         sys.path.insert(0, root)\n\
         {code}\n"
    );
    let out = Command::new(python())
        .args(["-I", "-c", &script])
        .arg(zip)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn a_zip_built_in_docker_is_byte_identical_to_the_local_one() {
    let Some(image) = stand_in_image() else {
        return;
    };
    let (_dir, root) = project_with_wheelhouse(&[]);
    let lambda = ["log_event", "./producers/log_event"];
    let out = build_ok(&root, &lambda, &docker_env(&image));
    // stdout lists the zips built, as in the local mode; Docker's progress goes to stderr.
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("target/log_event.zip "), "{out}");
    let in_docker = fs::read(root.join("target/log_event.zip")).unwrap();
    fs::remove_dir_all(root.join("target")).unwrap();
    build_ok(
        &root,
        &["--local", lambda[0], lambda[1]],
        &[("PIP_EXTRA_ARGS", WHEELHOUSE)],
    );
    let on_host = fs::read(root.join("target/log_event.zip")).unwrap();
    assert!(in_docker == on_host, "the Docker and --local zips differ");
    let greeting = python_with_zip(
        &root.join("target/log_event.zip"),
        &format!("from {DEPENDENCY} import greet; print(greet('docker'))"),
    );
    assert_eq!(greeting, "hi docker\n");
}

#[test]
fn an_absolute_path_inside_the_project_builds_in_docker_too() {
    let Some(image) = stand_in_image() else {
        return;
    };
    let (_dir, root) = project_with_wheelhouse(&[]);
    // The container sees the project elsewhere: build.sh names PATH from its root.
    let absolute = root.join("producers/log_event");
    build_ok(
        &root,
        &["log_event", absolute.to_str().unwrap()],
        &docker_env(&image),
    );
    assert!(root.join("target/log_event.zip").is_file());
}

#[test]
fn build_all_in_docker_builds_every_lambda_as_the_local_build_does() {
    let Some(image) = stand_in_image() else {
        return;
    };
    let (_dir, root) = project_with_wheelhouse(&["--layout", "web-stack"]);
    ok(&root, &["add-handler", "handlers", "login"]);
    build_ok(&root, &["--all"], &docker_env(&image));
    let in_docker = zips(&root);
    let names: Vec<&str> = in_docker.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["index.zip", "login.zip"]);
    fs::remove_dir_all(root.join("target")).unwrap();
    build_ok(
        &root,
        &["--all", "--local"],
        &[("PIP_EXTRA_ARGS", WHEELHOUSE)],
    );
    assert!(
        zips(&root) == in_docker,
        "the Docker and --local zips differ"
    );
}

#[test]
fn a_package_that_ships_only_an_sdist_with_a_c_extension_builds_in_docker_only() {
    let Some(image) = stand_in_image() else {
        return;
    };
    let (_dir, root) = project_with_wheelhouse(&[]);
    make_wheel(&root.join("wheels"), &["lsdemo_native", "1.0", "--sdist"]);
    add_requirement(&root, "lsdemo_native==1.0");
    let lambda = ["log_event", "./producers/log_event"];
    let before = snapshot(&root);
    let out = build_sh(
        &root,
        &["--local", lambda[0], lambda[1]],
        &[("PIP_EXTRA_ARGS", WHEELHOUSE)],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: no wheel of `lsdemo_native` fits"),
        "{err}"
    );
    let hint = err.lines().find(|l| l.starts_with("hint: ")).unwrap_or("");
    assert!(
        hint.contains("(without --local)"),
        "no hint to use Docker: {err}"
    );
    assert_eq!(
        snapshot(&root),
        before,
        "a refused build changed the project"
    );

    build_ok(&root, &lambda, &docker_env(&image));
    let zip = root.join("target/log_event.zip");
    let listing = python_with_zip(
        &zip,
        "import lsdemo_native, os; print(sorted(os.listdir(lsdemo_native.__path__[0])))\n\
         print(lsdemo_native.answer())",
    );
    assert!(
        listing.contains("'_native.cpython-311-x86_64-linux-gnu.so'"),
        "the compiled extension is not in the zip: {listing}"
    );
    assert!(listing.ends_with("\n42\n"), "{listing}");
}

#[test]
fn without_a_docker_daemon_the_build_stops_with_one_error_and_a_hint() {
    if tool("docker").is_none() {
        return;
    }
    let (dir, root) = project("svc", &[]);
    let nowhere = format!("unix://{}/no-docker.sock", dir.path().display());
    let before = snapshot(&root);
    for args in [&["log_event", "./producers/log_event"][..], &["--all"]] {
        let out = build_sh(&root, args, &[("DOCKER_HOST", &nowhere)]);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out),
            "error: cannot reach a Docker daemon (`docker info` failed)\n\
             hint: start Docker (and check that you may use it), or build on this machine \
             with `./build.sh --local`\n",
            "{args:?}"
        );
        assert_eq!(stdout(&out), "", "{args:?}");
    }
    assert_eq!(
        snapshot(&root),
        before,
        "a refused build changed the project"
    );
}

/// A user made for one test, removed when the test ends, in the group that may
/// use the Docker daemon.
struct TestUser {
    name: String,
    uid: u32,
}

impl TestUser {
    fn create() -> TestUser {
        let name = format!("ls-docker-{}", std::process::id());
        let made = Command::new("useradd")
            .args([
                "--no-create-home",
                "--shell",
                "/bin/sh",
                "--groups",
                "docker",
            ])
            .arg(&name)
            .output()
            .expect("useradd runs");
        assert!(made.status.success(), "useradd: {}", stderr(&made));
        let id = Command::new("id").args(["-u", &name]).output().unwrap();
        let uid = stdout(&id).trim().parse().expect("id -u prints the uid");
        TestUser { name, uid }
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).output();
    }
}

fn running_as_root() -> bool {
    let id = Command::new("id").arg("-u").output().expect("id runs");
    stdout(&id).trim() == "0"
}

#[test]
fn zips_built_in_docker_by_a_user_belong_to_that_user() {
    let Some(image) = stand_in_image() else {
        return;
    };
    if !running_as_root() {
        assert!(!in_ci(), "CI (CI=true) runs the Docker tests as root");
        eprintln!("skipping: making a test user needs root");
        return;
    }
    let user = TestUser::create();
    let (dir, root) = project_with_wheelhouse(&[]);
    let chown = Command::new("chown")
        .args(["-R", &user.name])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(chown.success());
    let home = format!("HOME={}", dir.path().display());
    let out = Command::new("runuser")
        .args(["-u", &user.name, "--", "env", &home])
        .args(docker_env(&image).map(|(k, v)| format!("{k}={v}")))
        .args(["./build.sh", "--all"])
        .current_dir(&root)
        .output()
        .expect("runuser runs");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(zips(&root).len(), 2, "log_event and log_sink");
    for entry in walkdir::WalkDir::new(&root) {
        let entry = entry.unwrap();
        let owner = entry.metadata().unwrap().uid();
        assert_eq!(
            owner,
            user.uid,
            "{} is not the user's",
            entry.path().display()
        );
    }
}
