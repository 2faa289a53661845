//! The generated files pass the real tools: shellcheck, hadolint, the Python
//! tools a team runs (unittest, pytest, mypy, ruff check and format) and
//! check-jsonschema, over both layouts, each CI choice, both architectures and
//! every Python version, covered pairwise.
//! Tools come from the venv that `scripts/test.sh` makes; with `CI=true` a
//! missing tool fails the test instead of skipping it.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;

/// The longest handler name `add-handler` accepts: lines that name it must
/// still pass ruff's format check and lint.
const LONGEST_NAME: &str = "a_handler_name_of_sixty_four_characters_which_is_the_longest_one";

/// Projects covering every template branch pairwise (both layouts, each CI,
/// both architectures, every Python version), each with one more handler of
/// every kind of its layout and one with the longest name.
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
fn build_sh_is_shellcheck_clean() {
    let Some(shellcheck) = tool("shellcheck") else {
        return;
    };
    for (_dir, root, _) in variants() {
        run_tool(&shellcheck, &["--severity=style", "build.sh"], &root);
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
