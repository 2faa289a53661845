//! The generated files pass the real tools: shellcheck, hadolint, ruff and
//! check-jsonschema, over both layouts, both CI choices and both architectures.
//! Tools come from the venv that `scripts/test.sh` makes; with `CI=true` a
//! missing tool fails the test instead of skipping it.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;

/// Projects covering every template branch, each with one more handler added.
fn variants() -> Vec<(tempfile::TempDir, std::path::PathBuf, &'static str)> {
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["--layout", "log-centric", "--ci", "gitlab"],
            "producers",
            "gitlab",
        ),
        (
            &[
                "--layout",
                "web-stack",
                "--ci",
                "github",
                "--arch",
                "arm64",
                "--python",
                "3.10",
            ],
            "handlers",
            "github",
        ),
        (
            &[
                "--layout",
                "log-centric",
                "--ci",
                "github",
                "--python",
                "3.14",
            ],
            "consumers",
            "github",
        ),
        (
            &[
                "--layout",
                "web-stack",
                "--ci",
                "gitlab",
                "--arch",
                "arm64",
                "--python",
                "3.12",
            ],
            "handlers",
            "gitlab",
        ),
    ];
    let mut made: Vec<_> = cases
        .iter()
        .map(|(args, kind, ci)| {
            let (dir, root) = project("lint-me", args);
            ok(&root, &["add-handler", kind, "extra_one"]);
            (dir, root, *ci)
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

#[test]
fn generated_python_is_ruff_clean() {
    let Some(ruff) = tool("ruff") else { return };
    for (_dir, root, _) in variants() {
        // pycodestyle, pyflakes, bugbear and isort; long lines are allowed because
        // a handler name alone may be 64 characters.
        run_tool(
            &ruff,
            &[
                "check",
                "--no-cache",
                "--isolated",
                "--select",
                "E,F,W,B,I",
                "--ignore",
                "E501",
                ".",
            ],
            &root,
        );
    }
    let support = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support");
    run_tool(&ruff, &["check", "--no-cache", "--isolated", "."], &support);
}

#[test]
fn ci_files_are_valid_against_their_published_schemas() {
    let Some(checker) = tool("check-jsonschema") else {
        return;
    };
    for (_dir, root, ci) in variants() {
        let (schema, file) = match ci {
            "gitlab" => ("vendor.gitlab-ci", ".gitlab-ci.yml"),
            _ => ("vendor.github-workflows", ".github/workflows/ci.yml"),
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
