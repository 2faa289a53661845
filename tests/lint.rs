//! The generated files pass the real tools: shellcheck, hadolint, the Python
//! tools a team runs (unittest, pytest, mypy, ruff check and format),
//! check-jsonschema and zizmor, over both layouts, each CI choice, both
//! architectures and every Python version, covered pairwise.
//! Tools come from the venv that `scripts/test.sh` makes; with `CI=true` a
//! missing tool fails the test instead of skipping it.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::*;

/// The longest handler name `add-handler` accepts: lines that name it must
/// still pass ruff's format check and lint.
const LONGEST_NAME: &str = "a_handler_name_of_sixty_four_characters_which_is_the_longest_one";

/// Projects covering every template branch pairwise (both layouts, each CI,
/// both architectures, every Python version), each with one more handler of
/// every kind of its layout, one with the longest name and handlers of a third
/// of the event sources.
fn variants() -> Vec<(tempfile::TempDir, std::path::PathBuf, &'static str)> {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("log-centric", "gitlab", "x86_64", "3.13"),
        ("web-stack", "github", "arm64", "3.10"),
        ("log-centric", "github", "x86_64", "3.14"),
        ("web-stack", "gitlab", "arm64", "3.12"),
        ("log-centric", "none", "arm64", "3.11"),
        ("web-stack", "none", "x86_64", "3.11"),
    ];
    assert_eq!(LONGEST_NAME.len(), 64);
    let mut made: Vec<_> = cases
        .iter()
        .enumerate()
        .map(|(i, &(layout, ci, arch, python))| {
            let args = [
                "--layout", layout, "--ci", ci, "--arch", arch, "--python", python,
            ];
            let (dir, root) = project("lint-me", &args);
            let kinds: &[&str] = match layout {
                "web-stack" => &["handlers"],
                _ => &["producers", "consumers"],
            };
            for kind in kinds {
                let name = format!("extra_{}", kind.trim_end_matches('s'));
                ok(&root, &["add-handler", kind, &name]);
            }
            // Each kind of the log-centric layout gets the longest name once.
            let long_kind = kinds[(i / 2) % kinds.len()];
            ok(&root, &["add-handler", long_kind, LONGEST_NAME]);
            // Every event source's stub, in two variants each (kinds alternating).
            for (j, source) in EVENT_SOURCES.iter().enumerate() {
                if j % 3 == i % 3 {
                    let kind = kinds[j % kinds.len()];
                    let name = format!("on_{}", source.replace('-', "_"));
                    ok(&root, &["add-handler", kind, &name, "--event", source]);
                }
            }
            (dir, root, ci)
        })
        .collect();
    // Projects whose Python and architecture were changed in lambdas.toml
    // afterwards, the other files rewritten by `check --fix`.
    for ci in ["github", "gitlab"] {
        let (dir, root) = project("lint-me", &["--ci", ci, "--python", "3.10"]);
        let manifest = root.join("lambdas.toml");
        let text = fs::read_to_string(&manifest).unwrap();
        let changed = text
            .replace("python = \"3.10\"", "python = \"3.14\"")
            .replace("arch = \"x86_64\"", "arch = \"arm64\"");
        assert_ne!(text, changed);
        fs::write(&manifest, changed).unwrap();
        ok(&root, &["check", "--fix"]);
        ok(&root, &["check"]);
        made.push((dir, root, ci));
    }
    made
}

