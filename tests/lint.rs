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
    // No AWS credentials, and no Lambda: the tests must pass on a laptop.
    let out = without_aws_credentials(&mut Command::new(tool_path))
        .args(args)
        .current_dir(cwd)
        .env("PYTHONDONTWRITEBYTECODE", "1")
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

/// build.sh, deploy.sh and, with GitLab CI, tools/assume_role.sh; and the
/// deploy jobs' scripts of both CI files.
#[test]
fn the_projects_shell_scripts_are_shellcheck_clean() {
    let Some(shellcheck) = tool("shellcheck") else {
        return;
    };
    for (dir, root, ci) in variants() {
        let mut scripts = vec!["build.sh".to_string(), "deploy.sh".to_string()];
        let deploy_jobs: &[&str] = match ci {
            "gitlab" => {
                scripts.push("tools/assume_role.sh".into());
                &["deploy-staging", "deploy-prod"]
            }
            "github" => &["deploy-staging", "deploy-prod"],
            _ => &[],
        };
        for job in deploy_jobs {
            let Some(script) = ci_job_script(&root, ci_file(ci), job) else {
                return;
            };
            let path = dir.path().join(format!("{job}.sh"));
            fs::write(&path, script).unwrap();
            scripts.push(path.to_string_lossy().into_owned());
        }
        let mut args = vec!["--severity=style", "--shell=bash"];
        args.extend(scripts.iter().map(String::as_str));
        run_tool(&shellcheck, &args, &root);
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
        let schema = match ci {
            "gitlab" => "vendor.gitlab-ci",
            "github" => "vendor.github-workflows",
            _ => continue,
        };
        run_tool(&checker, &["--builtin-schema", schema, ci_file(ci)], &root);
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
        let ci_file = (ci != "none").then(|| ci_file(ci));
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

/// The CI file of a `--ci` choice other than `none`.
fn ci_file(ci: &str) -> &'static str {
    match ci {
        "gitlab" => ".gitlab-ci.yml",
        _ => ".github/workflows/ci.yml",
    }
}

/// The version of aws-sam-cli the deploy jobs run: the SAM build image's
/// release that the Dockerfile pins.
fn sam_cli_version(root: &Path) -> String {
    let docker = fs::read_to_string(root.join("Dockerfile")).unwrap();
    let tag = docker
        .split("sam/build-python")
        .nth(1)
        .and_then(|rest| rest.split(':').nth(1))
        .expect("the Dockerfile names the SAM build image");
    tag.split('-').next().unwrap().to_string()
}

/// GitLab: `deploy-staging` runs on the default branch once the build (after
/// lint and test) passed, `deploy-prod` only by hand after it; both in their
/// environment, with the build's zips, an OIDC ID token for STS and the
/// pinned SAM image, and `sam deploy` of their samconfig.toml environment
/// through tools/assume_role.sh. No AWS key anywhere. (tests/stack.rs runs
/// the job's script against a stand-in AWS.)
#[test]
fn the_gitlab_deploy_jobs_assume_a_role_by_oidc_staging_automatically_prod_by_hand() {
    let (_dir, root) = project("deploy-me", &["--ci", "gitlab", "--python", "3.12"]);
    let Some(ci) = ci_document(&root, ".gitlab-ci.yml") else {
        return;
    };
    let version = sam_cli_version(&root);
    assert_eq!(ci["stages"], serde_json::json!(["test", "build", "deploy"]));
    // The build waits for the whole test stage (lint and test): it needs
    // nothing, so the deploy jobs that need it come after both.
    assert_eq!(ci["build"]["stage"], "build");
    assert_eq!(ci["build"].get("needs"), None);
    assert_eq!(ci["lint"]["stage"], "test");
    assert_eq!(ci["test"]["stage"], "test");
    let default_branch = "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH";
    for (job, environment, when) in [
        ("deploy-staging", "staging", None),
        ("deploy-prod", "prod", Some("manual")),
    ] {
        let deploy = &ci[job];
        assert_eq!(deploy["stage"], "deploy", "{job}");
        assert_eq!(deploy["environment"]["name"], environment, "{job}");
        assert_eq!(deploy["resource_group"], environment, "{job}");
        let rules = deploy["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 1, "{job}: {rules:?}");
        assert_eq!(rules[0]["if"], default_branch, "{job}");
        assert_eq!(rules[0]["when"].as_str(), when, "{job}");
        assert_eq!(
            deploy["id_tokens"]["AWS_ID_TOKEN"]["aud"], "sts.amazonaws.com",
            "{job}"
        );
        assert_eq!(
            deploy["image"],
            format!("public.ecr.aws/sam/build-python3.12:{version}-x86_64"),
            "{job}"
        );
        let needs = deploy["needs"].as_array().unwrap();
        assert!(
            needs.contains(&serde_json::json!({"job": "build", "artifacts": true})),
            "{job}: {needs:?}"
        );
        assert_eq!(
            deploy["script"],
            serde_json::json!([format!(
                "tools/assume_role.sh sam deploy --config-env {environment} --no-progressbar"
            )]),
            "{job}"
        );
    }
    let prod_needs = ci["deploy-prod"]["needs"].as_array().unwrap();
    assert!(
        prod_needs
            .iter()
            .any(|need| need["job"] == "deploy-staging"),
        "{prod_needs:?}"
    );
    let text = fs::read_to_string(root.join(".gitlab-ci.yml")).unwrap();
    assert!(!text.contains("AWS_SECRET_ACCESS_KEY"), "{text}");
    let mode = fs::metadata(root.join("tools/assume_role.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "tools/assume_role.sh is executable");
}

/// GitHub: two deploy jobs, on the default branch only. `deploy-staging`
/// runs after lint, test and build, on a push and on a run by hand;
/// `deploy-prod` only on a run by hand, and only once `deploy-staging` of the
/// same run succeeded (it needs it, with no status function in its `if` that
/// would let it run after a failed or skipped staging), as GitLab's
/// `deploy-prod` needs `deploy-staging`. Each runs in its environment (prod's
/// reviewers approve), may only read the repository and ask for an OIDC
/// token, assumes the environment's role with configure-aws-credentials
/// pinned by commit, and runs the pinned SAM CLI's `sam deploy` for the same
/// environment; both run the same steps. No AWS key anywhere. zizmor audits
/// the rest (github_workflows_pass_zizmor).
#[test]
fn the_github_prod_deploy_runs_by_hand_only_after_staging_deployed_the_same_commit() {
    let (_dir, root) = project("deploy-me", &["--ci", "github", "--layout", "web-stack"]);
    let Some(workflow) = ci_document(&root, ".github/workflows/ci.yml") else {
        return;
    };
    let version = sam_cli_version(&root);
    let on = &workflow["on"];
    assert_eq!(on["push"]["branches"], serde_json::json!(["main"]));
    assert!(on.get("workflow_dispatch").is_some(), "{on}");
    assert_eq!(workflow["permissions"], serde_json::json!({}));

    let jobs = workflow["jobs"].as_object().unwrap();
    let deploys: Vec<&String> = jobs.keys().filter(|j| j.contains("deploy")).collect();
    assert_eq!(deploys, ["deploy-prod", "deploy-staging"], "in key order");
    let (staging, prod) = (&jobs["deploy-staging"], &jobs["deploy-prod"]);
    let default_branch = "github.ref_name == github.event.repository.default_branch";
    assert_eq!(
        staging["if"],
        format!(
            "{default_branch} \
             && (github.event_name == 'push' || github.event_name == 'workflow_dispatch')"
        )
    );
    assert_eq!(
        staging["needs"],
        serde_json::json!(["lint", "test", "build"])
    );
    // Prod: by hand only, in the run that deployed the commit to staging, and
    // only once that succeeded.
    assert_eq!(
        prod["if"],
        format!("{default_branch} && github.event_name == 'workflow_dispatch'")
    );
    assert_eq!(prod["needs"], serde_json::json!(["deploy-staging"]));
    let condition = prod["if"].as_str().unwrap();
    for status in ["always()", "failure()", "cancelled()", "success()"] {
        assert!(!condition.contains(status), "{condition}");
    }
    let mut before_prod = needed_before(jobs, "deploy-prod");
    before_prod.sort();
    assert_eq!(before_prod, ["build", "deploy-staging", "lint", "test"]);

    for (deploy, environment) in [(staging, "staging"), (prod, "prod")] {
        assert_eq!(deploy["environment"], environment);
        assert_eq!(deploy["env"]["DEPLOY_ENV"], environment);
        assert_eq!(
            deploy["concurrency"],
            serde_json::json!({"group": format!("deploy-{environment}"), "cancel-in-progress": false})
        );
        assert_eq!(
            deploy["permissions"],
            serde_json::json!({"contents": "read", "id-token": "write"})
        );
    }
    assert_eq!(prod["steps"], staging["steps"]);
    let steps = staging["steps"].as_array().unwrap();
    let position = |wanted: &dyn Fn(&serde_json::Value) -> bool| {
        steps
            .iter()
            .position(wanted)
            .unwrap_or_else(|| panic!("{steps:#?}"))
    };
    let uses = |action: &'static str| {
        move |step: &serde_json::Value| {
            step["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with(&format!("{action}@")))
        }
    };
    let runs = |command: String| move |step: &serde_json::Value| step["run"] == command;
    let checkout = position(&uses("actions/checkout"));
    assert_eq!(steps[checkout]["with"]["persist-credentials"], false);
    let zips = position(&uses("actions/download-artifact"));
    assert_eq!(steps[zips]["with"]["path"], "target");
    // A project without handlers has no zips to download, and deploys.
    assert_eq!(steps[zips]["continue-on-error"], true);
    let install = position(&runs(format!("pip install aws-sam-cli=={version}")));
    let credentials = position(&uses("aws-actions/configure-aws-credentials"));
    assert_eq!(
        steps[credentials]["with"],
        serde_json::json!({
            "role-to-assume": "${{ vars.AWS_DEPLOY_ROLE_ARN }}",
            "aws-region": "${{ vars.AWS_REGION || 'us-east-1' }}",
        })
    );
    let sam = position(&runs(
        "sam deploy --config-env \"$DEPLOY_ENV\" --no-progressbar".into(),
    ));
    assert!(checkout < zips && zips < sam && install < sam && credentials < sam);
    for step in steps {
        if let Some(action) = step["uses"].as_str() {
            let commit = action.split('@').nth(1).unwrap_or_default();
            assert!(
                commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
                "{action} is not pinned by commit"
            );
        }
    }
    let text = fs::read_to_string(root.join(".github/workflows/ci.yml")).unwrap();
    assert!(!text.contains("aws-secret-access-key"), "{text}");
    assert!(!text.contains("AWS_SECRET_ACCESS_KEY"), "{text}");
}

/// The jobs a GitHub workflow's `job` waits for, directly or through others.
fn needed_before<'a>(
    jobs: &'a serde_json::Map<String, serde_json::Value>,
    job: &str,
) -> Vec<&'a str> {
    let mut found: Vec<&str> = Vec::new();
    let mut todo = vec![job];
    while let Some(next) = todo.pop() {
        let needs = match &jobs[next]["needs"] {
            serde_json::Value::String(one) => vec![one.as_str()],
            serde_json::Value::Array(many) => many.iter().filter_map(|n| n.as_str()).collect(),
            _ => Vec::new(),
        };
        for need in needs {
            if !found.contains(&need) {
                found.push(need);
                todo.push(need);
            }
        }
    }
    found
}
