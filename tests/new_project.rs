//! `new-project`, end to end: the generated tree, its tests passing, and every refusal.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use common::*;

fn files_of(root: &std::path::Path) -> Vec<String> {
    snapshot(root)
        .into_iter()
        .filter(|(_, (kind, _, _))| kind == "file")
        .map(|(p, _)| p.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn log_centric_project_has_the_contract_tree_and_its_tests_pass() {
    let (_dir, root) = project("demo", &[]);
    let files = files_of(&root);
    for expected in [
        ".gitignore",
        ".gitlab-ci.yml",
        "Dockerfile",
        "README.md",
        "__init__.py",
        "build.sh",
        "lambdas.toml",
        "requirements.txt",
        "requirements.lock",
        "tools/requirements_lock.py",
        "tools/deterministic_zip.py",
        "producers/__init__.py",
        "producers/log_event/__init__.py",
        "producers/log_event/producers.py",
        "consumers/__init__.py",
        "consumers/log_sink/__init__.py",
        "consumers/log_sink/consumers.py",
        "utils/__init__.py",
        "test/__init__.py",
        "test/fixtures/kinesis_event.json",
        "test/producers/__init__.py",
        "test/producers/log_event/__init__.py",
        "test/producers/log_event/test_producers.py",
        "test/consumers/__init__.py",
        "test/consumers/log_sink/__init__.py",
        "test/consumers/log_sink/test_consumers.py",
    ] {
        assert!(
            files.contains(&expected.to_string()),
            "missing {expected} in {files:#?}"
        );
    }
    assert!(
        !files
            .iter()
            .any(|f| f.starts_with("handlers/") || f.starts_with(".github/")),
        "{files:#?}"
    );
    let mode = fs::metadata(root.join("build.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "build.sh is executable");
    assert!(
        fs::read_to_string(root.join(".gitignore"))
            .unwrap()
            .lines()
            .any(|l| l == "target/")
    );
    let producer = fs::read_to_string(root.join("producers/log_event/producers.py")).unwrap();
    assert!(producer.contains("def log_event(\n    event: dict[str, Any],\n"));
    assert!(producer.contains("def to_record(event: Mapping[str, Any]) -> dict[str, str]:"));
    assert_eq!(python_unittest(&root), log_centric_example_tests());
}

#[test]
fn web_stack_project_has_handlers_and_its_tests_pass() {
    let (_dir, root) = project("site", &["--layout", "web-stack", "--ci", "github"]);
    let files = files_of(&root);
    for expected in [
        ".github/workflows/ci.yml",
        "handlers/__init__.py",
        "handlers/index/__init__.py",
        "handlers/index/handlers.py",
        "test/handlers/index/test_handlers.py",
        "test/fixtures/http_api_event.json",
    ] {
        assert!(
            files.contains(&expected.to_string()),
            "missing {expected} in {files:#?}"
        );
    }
    assert!(
        !files
            .iter()
            .any(|f| f.starts_with("producers/") || f == ".gitlab-ci.yml"),
        "{files:#?}"
    );
    let manifest = fs::read_to_string(root.join("lambdas.toml")).unwrap();
    assert!(manifest.contains("layout = \"web-stack\""), "{manifest}");
    assert!(manifest.contains("ci = \"github\""), "{manifest}");
    assert_eq!(
        python_unittest(&root),
        WEB_STACK_PROJECT_TESTS + handler_tests("handlers")
    );
}

#[test]
fn bare_projects_have_no_handlers_and_their_tests_pass() {
    for layout in ["log-centric", "web-stack"] {
        let (_dir, root) = project("bare", &["--layout", layout, "--bare", "--ci", "none"]);
        let files = files_of(&root);
        assert!(
            !files
                .iter()
                .any(|f| f.ends_with("producers.py") || f.ends_with("handlers.py")),
            "{files:#?}"
        );
        assert!(
            !files.iter().any(|f| f.contains("ci")),
            "--ci none writes no CI file: {files:#?}"
        );
        let first_kind = if layout == "web-stack" {
            "handlers"
        } else {
            "producers"
        };
        assert!(
            files.contains(&format!("{first_kind}/__init__.py")),
            "{files:#?}"
        );
        assert!(
            files.contains(&format!("test/{first_kind}/__init__.py")),
            "{files:#?}"
        );
        assert!(
            !fs::read_to_string(root.join("lambdas.toml"))
                .unwrap()
                .contains("\n[[handlers]]")
        );
        assert_eq!(python_unittest(&root), project_tests(layout), "{layout}");
    }
}

#[test]
fn settings_are_recorded_in_the_manifest_and_build_files() {
    let (_dir, root) = project("arm", &["--python", "3.11", "--arch", "arm64"]);
    let manifest = fs::read_to_string(root.join("lambdas.toml")).unwrap();
    assert!(
        manifest.contains("python = \"3.11\"") && manifest.contains("arch = \"arm64\""),
        "{manifest}"
    );
    // build.sh reads them from the manifest; the Dockerfile's default image
    // is a copy that `check` keeps in step.
    let docker = fs::read_to_string(root.join("Dockerfile")).unwrap();
    assert!(
        docker.contains("sam/build-python3.11:1.170.0-arm64"),
        "{docker}"
    );
}

#[test]
fn without_a_layout_and_a_terminal_the_default_is_used_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let out = scaffold(dir.path())
        .args(["new-project", "demo"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("using the default layout `log-centric`"),
        "{}",
        stdout(&out)
    );
    assert!(
        dir.path()
            .join("demo/producers/log_event/producers.py")
            .is_file()
    );
}

#[test]
fn output_dir_places_the_project_and_is_created_when_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(
        dir.path(),
        &[
            "new-project",
            "svc",
            "--no-input",
            "--output-dir",
            "nested/place",
        ],
    );
    assert!(dir.path().join("nested/place/svc/lambdas.toml").is_file());
    assert!(
        stdout(&out).contains("nested/place/svc/lambdas.toml"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn an_existing_empty_folder_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("demo")).unwrap();
    ok(dir.path(), &["new-project", "demo", "--no-input"]);
    assert!(dir.path().join("demo/lambdas.toml").is_file());
}

#[test]
fn dry_run_lists_the_files_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let before = snapshot(dir.path());
    let out = ok(
        dir.path(),
        &["new-project", "demo", "--no-input", "--dry-run"],
    );
    assert_eq!(snapshot(dir.path()), before, "dry run wrote something");
    let text = stdout(&out);
    assert!(
        text.contains("would create  demo/producers/log_event/producers.py"),
        "{text}"
    );
    assert!(text.contains("would create  demo/build.sh"), "{text}");
    assert!(text.contains("nothing was written"), "{text}");
}

#[test]
fn no_staging_folder_is_left_behind() {
    let (dir, _root) = project("demo", &[]);
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["demo"]);
}

/// Prepares a temp folder with `setup`, then runs a refused command in it (see `assert_refused`).
fn assert_refused_after(setup: impl FnOnce(&std::path::Path), args: &[&str], message: &str) {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    assert_refused(dir.path(), dir.path(), args, message);
}

#[test]
fn refuses_a_non_empty_target_folder_and_leaves_it_untouched() {
    assert_refused_after(
        |d| {
            fs::create_dir(d.join("demo")).unwrap();
            fs::write(d.join("demo/notes.txt"), "mine").unwrap();
        },
        &["new-project", "demo", "--no-input"],
        "folder `demo` already exists and is not empty",
    );
}

#[test]
fn refuses_a_plain_file_where_the_project_folder_must_go() {
    assert_refused_after(
        |d| fs::write(d.join("demo"), "a file").unwrap(),
        &["new-project", "demo", "--no-input"],
        "`demo` exists and is not a folder",
    );
    assert_refused_after(
        |d| fs::write(d.join("out"), "a file").unwrap(),
        &["new-project", "demo", "--no-input", "--output-dir", "out"],
        "`out` is a file, not a folder",
    );
}

#[test]
fn refuses_project_names_that_are_not_one_safe_folder_name() {
    let long = "p".repeat(65);
    let cases: &[(&str, &str)] = &[
        ("a/b", "is not one folder name"),
        ("../escape", "is not one folder name"),
        ("..", "is not one folder name"),
        ("", "project name is empty"),
        ("-rf", "starts with `-`"),
        (".hidden", "starts with `.`"),
        ("x;rm -rf", "contains `;`"),
        ("$(id)", "contains `$`"),
        ("a`b`", "contains `` ` ``"),
        (&long, "more than 64"),
    ];
    for (name, message) in cases {
        assert_refused_after(|_| {}, &["new-project", "--no-input", "--", name], message);
    }
}

#[test]
fn refuses_an_unsupported_python_version() {
    assert_refused_after(
        |_| {},
        &["new-project", "demo", "--python", "3.9"],
        "python version `3.9` is not supported",
    );
}

#[test]
fn usage_errors_exit_with_code_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["new-project"][..],
        &["new-project", "demo", "--layout", "serverful"],
        &["new-project", "demo", "--arch", "mips"],
        &["new-project", "demo", "--ci", "jenkins"],
        &["frobnicate"],
    ] {
        let out = run(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!stderr(&out).contains("panicked"));
    }
    assert_eq!(snapshot(dir.path()).len(), 1, "only the root itself");
}

