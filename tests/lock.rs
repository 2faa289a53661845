//! The lock, run for real: `./build.sh --lock` resolves `requirements.txt`
//! with uv for the Lambda runtime into `requirements.lock` (every package
//! pinned, with hashes), plain pip installs it with `--require-hashes
//! --no-deps`, every build installs from it only and refuses a stale one, and
//! `check` names a stale one. All offline: the wheels come from a folder.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::build::*;
use common::*;

/// A project whose requirements.txt asks for `lsdemo_top`, which requires
/// `lsdemo_dep`; both wheels in the returned wheelhouse.
fn project_with_a_dependency_tree() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (dir, root) = project("svc", &[]);
    let wheels = dir.path().join("wheels");
    fs::create_dir(&wheels).unwrap();
    make_wheel(
        &wheels,
        &[
            "lsdemo_top",
            "1.0",
            "py3-none-any",
            "--requires",
            "lsdemo_dep>=1",
        ],
    );
    make_wheel(&wheels, &["lsdemo_dep", "1.0", "py3-none-any"]);
    make_wheel(&wheels, &["lsdemo_dep", "2.0", "py3-none-any"]);
    fs::write(root.join("requirements.txt"), "lsdemo_top\n").unwrap();
    (dir, root, wheels)
}

fn wheelhouse(wheels: &Path) -> String {
    format!("--no-index --find-links {}", wheels.display())
}

fn build_all(root: &Path, wheels: &Path) -> std::process::Output {
    build_sh(
        root,
        &["--all", "--local"],
        &[("PIP_EXTRA_ARGS", &wheelhouse(wheels))],
    )
}