fn run_tool(tool_path: &Path, args: &[&str], cwd: &Path) {
    let out = Command::new(tool_path)
        .args(args)
        .current_dir(cwd)
        // No AWS credentials, and no Lambda: the tests must pass on a laptop.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_LAMBDA_FUNCTION_NAME")
        .env_remove("STREAM_NAME")
        .output()
        .expect("tool runs");
    assert!(
        out.status.success(),
        "{} {args:?} failed in {}:\n{}{}",
        tool_path.display(),
        cwd.display(),
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn build_sh_and_deploy_sh_are_shellcheck_clean() {
    let Some(shellcheck) = tool("shellcheck") else {
        return;
    };
    for (_dir, root, _) in variants() {
        run_tool(
            &shellcheck,
            &["--severity=style", "build.sh", "deploy.sh"],
            &root,
        );
    }
}

#[test]
fn dockerfile_is_hadolint_clean() {
    let Some(hadolint) = tool("hadolint") else {
        return;
    };
    for (_dir, root, _) in variants() {
        run_tool(
            &hadolint,
            &["--failure-threshold", "warning", "Dockerfile"],
            &root,
        );
    }
}

/// The Python tools a team runs, each with no option but what keeps it from
/// writing caches, pass in every variant: unittest, pytest, mypy, ruff check
/// and ruff format, as configured by the generated pyproject.toml. The tools'
/// Python has no boto3, so the tests prove they need none.
#[test]
fn python_tools_pass_with_no_set_up_in_every_variant() {
    let tools = ["python3", "pytest", "mypy", "ruff"].map(tool);
    let [Some(python), Some(pytest), Some(mypy), Some(ruff)] = tools else {
        return;
    };
    let no_boto3 = Command::new(&python)
        .args(["-c", "import boto3"])
        .output()
        .expect("python3 runs");
    assert!(
        !no_boto3.status.success(),
        "{} has boto3: the tests would not prove they run without it",
        python.display()
    );
    for (_dir, root, _) in variants() {
        run_tool(&python, &["-m", "unittest", "-q"], &root);
        run_tool(&pytest, &["-q", "-p", "no:cacheprovider"], &root);
        run_tool(&mypy, &["--cache-dir=/dev/null", "."], &root);
        run_tool(&ruff, &["check", "--no-cache"], &root);
        run_tool(&ruff, &["format", "--check", "--no-cache"], &root);
    }
    let support = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support");
    run_tool(&ruff, &["check", "--no-cache", "--isolated", "."], &support);
}

/// requirements-dev.txt pins the Python tools at the versions these tests run.
#[test]
fn the_projects_dev_tools_are_pinned_at_the_versions_tested_here() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tested = fs::read_to_string(root.join("scripts/test.sh")).expect("scripts/test.sh");
    let dev = fs::read_to_string(root.join("templates/project/requirements-dev.txt"))
        .expect("requirements-dev.txt");
    for package in ["pytest", "mypy", "ruff"] {
        let prefix = format!("{package}==");
        let pin = dev
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("requirements-dev.txt does not pin {package}"));
        assert!(
            tested.lines().any(|l| l.trim() == pin),
            "scripts/test.sh does not test with {pin}"
        );
    }
    assert!(dev.lines().any(|l| l.starts_with("boto3==")), "{dev}");
}

#[test]
fn ci_files_are_valid_against_their_published_schemas() {
    let Some(checker) = tool("check-jsonschema") else {
        return;
    };
    for (_dir, root, ci) in variants() {
        let (schema, file) = match ci {
            "gitlab" => ("vendor.gitlab-ci", ".gitlab-ci.yml"),
            "github" => ("vendor.github-workflows", ".github/workflows/ci.yml"),
            _ => continue,
        };
        run_tool(&checker, &["--builtin-schema", schema, file], &root);
    }
}

/// GitHub workflows pass zizmor's security audits, pedantic ones included, run
/// offline: actions pinned by commit, no persisted credentials, least
/// permissions.
#[test]
fn github_workflows_pass_zizmor() {
    let Some(zizmor) = tool("zizmor") else { return };
    for (_dir, root, ci) in variants() {
        if ci == "github" {
            run_tool(
                &zizmor,
                &["--offline", "--pedantic", ".github/workflows/ci.yml"],
                &root,
            );
        }
    }
}

/// CI images and runners are pinned by version: a new `latest` never changes
/// a build unannounced.
#[test]
fn ci_and_build_files_pin_every_image_by_version() {
    for (_dir, root, ci) in variants() {
        let ci_file = match ci {
            "gitlab" => Some(".gitlab-ci.yml"),
            "github" => Some(".github/workflows/ci.yml"),
            _ => None,
        };
        for file in ["Dockerfile", "build.sh"].into_iter().chain(ci_file) {
            let text = fs::read_to_string(root.join(file)).unwrap();
            assert!(
                !text.contains("latest"),
                "{file} names a latest image:\n{text}"
            );
        }
    }
}