/// Runs `new-project NAME` on a pseudo-terminal (util-linux `script`) and
/// types `keys` into the layout picker; returns the layout it wrote.
fn pick_layout_on_a_terminal(keys: &[&[u8]]) -> Option<String> {
    let script = tool("script")?;
    let dir = tempfile::tempdir().unwrap();
    let binary = assert_cmd::cargo::cargo_bin("lambda-scaffold");
    let mut child = std::process::Command::new(script)
        .args([
            "-qec",
            &format!("{} new-project picked", binary.display()),
            "/dev/null",
        ])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for key in keys {
        // Give the picker time to draw before each key.
        std::thread::sleep(std::time::Duration::from_millis(400));
        use std::io::Write;
        stdin.write_all(key).unwrap();
        stdin.flush().unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(400));
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let manifest = fs::read_to_string(dir.path().join("picked/lambdas.toml")).unwrap();
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("layout = "))
        .map(|v| v.trim_matches('"').to_string())
}

#[test]
fn on_a_terminal_the_layout_is_picked_from_a_list() {
    let Some(first) = pick_layout_on_a_terminal(&[b"\r"]) else {
        return;
    };
    assert_eq!(first, "log-centric", "Enter takes the default");
    assert_eq!(
        pick_layout_on_a_terminal(&[b"\x1b[B", b"\r"]).unwrap(),
        "web-stack",
        "Down, Enter"
    );
}