/// The codes of `lambda-scaffold check --json`'s problems.
fn problem_codes(root: &Path) -> Vec<String> {
    let out = run(root, &["check", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("check prints JSON");
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_new_project_has_the_lock_of_its_empty_requirements_and_builds_with_no_network() {
    let (_dir, root) = project("svc", &["--python", "3.12", "--arch", "arm64"]);
    let lock = fs::read_to_string(root.join("requirements.lock")).unwrap();
    let input = lambda_scaffold::lock::LockInput::new(
        &fs::read(root.join("requirements.txt")).unwrap(),
        "3.12",
        "arm64",
    );
    assert!(lock.lines().any(|l| l == input.to_string()), "{lock}");
    assert_eq!(problem_codes(&root), Vec::<String>::new());
    let before = snapshot(&root);
    // No requirements: no resolver is needed, and the lock comes out the same.
    build_ok(&root, &["--lock"], &[]);
    assert_eq!(
        snapshot(&root),
        before,
        "--lock rewrote the new project's lock"
    );
    build_ok(&root, &["--check-lock"], &[]);
    // Nothing to install: pip is never asked, so nothing needs the network.
    build_ok(
        &root,
        &["--all", "--local"],
        &[("PIP_EXTRA_ARGS", "--no-index")],
    );
    assert!(root.join("target/log_event.zip").is_file());
}

#[test]
fn the_lock_pins_every_package_with_hashes_and_plain_pip_installs_it() {
    let (dir, root, wheels) = project_with_a_dependency_tree();
    lock_from(&root, &wheels);
    let lock = fs::read_to_string(root.join("requirements.lock")).unwrap();
    // The dependency of the dependency is pinned too, to the newest version.
    for pin in ["lsdemo-top==1.0 \\\n", "lsdemo-dep==2.0 \\\n"] {
        let at = lock
            .find(pin)
            .unwrap_or_else(|| panic!("no {pin:?} in {lock}"));
        assert!(
            lock[at + pin.len()..]
                .trim_start()
                .starts_with("--hash=sha256:"),
            "{lock}"
        );
    }
    let input = lambda_scaffold::lock::LockInput::new(b"lsdemo_top\n", "3.13", "x86_64");
    assert!(lock.lines().any(|l| l == input.to_string()), "{lock}");
    // Installable by plain pip, without resolving, as the SAM image's pip does.
    let target = dir.path().join("installed");
    let out = Command::new(python())
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args([
            "--require-hashes",
            "--no-deps",
            "--no-index",
            "--find-links",
        ])
        .arg(&wheels)
        .arg("--target")
        .arg(&target)
        .arg("-r")
        .arg(root.join("requirements.lock"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(target.join("lsdemo_dep-2.0.dist-info").is_dir());
    // The zip holds exactly the locked packages.
    let out = build_all(&root, &wheels);
    assert!(out.status.success(), "{}", stderr(&out));
    let zip = fs::read(root.join("target/log_event.zip")).unwrap();
    let names = String::from_utf8_lossy(&zip);
    assert!(
        names.contains("lsdemo_top-1.0.dist-info/") && names.contains("lsdemo_dep-2.0.dist-info/"),
        "the zip lacks a locked package"
    );
    assert_eq!(problem_codes(&root), Vec::<String>::new());
}

#[test]
fn a_stale_lock_stops_every_build_and_check_names_it_leaving_the_tree_as_it_was() {
    let (_dir, root, wheels) = project_with_a_dependency_tree();
    lock_from(&root, &wheels);
    fs::write(
        root.join("requirements.txt"),
        "lsdemo_top\nlsdemo_dep==1.0\n",
    )
    .unwrap();
    let before = snapshot(&root);
    for args in [
        &["--all", "--local"][..],
        &["--local", "log_event", "./producers/log_event"],
        &["--check-lock"],
    ] {
        let out = build_sh(&root, args, &[("PIP_EXTRA_ARGS", &wheelhouse(&wheels))]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(
            err,
            "error: `requirements.lock` is older than `requirements.txt` (it was resolved \
             from another version of it)\n\
             hint: run `./build.sh --lock` to resolve requirements.txt for Lambda again\n",
            "{args:?}"
        );
        assert_eq!(snapshot(&root), before, "{args:?} changed the tree");
    }
    assert_eq!(problem_codes(&root), ["stale-lock"]);
    // A lock resolved for another runtime is stale too.
    lock_from(&root, &wheels);
    let manifest = fs::read_to_string(root.join("lambdas.toml")).unwrap();
    fs::write(
        root.join("lambdas.toml"),
        manifest.replace("arch = \"x86_64\"", "arch = \"arm64\""),
    )
    .unwrap();
    let out = build_all(&root, &wheels);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out)
            .contains("is resolved for python3.13 x86_64, not lambdas.toml's python3.13 arm64"),
        "{}",
        stderr(&out)
    );
    assert!(problem_codes(&root).contains(&"stale-lock".to_string()));
    // A missing lock is stale.
    fs::remove_file(root.join("requirements.lock")).unwrap();
    assert!(problem_codes(&root).contains(&"stale-lock".to_string()));
}

#[test]
fn a_tampered_hash_in_the_lock_is_refused_by_pip_and_no_zip_is_written() {
    let (_dir, root, wheels) = project_with_a_dependency_tree();
    lock_from(&root, &wheels);
    let lock = fs::read_to_string(root.join("requirements.lock")).unwrap();
    let at = lock.find("--hash=sha256:").unwrap() + "--hash=sha256:".len();
    let flipped = if &lock[at..=at] == "0" { "1" } else { "0" };
    let tampered = format!("{}{flipped}{}", &lock[..at], &lock[at + 1..]);
    fs::write(root.join("requirements.lock"), tampered).unwrap();
    let before = snapshot(&root);
    let out = build_all(&root, &wheels);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("THESE PACKAGES DO NOT MATCH THE HASHES"),
        "{err}"
    );
    assert!(
        err.contains("error: pip could not install `requirements.lock`"),
        "{err}"
    );
    assert_eq!(snapshot(&root), before);
}

#[test]
fn without_uv_the_lock_is_refused_with_how_to_get_it() {
    let (dir, root, _wheels) = project_with_a_dependency_tree();
    // A PATH with what build.sh needs, and no uv.
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    for (name, path) in [
        ("python3", python()),
        ("bash", tool("bash").unwrap()),
        ("dirname", tool("dirname").unwrap()),
    ] {
        std::os::unix::fs::symlink(path, bin.join(name)).unwrap();
    }
    let before = snapshot(&root);
    let out = build_sh(&root, &["--lock"], &[("PATH", bin.to_str().unwrap())]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with(
            "error: `uv` is not installed: it resolves the lock for Lambda's platform\n"
        ) && err.contains("hint: ")
            && err.contains("pip install -r requirements-dev.txt"),
        "{err}"
    );
    assert_eq!(snapshot(&root), before);
}

#[test]
fn the_dev_requirements_pin_uv_and_ci_checks_the_lock_before_the_tests() {
    for ci in ["github", "gitlab"] {
        let (_dir, root) = project("svc", &["--ci", ci]);
        let dev = fs::read_to_string(root.join("requirements-dev.txt")).unwrap();
        assert!(dev.lines().any(|l| l.starts_with("uv==")), "{dev}");
        let file = match ci {
            "github" => ".github/workflows/ci.yml",
            _ => ".gitlab-ci.yml",
        };
        let config = fs::read_to_string(root.join(file)).unwrap();
        let check = config
            .find("./build.sh --check-lock")
            .expect("CI checks the lock");
        let install = config
            .find("pip install --require-hashes --no-deps -r requirements.lock")
            .expect("CI installs from the lock");
        let tests = config.find("pytest -v").expect("CI runs the tests");
        assert!(check < install && install < tests, "{file}");
    }
}

/// The top folders of a zip that are packages' `.dist-info` folders.
fn distributions(zip: &Path) -> Vec<String> {
    let mut found: Vec<String> = zip_names(zip)
        .iter()
        .filter_map(|name| name.split_once(".dist-info/").map(|(d, _)| d.to_string()))
        .collect();
    found.dedup();
    found
}

/// Sets the `requirements` line of the `log_event` entry (`None`: no line).
fn list_packages(root: &Path, line: Option<&str>) {
    let path = root.join("lambdas.toml");
    let text = fs::read_to_string(&path).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with("requirements"))
        .map(|l| format!("{l}\n"))
        .collect();
    let entry = "name = \"log_event\"\n";
    assert!(kept.contains(entry), "{kept}");
    let with = match line {
        Some(line) => kept.replace(entry, &format!("{entry}{line}\n")),
        None => kept,
    };
    fs::write(path, with).unwrap();
}

/// A project whose lock holds `lsdemo_top` (which requires `lsdemo_dep[fast]`,
/// whose extra brings `lsdemo_fast`, and `lsdemo_new` on python 3.12 and
/// newer only: the runtime is 3.13, the tests' python may be older) and
/// `lsdemo_other`.
fn project_with_two_trees() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (dir, root, wheels) = project_with_a_dependency_tree();
    make_wheel(
        &wheels,
        &[
            "lsdemo_top",
            "1.1",
            "py3-none-any",
            "--requires",
            "lsdemo_dep[fast]>=1",
            "--requires",
            "lsdemo_new; python_version >= \"3.12\"",
            "--requires",
            "lsdemo_old; python_version < \"3.12\"",
        ],
    );
    make_wheel(
        &wheels,
        &[
            "lsdemo_dep",
            "2.1",
            "py3-none-any",
            "--requires",
            "lsdemo_fast; extra == \"fast\"",
        ],
    );
    make_wheel(&wheels, &["lsdemo_fast", "1.0", "py3-none-any"]);
    make_wheel(&wheels, &["lsdemo_new", "1.0", "py3-none-any"]);
    make_wheel(&wheels, &["lsdemo_other", "1.0", "py3-none-any"]);
    fs::write(root.join("requirements.txt"), "lsdemo_top\nlsdemo_other\n").unwrap();
    lock_from(&root, &wheels);
    (dir, root, wheels)
}

#[test]
fn a_handler_listing_packages_gets_only_those_and_their_locked_dependencies() {
    let (_dir, root, wheels) = project_with_two_trees();
    list_packages(&root, Some("requirements = [\"lsdemo_top\"]  # only this"));
    assert!(build_all(&root, &wheels).status.success());
    assert_eq!(
        distributions(&root.join("target/log_event.zip")),
        [
            "lsdemo_dep-2.1",
            "lsdemo_fast-1.0",
            "lsdemo_new-1.0",
            "lsdemo_top-1.1"
        ]
    );
    assert_eq!(
        distributions(&root.join("target/log_sink.zip")),
        [
            "lsdemo_dep-2.1",
            "lsdemo_fast-1.0",
            "lsdemo_new-1.0",
            "lsdemo_other-1.0",
            "lsdemo_top-1.1"
        ]
    );
    // The packages' own files come along, and nothing of the others.
    let names = zip_names(&root.join("target/log_event.zip"));
    assert!(
        names.contains(&"lsdemo_top/__init__.py".to_string()),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.starts_with("lsdemo_other")),
        "{names:?}"
    );
    assert_eq!(problem_codes(&root), Vec::<String>::new());

    // Changing the list rebuilds exactly that zip.
    list_packages(&root, Some("requirements = ['lsdemo_other']"));
    let out = build_ok(
        &root,
        &["--all", "--local"],
        &[("PIP_EXTRA_ARGS", &wheelhouse(&wheels))],
    );
    let unchanged: Vec<&str> = out.lines().filter(|l| l.ends_with("(unchanged)")).collect();
    assert_eq!(unchanged.len(), 1, "{out}");
    assert!(unchanged[0].starts_with("target/log_sink.zip"), "{out}");
    assert_eq!(
        distributions(&root.join("target/log_event.zip")),
        ["lsdemo_other-1.0"]
    );
    // The one-Lambda build reads the list from lambdas.toml too.
    fs::remove_file(root.join("target/log_event.zip")).unwrap();
    build_ok(
        &root,
        &["--local", "log_event", "./producers/log_event"],
        &[("PIP_EXTRA_ARGS", &wheelhouse(&wheels))],
    );
    assert_eq!(
        distributions(&root.join("target/log_event.zip")),
        ["lsdemo_other-1.0"]
    );
    // An empty list: no dependencies at all.
    list_packages(&root, Some("requirements = []"));
    assert!(build_all(&root, &wheels).status.success());
    assert_eq!(
        distributions(&root.join("target/log_event.zip")),
        Vec::<String>::new()
    );
    // invoke --zip knows the list: the zip is fresh, and its handler runs
    // (and fails as on Lambda, its stream not being configured).
    let out = run(&root, &["invoke", "producers", "log_event", "--zip"]);
    assert!(
        stderr(&out).contains("environment variable STREAM_NAME is not set"),
        "{}",
        stderr(&out)
    );
}