#[test]
fn generated_text_files_use_lf_endings_and_end_with_a_newline() {
    for (_dir, root, _) in variants() {
        for (path, (kind, bytes, _)) in snapshot(&root) {
            if kind != "file" || bytes.is_empty() {
                continue;
            }
            assert!(
                !bytes.contains(&b'\r'),
                "{} has CR characters",
                path.display()
            );
            assert_eq!(
                bytes.last(),
                Some(&b'\n'),
                "{} does not end with a newline",
                path.display()
            );
            let text = String::from_utf8(bytes).expect("utf-8");
            // GitHub's own `${{ expr }}` syntax is expected in workflows.
            let text = text.replace("${{", "");
            assert!(
                !text.contains("{{") && !text.contains("{%"),
                "{} has template syntax left",
                path.display()
            );
        }
        assert!(fs::metadata(root.join("build.sh")).is_ok());
    }
}

/// A stand-in for the AWS CLI: `get-function` fails for the functions named in
/// `$MISSING`, `update-function-code` for those in `$BROKEN`; every call is
/// logged to `$AWS_CALLS`.
const FAKE_AWS: &str = r#"#!/bin/sh
while [ "$#" -gt 0 ]; do
    case "$1" in
        get-function | update-function-code) call="$1" ;;
        --function-name) shift; function="$1" ;;
    esac
    shift
done
echo "$call $function" >>"$AWS_CALLS"
case "$call" in
    get-function) fail="$MISSING" ;;
    *) fail="$BROKEN" ;;
esac
for name in $fail; do
    if [ "$name" = "$function" ]; then
        echo "An error occurred (ResourceNotFoundException) for $function" >&2
        exit 254
    fi
done
echo Successful
"#;

/// The deploy job of each CI file, run with a stand-in AWS CLI: it checks that
/// every function exists before updating any, and a failed update names the
/// functions already updated. Its script is shellcheck-clean too.
#[test]
fn the_deploy_jobs_check_every_function_first_and_name_what_was_updated() {
    let (Some(python), Some(shellcheck)) = (tool("python3"), tool("shellcheck")) else {
        return;
    };
    let extract = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/ci_job_script.py");
    for (ci, file) in [
        ("gitlab", ".gitlab-ci.yml"),
        ("github", ".github/workflows/ci.yml"),
    ] {
        let (dir, root) = project("deploy-me", &["--ci", ci]);
        let out = Command::new(&python)
            .arg(&extract)
            .args([file, "deploy"])
            .current_dir(&root)
            .output()
            .expect("python3 runs");
        assert!(out.status.success(), "{}", stderr(&out));
        fs::write(dir.path().join("deploy.sh"), &out.stdout).unwrap();
        run_tool(
            &shellcheck,
            &[
                "--shell=bash",
                dir.path().join("deploy.sh").to_str().unwrap(),
            ],
            &root,
        );
        let bin = dir.path().join("bin");
        fs::create_dir(&bin).unwrap();
        fs::write(bin.join("aws"), FAKE_AWS).unwrap();
        fs::set_permissions(bin.join("aws"), fs::Permissions::from_mode(0o755)).unwrap();
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
        let calls = dir.path().join("calls.log");
        let deploy = |missing: &str, broken: &str| {
            let _ = fs::remove_file(&calls);
            let out = Command::new("bash")
                .arg(dir.path().join("deploy.sh"))
                .current_dir(&root)
                .env("PATH", &path)
                .env("FUNCTION_PREFIX", "dev-")
                .env("AWS_CALLS", &calls)
                .env("MISSING", missing)
                .env("BROKEN", broken)
                .output()
                .expect("bash runs");
            let log = fs::read_to_string(&calls).unwrap_or_default();
            (out.status.success(), stdout(&out), log)
        };

        let (ok, said, log) = deploy("", "");
        assert!(ok, "{ci}: {said}");
        assert!(
            said.contains("updated: dev-log_event dev-log_sink"),
            "{ci}: {said}"
        );
        assert!(
            log.contains("update-function-code dev-log_sink"),
            "{ci}: {log}"
        );

        let (ok, said, log) = deploy("dev-log_sink", "");
        assert!(!ok, "{ci}: a missing function stops the deploy");
        assert!(
            said.contains("do not exist (or cannot be read): dev-log_sink; nothing was updated"),
            "{ci}: {said}"
        );
        assert!(!log.contains("update-function-code"), "{ci}: {log}");

        let (ok, said, _) = deploy("", "dev-log_sink");
        assert!(!ok, "{ci}: a failed update stops the deploy");
        assert!(
            said.contains("updating dev-log_sink failed; updated before it: dev-log_event"),
            "{ci}: {said}"
        );
    }
}