/// Every file of the project that the tool wrote, by path, with the version
/// that wrote it, read from all the records; asserts that each record passes
/// `sha256sum -c`, and that each file is in one record only.
fn recorded(root: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    let mut all = std::collections::BTreeMap::new();
    let records = walkdir::WalkDir::new(root.join(".lambda-scaffold/generated"))
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file());
    for record in records {
        let text = fs::read_to_string(record.path()).unwrap();
        let mut version = None;
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("# lambda-scaffold ") {
                version = Some(v.to_string());
            } else {
                let (_, path) = line.split_once("  ").expect("HEX  PATH");
                let again = all.insert(path.to_string(), version.clone().expect("a version line"));
                assert!(again.is_none(), "{path} is in two records");
            }
        }
        if let Some(sha256sum) = tool("sha256sum") {
            let out = std::process::Command::new(sha256sum)
                .arg("-c")
                .arg("--quiet")
                .arg(record.path())
                .current_dir(root)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: {}",
                record.path().display(),
                stdout(&out)
            );
        }
    }
    all
}

/// The files the records must hold: every file but the manifest and the
/// tool's own bookkeeping.
fn written_files(root: &std::path::Path) -> Vec<String> {
    files_of(root)
        .into_iter()
        .filter(|f| {
            // Yours to edit: the tool edits parts of them (template.yaml's
            // parts carry their own hashes).
            f != "lambdas.toml" && f != "template.yaml" && !f.starts_with(".lambda-scaffold")
        })
        .collect()
}

#[test]
fn every_file_the_tool_writes_is_recorded_with_its_hash_and_the_tool_version() {
    let version = env!("CARGO_PKG_VERSION");
    // A bare project has no sample events yet: add-handler writes its kind's.
    for (layout, bare) in [
        ("log-centric", false),
        ("web-stack", false),
        ("log-centric", true),
    ] {
        let mut args = vec!["--layout", layout];
        if bare {
            args.push("--bare");
        }
        let (_dir, root) = project("svc", &args);
        let kind = if layout == "web-stack" {
            "handlers"
        } else {
            "consumers"
        };
        let check = |root: &std::path::Path, stage: &str| {
            let recorded = recorded(root);
            let files = written_files(root);
            assert_eq!(
                recorded.keys().cloned().collect::<Vec<_>>(),
                files,
                "{layout}, {stage}"
            );
            assert!(recorded.values().all(|v| v == version), "{layout}, {stage}");
        };
        check(&root, "new-project");
        ok(&root, &["add-handler", kind, "audit"]);
        check(&root, "add-handler");
        // check --fix writes too: a marker and requirements.txt, recorded anew.
        fs::remove_file(root.join("test/__init__.py")).unwrap();
        fs::remove_file(root.join(format!("{kind}/audit/__init__.py"))).unwrap();
        fs::remove_file(root.join("requirements.txt")).unwrap();
        ok(&root, &["check", "--fix"]);
        check(&root, "check --fix");
        ok(&root, &["remove-handler", kind, "audit"]);
        assert!(
            !root
                .join(format!(".lambda-scaffold/generated/{kind}/audit.sha256"))
                .exists()
        );
    }
}