/// Lambda moves a runtime to new patch releases by itself, so the build
/// cannot know the `python_full_version` its zip will meet: a requirement
/// whose marker on it (or on `implementation_version`) gives one answer on
/// every patch release of the runtime's Python (3.13) is followed or not, and
/// one whose answer depends on the patch release is refused, naming it, with
/// the tree as it was (the build once took the runtime for 3.13.0 and
/// shipped the backport without a word).
#[test]
fn a_requirement_whose_marker_depends_on_the_runtimes_patch_release_is_refused() {
    let (_dir, root, wheels) = project_with_a_dependency_tree();
    // Each refused requirement: true on 3.13.0 and 3.13.1, false from
    // 3.13.2; false on 3.13.0 only.
    let refused = [
        (
            "lsdemo_patchy",
            "lsdemo_backport; python_full_version < \"3.13.2\"",
        ),
        (
            "lsdemo_later",
            "lsdemo_backport; python_full_version > \"3.13\"",
        ),
    ];
    let steady = [
        "lsdemo_fast; python_full_version >= \"3.8.1\"",
        "lsdemo_old; python_full_version < \"3.9.7\"",
        "lsdemo_new; implementation_version >= \"3.13\"",
    ];
    let wheel = |name: &str, requires: &[&str]| {
        let mut args = vec![name, "1.0", "py3-none-any"];
        for requirement in requires {
            args.extend(["--requires", requirement]);
        }
        make_wheel(&wheels, &args);
    };
    for (name, requirement) in refused {
        wheel(name, &[requirement]);
    }
    wheel("lsdemo_steady", &steady);
    for name in ["lsdemo_backport", "lsdemo_fast", "lsdemo_new"] {
        wheel(name, &[]);
    }
    fs::write(
        root.join("requirements.txt"),
        "lsdemo_patchy\nlsdemo_later\nlsdemo_steady\n",
    )
    .unwrap();
    lock_from(&root, &wheels);
    list_packages(&root, Some("requirements = [\"lsdemo_steady\"]"));
    assert!(build_all(&root, &wheels).status.success());
    assert_eq!(
        distributions(&root.join("target/log_event.zip")),
        ["lsdemo_fast-1.0", "lsdemo_new-1.0", "lsdemo_steady-1.0"]
    );

    for (listed, requirement) in refused {
        list_packages(&root, Some(&format!("requirements = [\"{listed}\"]")));
        let before = snapshot(&root);
        let out = build_all(&root, &wheels);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        let distribution = listed.replace('_', "-");
        assert!(
            err.contains(&format!(
                "error: `{distribution}` requires `{requirement}` on some patch releases \
                 of python3.13 and not on others"
            )),
            "{err}"
        );
        assert!(err.contains("\nhint: "), "{err}");
        assert_eq!(
            snapshot(&root),
            before,
            "{listed}: the build changed the tree"
        );
    }
}

#[test]
fn a_listed_package_the_lock_lacks_or_a_hostile_list_is_refused_by_build_and_check() {
    let (_dir, root, wheels) = project_with_two_trees();
    assert!(build_all(&root, &wheels).status.success());
    let build = |root: &Path| {
        build_sh(
            root,
            &["--all", "--local"],
            &[("PIP_EXTRA_ARGS", &wheelhouse(&wheels))],
        )
    };
    for (line, build_error, check_code) in [
        (
            "requirements = [\"lsdemo_top\", \"lsdemo_absent\"]",
            "error: `lsdemo_absent` in the `requirements` of `log_event` is not in requirements.lock",
            "unknown-package",
        ),
        (
            "requirements = [\"lsdemo_top\", \"LSDemo.Top\"]",
            "error: `LSDemo.Top` is listed twice in the `requirements` of `log_event`",
            "bad-entry",
        ),
        (
            "requirements = [\"$(touch pwned)\"]",
            "error: `lambdas.toml` line 1",
            "bad-entry",
        ),
        (
            "requirements = \"lsdemo_top\"",
            "`requirements` is not a one-line array of package names",
            "bad-entry",
        ),
        (
            "requirements = [\"lsdemo_top\"]\nrequirements = [\"lsdemo_top\"]",
            "`requirements` is given twice",
            "",
        ),
    ] {
        list_packages(&root, Some(line));
        let before = snapshot(&root);
        let out = build(&root);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{line}: {err}");
        assert!(err.contains(build_error), "{line}: {err}");
        assert!(err.contains("\nhint: "), "{line}: {err}");
        assert!(!err.contains("+ "), "{line}: pip ran: {err}");
        assert_eq!(
            snapshot(&root),
            before,
            "{line}: the build changed the tree"
        );
        assert!(!root.join("pwned").exists());
        if check_code.is_empty() {
            // Not TOML: check refuses to read the manifest at all.
            let out = run(&root, &["check"]);
            assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
            assert!(
                stderr(&out).contains("is not valid TOML"),
                "{}",
                stderr(&out)
            );
        } else {
            // A bad entry names no handler, so its folder reads as unlisted too.
            let codes = problem_codes(&root);
            assert_eq!(codes[0], check_code, "{line}: {codes:?}");
        }
        assert_eq!(snapshot(&root), before, "{line}: check changed the tree");
    }
    // TOML forms of an entry that build.sh's line reader refuses are named by
    // check, at the line build.sh names, and not passed as healthy.
    list_packages(&root, None);
    let manifest = fs::read_to_string(root.join("lambdas.toml")).unwrap();
    let entry = "kind = \"producers\"\nname = \"log_event\"\n";
    let listed = "requirements = [\"lsdemo_top\"]";
    for (written, key, fixed) in [
        (
            "kind = \"producers\"\nname = \"log_event\"\nrequirements = [\n  \"lsdemo_top\",\n]\n",
            "requirements",
            Some(listed),
        ),
        (
            "kind = \"producers\"\nname = \"log_event\"\nrequirements = [\"lsdemo\\u005ftop\"]\n",
            "requirements",
            Some(listed),
        ),
        (
            "kind = \"\"\"producers\"\"\"\nname = \"log_event\"\n",
            "kind",
            Some("kind = \"producers\""),
        ),
        // A comment inside the array would be lost: left to a person.
        (
            "kind = \"producers\"\nname = \"log_event\"\nrequirements = [\n  \"lsdemo_top\", # why\n]\n",
            "requirements",
            None,
        ),
    ] {
        let text = manifest.replacen(entry, written, 1);
        assert_ne!(text, manifest);
        fs::write(root.join("lambdas.toml"), &text).unwrap();
        let line = 1 + text
            .lines()
            .position(|l| {
                l.starts_with(key) && l.contains(['[', '"']) && !l.ends_with("\"log_event\"")
            })
            .unwrap();
        let out = build(&root);
        assert_eq!(out.status.code(), Some(1), "{written}");
        let err = stderr(&out);
        assert!(
            err.contains(&format!("error: `lambdas.toml` line {line}: ")),
            "{written}: {err}"
        );
        assert_eq!(problem_codes(&root), ["not-plain-entry"], "{written}");
        let out = run(&root, &["check"]);
        assert_eq!(out.status.code(), Some(1), "{written}");
        assert!(
            stdout(&out).contains(&format!(
                "lambdas.toml: line {line}: `{key}` is not written in the plain form build.sh reads"
            )),
            "{written}: {}",
            stdout(&out)
        );
        if check_fix(&root, fixed.is_some(), written).is_none() {
            continue;
        }
        let plain = fixed.unwrap_or_default();
        let text = fs::read_to_string(root.join("lambdas.toml")).unwrap();
        assert!(text.lines().any(|l| l == plain), "{written}: {text}");
        ok(&root, &["check"]);
        assert!(build(&root).status.success(), "{written}: {text}");
    }
    fs::write(root.join("lambdas.toml"), &manifest).unwrap();
    ok(&root, &["check"]);
    assert!(build(&root).status.success());
    // In layer mode a list contradicts the one shared layer.
    list_packages(&root, Some("requirements = [\"lsdemo_top\"]"));
    add_setting(&root, "dependencies = \"layer\"");
    let before = snapshot(&root);
    let out = build(&root);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "error: handler `log_event` lists `requirements` in lambdas.toml, but with \
             `dependencies = \"layer\"` every function gets the one layer"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(&root), before);
    // The template, made in bundle mode, declares no layer yet either.
    assert_eq!(problem_codes(&root), ["packages-in-layer", "missing-layer"]);
}
