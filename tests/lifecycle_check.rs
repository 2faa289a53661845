//! `check` and `check --fix`, end to end: fresh projects pass, each problem is
//! named by its path, the safe repairs make the project work again, and the
//! rest is left to the user with the tree untouched.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;
use serde_json::Value;

/// Runs `check ARGS` expecting problems: exit 1, the count on stderr with a hint.
fn check_fails(root: &Path, args: &[&str], summary: &str) -> String {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    let out = run(root, &all);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{all:?}: {err}");
    assert!(
        err.starts_with(&format!("error: {summary}\nhint: ")),
        "{all:?}: expected `{summary}` in:\n{err}"
    );
    stdout(&out)
}

fn check_json(root: &Path, args: &[&str]) -> Value {
    let mut all = vec!["check", "--json"];
    all.extend_from_slice(args);
    serde_json::from_slice(&run(root, &all).stdout).expect("check --json prints JSON")
}

fn codes_and_paths(report: &Value, key: &str) -> Vec<(String, String)> {
    report[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_string(),
                p["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

#[test]
fn passes_right_after_new_project_of_both_layouts() {
    for extra in [
        &["--layout", "log-centric"][..],
        &["--layout", "web-stack"],
        &["--layout", "log-centric", "--bare"],
        &["--layout", "web-stack", "--bare", "--ci", "none"],
    ] {
        let (_dir, root) = project("svc", extra);
        let out = ok(&root, &["check"]);
        assert_eq!(stdout(&out), "no problems\n", "{extra:?}");
        let report = check_json(&root, &[]);
        assert_eq!(report["ok"], true, "{extra:?}");
        assert_eq!(report["problems"], serde_json::json!([]));
    }
}

#[test]
fn a_deleted_test_marker_is_named_and_fix_makes_unittest_pass_again() {
    let (_dir, root) = project("svc", &[]);
    assert_eq!(python_unittest(&root), log_centric_example_tests());
    fs::remove_file(root.join("test/producers/log_event/__init__.py")).unwrap();
    assert_eq!(
        python_unittest(&root),
        PROJECT_TESTS + handler_tests("consumers"),
        "the producer's tests are skipped"
    );

    let before = snapshot(&root);
    let text = check_fails(&root, &[], "1 problem found");
    assert!(
        text.starts_with("test/producers/log_event/__init__.py: missing"),
        "{text}"
    );
    assert_eq!(snapshot(&root), before, "check alone writes nothing");

    let out = ok(&root, &["check", "--fix"]);
    assert_eq!(
        stdout(&out),
        "fixed test/producers/log_event/__init__.py: created the package marker\nno problems left\n"
    );
    assert_eq!(python_unittest(&root), log_centric_example_tests());
    ok(&root, &["check"]);
}

#[test]
fn markers_are_required_in_code_trees_and_utils_but_not_in_fixtures() {
    let (_dir, root) = project("svc", &["--layout", "web-stack"]);
    fs::remove_file(root.join("handlers/__init__.py")).unwrap();
    write(&root, "utils/aws/clients.py", "X = 1\n");
    write(&root, "test/fixtures/sample_events.py", "EVENT = {}\n");
    write(&root, "handlers/index/static/page.html", "<p>hi</p>\n");
    let report = check_json(&root, &[]);
    assert_eq!(
        codes_and_paths(&report, "problems"),
        [
            ("missing-init".into(), "handlers/__init__.py".into()),
            ("missing-init".into(), "utils/aws/__init__.py".into()),
        ]
    );
    assert_eq!(report["ok"], false);
    assert_eq!(report["problems"][0]["fixable"], true);
}

#[test]
fn staging_hidden_cache_and_build_folders_are_not_checked() {
    let (_dir, root) = project("svc", &[]);
    write(
        &root,
        ".lambda-scaffold-staging-1/producers/x/producers.py",
        "",
    );
    write(&root, "producers/.lambda-scaffold-staging-2/a.py", "");
    write(
        &root,
        "producers/log_event/__pycache__/producers.cpython-313.pyc",
        "",
    );
    write(&root, "utils/.venv/lib/site.py", "");
    write(&root, "test/.hidden/z.py", "");
    ok(&root, &["check"]);
}

#[test]
fn handlers_named_like_build_or_venv_folders_are_checked_like_any_other() {
    let (_dir, root) = project("svc", &[]);
    ok(&root, &["add-handler", "producers", "target"]);
    ok(&root, &["add-handler", "consumers", "venv"]);
    ok(&root, &["check"]);
    fs::remove_file(root.join("test/consumers/venv/__init__.py")).unwrap();
    let text = check_fails(&root, &[], "1 problem found");
    assert!(text.contains("test/consumers/venv/__init__.py"), "{text}");
}

#[test]
fn fix_adopts_a_hand_made_handler_folder_into_the_manifest() {
    let (_dir, root) = project("svc", &["--bare"]);
    write(
        &root,
        "producers/by_hand/producers.py",
        "def by_hand(event, context):\n    return {\"seen\": event[\"id\"]}\n",
    );
    write(
        &root,
        "test/producers/by_hand/test_producers.py",
        "import unittest\n\nfrom producers.by_hand.producers import by_hand\n\n\n\
         class ByHandTest(unittest.TestCase):\n    def test_it(self):\n        \
         self.assertEqual(by_hand({\"id\": 1}, None), {\"seen\": 1})\n",
    );
    let report = check_json(&root, &[]);
    assert_eq!(
        codes_and_paths(&report, "problems"),
        [
            ("unlisted-handler".into(), "producers/by_hand".into()),
            (
                "missing-init".into(),
                "producers/by_hand/__init__.py".into()
            ),
            // Nothing deploys it yet: --fix adds its function too.
            ("not-in-template".into(), "template.yaml".into()),
            (
                "missing-init".into(),
                "test/producers/by_hand/__init__.py".into()
            ),
        ]
    );
    check_fails(&root, &[], "4 problems found");

    let out = ok(&root, &["check", "--fix"]);
    assert!(
        stdout(&out).contains("fixed producers/by_hand: added the handler to lambdas.toml"),
        "{}",
        stdout(&out)
    );
    let manifest = fs::read_to_string(root.join("lambdas.toml")).unwrap();
    assert!(
        manifest.ends_with("[[handlers]]\nkind = \"producers\"\nname = \"by_hand\"\n"),
        "adopted without file hashes:\n{manifest}"
    );
    ok(&root, &["check"]);
    assert_eq!(python_unittest(&root), PROJECT_TESTS + 1);
    let listed = stdout(&ok(&root, &["list"]));
    assert!(listed.contains("producers.by_hand"), "{listed}");
}

/// Each folder follows the convention, but `add-handler` would refuse its
/// name: `check` names the clash in add-handler's own words, before any fix,
/// and `check --fix` adopts none of them.
#[test]
fn fix_never_adopts_a_folder_whose_name_add_handler_would_refuse() {
    let (_dir, root) = project("svc", &[]);
    let folders = [
        // hides `import json` in the producers module
        ("producers", "json"),
        // the listed producers/log_event has this name
        ("consumers", "log_event"),
        // two unlisted folders of one name in two kinds
        ("producers", "twin"),
        ("consumers", "twin"),
    ];
    for (kind, name) in folders {
        write(
            &root,
            &format!("{kind}/{name}/{kind}.py"),
            &format!("def {name}(event, context):\n    return None\n"),
        );
        write(&root, &format!("{kind}/{name}/__init__.py"), "");
        write(&root, &format!("test/{kind}/{name}/__init__.py"), "");
        write(&root, &format!("test/{kind}/{name}/test_{kind}.py"), "");
    }
    let manifest = fs::read_to_string(root.join("lambdas.toml")).unwrap();
    let report = check_json(&root, &[]);
    let mut clashes = codes_and_paths(&report, "problems");
    clashes.sort();
    assert_eq!(
        clashes,
        [
            ("clashing-name".into(), "consumers/log_event".into()),
            ("clashing-name".into(), "consumers/twin".into()),
            ("clashing-name".into(), "producers/json".into()),
            ("clashing-name".into(), "producers/twin".into()),
        ]
    );
    // The words are add-handler's own, from the same function.
    let text = check_fails(&root, &[], "4 problems found");
    let refusal = assert_refused(
        &root,
        &root,
        &["add-handler", "producers", "json"],
        "would hide",
    );
    let reason = refusal
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("error: ");
    assert!(
        text.contains(&format!(
            "producers/json: the handler `producers.json` is not listed in lambdas.toml and cannot be: {reason} (rename the folder)"
        )),
        "{text}"
    );
    assert!(
        text.contains("handler name `log_event` is already used by `producers/log_event`"),
        "{text}"
    );
    assert!(
        text.contains("handler name `twin` is already used by `consumers/twin`"),
        "{text}"
    );

    let before = snapshot(&root);
    check_fails(&root, &["--fix"], "4 problems left");
    assert_eq!(snapshot(&root), before, "nothing adopted");
    assert_eq!(
        fs::read_to_string(root.join("lambdas.toml")).unwrap(),
        manifest
    );
}

#[test]
fn problems_that_need_a_person_are_named_and_fix_leaves_the_tree_alone() {
    let (_dir, root) = project("svc", &[]);
    write(
        &root,
        "producers/log_event/producers.py",
        "def log_events(event, context):\n    return None\n",
    );
    fs::remove_file(root.join("test/consumers/log_sink/test_consumers.py")).unwrap();
    ok(&root, &["add-handler", "producers", "gone"]);
    fs::remove_dir_all(root.join("producers/gone")).unwrap();
    let stale = root.join("consumers/stale");
    fs::create_dir_all(&stale).unwrap();
    let text = fs::read_to_string(root.join("lambdas.toml")).unwrap();
    fs::write(
        root.join("lambdas.toml"),
        format!("{text}\n[[handlers]]\nkind = \"consumers\"\nname = \"stale\"\n\n[[handlers]]\nkind = \"widgets\"\nname = \"w\"\n"),
    )
    .unwrap();

    let text = check_fails(&root, &[], "5 problems found");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "consumers/stale/consumers.py: the handler `consumers.stale` is in lambdas.toml, but its module is missing",
            "lambdas.toml: handler `widgets/w` has unknown kind `widgets`",
            "producers/gone: the handler `producers.gone` is in lambdas.toml, but its folder is missing \
             (restore it, or drop the entry with `lambda-scaffold remove-handler producers gone`)",
            "producers/log_event/producers.py: has no `def log_event(`, so the handler `producers.log_event` cannot be found",
            "test/consumers/log_sink: no tests for the handler `consumers.log_sink`: add a `test_consumers.py` here",
        ]
    );
    let before = snapshot(&root);
    check_fails(&root, &["--fix"], "5 problems left");
    assert_eq!(snapshot(&root), before, "nothing here is safe to repair");
    let report = check_json(&root, &["--fix"]);
    assert_eq!(report["fixed"], serde_json::json!([]));
    assert!(
        report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["fixable"] == false)
    );
}

#[test]
fn fix_makes_build_sh_executable_and_creates_requirements() {
    let (_dir, root) = project("svc", &[]);
    let build = root.join("build.sh");
    fs::set_permissions(&build, fs::Permissions::from_mode(0o644)).unwrap();
    fs::remove_file(root.join("requirements.txt")).unwrap();
    let text = check_fails(&root, &[], "2 problems found");
    assert_eq!(
        text,
        "build.sh: not executable\nrequirements.txt: missing: build.sh installs the shared \
         dependencies from it (it may be empty)\n"
    );
    let report = check_json(&root, &["--fix"]);
    assert_eq!(report["ok"], true);
    assert_eq!(
        codes_and_paths(&report, "fixed"),
        [
            ("not-executable".into(), "build.sh".into()),
            ("missing-requirements".into(), "requirements.txt".into()),
        ]
    );
    let mode = fs::metadata(&build).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
    assert!(root.join("requirements.txt").is_file());
    ok(&root, &["check"]);
}

#[test]
fn dry_run_says_what_fix_would_repair_and_writes_nothing() {
    let (_dir, root) = project("svc", &[]);
    fs::remove_file(root.join("consumers/__init__.py")).unwrap();
    fs::remove_file(root.join("test/producers/log_event/test_producers.py")).unwrap();
    let before = snapshot(&root);
    let out = run(&root, &["check", "--fix", "--dry-run"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: 2 problems found\nhint: `lambda-scaffold check --fix` would repair 1 of them\n"
    );
    let text = stdout(&out);
    assert!(
        text.starts_with("would fix consumers/__init__.py: created the package marker\n"),
        "{text}"
    );
    assert_eq!(snapshot(&root), before);
    let report = check_json(&root, &["--fix", "--dry-run"]);
    assert_eq!(report["dry_run"], true);
    assert_eq!(codes_and_paths(&report, "fixed").len(), 1);
    assert_eq!(codes_and_paths(&report, "problems").len(), 2);
    assert_eq!(snapshot(&root), before);
}

#[test]
fn paths_are_shown_from_the_current_folder_and_the_project_flag_works() {
    let (dir, root) = project("svc", &[]);
    fs::remove_file(root.join("test/__init__.py")).unwrap();
    let text = check_fails(&root.join("producers/log_event"), &[], "1 problem found");
    assert!(
        text.starts_with("../../test/__init__.py: missing"),
        "{text}"
    );
    let text = check_fails(dir.path(), &["--project", "svc"], "1 problem found");
    assert!(text.starts_with("svc/test/__init__.py: missing"), "{text}");
    ok(dir.path(), &["check", "--fix", "--project", "svc"]);
    assert!(root.join("test/__init__.py").is_file());
    assert!(staging_dirs(&root).is_empty());
}

#[test]
fn usage_errors_exit_with_code_2() {
    let (_dir, root) = project("svc", &[]);
    for args in [
        &["check", "--dry-run"][..],
        &["check", "extra"],
        &["check", "--bogus"],
    ] {
        assert_eq!(run(&root, args).status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn a_changed_python_or_arch_is_reported_in_every_copy_and_fix_makes_them_agree() {
    let (_dir, root) = project("svc", &["--ci", "gitlab"]);
    change_build_settings_to_312_arm64(&root);
    let report = check_json(&root, &[]);
    assert_eq!(
        codes_and_paths(&report, "problems"),
        [
            ("setting-mismatch".into(), ".gitlab-ci.yml".into()),
            ("setting-mismatch".into(), "Dockerfile".into()),
            ("setting-mismatch".into(), "README.md".into()),
            ("stale-lock".into(), "requirements.lock".into()),
            ("setting-mismatch".into(), "template.yaml".into()),
        ]
    );
    let out = check_fails(&root, &[], "5 problems found");
    assert!(
        out.contains("Dockerfile: names `python` `3.13` where lambdas.toml has `3.12` and `arch` `x86_64` where lambdas.toml has `arm64`"),
        "{out}"
    );
    let before = snapshot(&root);
    let fixed = ok(&root, &["check", "--fix"]);
    assert!(
        stdout(&fixed).contains("fixed Dockerfile: rewrote the settings from lambdas.toml"),
        "{}",
        stdout(&fixed)
    );
    ok(&root, &["check"]);
    let after = snapshot(&root);
    let changed: Vec<_> = before
        .keys()
        .filter(|path| before.get(*path) != after.get(*path))
        .map(|path| path.to_string_lossy().into_owned())
        .collect();
    // The record of what the tool wrote follows the rewritten files; the lock
    // of the empty requirements.txt is rewritten for the new runtime.
    assert_eq!(
        changed,
        [
            ".gitlab-ci.yml",
            ".lambda-scaffold/generated/project.sha256",
            "Dockerfile",
            "README.md",
            "requirements.lock",
            "template.yaml"
        ]
    );
    let lock = fs::read_to_string(root.join("requirements.lock")).unwrap();
    assert!(
        lock.contains(
            " python=3.12 arch=arm64
"
        ),
        "{lock}"
    );
    let docker = fs::read_to_string(root.join("Dockerfile")).unwrap();
    assert!(
        docker.contains("sam/build-python3.12:1.170.0-arm64"),
        "{docker}"
    );
    let gitlab = fs::read_to_string(root.join(".gitlab-ci.yml")).unwrap();
    assert!(gitlab.contains("image: \"python:3.12\""), "{gitlab}");
    assert!(!gitlab.contains("3.13"), "{gitlab}");
}

#[test]
fn a_missing_build_sh_is_named_and_fix_restores_it() {
    let (_dir, root) = project("svc", &["--layout", "web-stack"]);
    let build = root.join("build.sh");
    let original = fs::read(&build).unwrap();
    fs::remove_file(&build).unwrap();
    let out = check_fails(&root, &[], "1 problem found");
    assert!(out.contains("build.sh: missing"), "{out}");
    ok(&root, &["check", "--fix"]);
    assert_eq!(fs::read(&build).unwrap(), original);
    assert_eq!(
        fs::metadata(&build).unwrap().permissions().mode() & 0o111,
        0o111
    );
    ok(&root, &["check"]);
}

#[test]
fn a_handler_shaped_folder_the_manifest_cannot_list_is_named() {
    let (_dir, root) = project("svc", &[]);
    write(
        &root,
        "producers/MyThing/producers.py",
        "def my_thing(event, context):\n    return 1\n",
    );
    write(&root, "producers/MyThing/__init__.py", "");
    let before = snapshot(&root);
    let out = check_fails(&root, &["--fix"], "1 problem left");
    assert!(
        out.contains("producers/MyThing: holds `producers.py` like a handler, but `MyThing` is not a handler name"),
        "{out}"
    );
    assert!(out.contains("rename the folder to `my_thing`"), "{out}");
    assert_eq!(snapshot(&root), before);
}

#[test]
fn a_marker_of_a_template_part_without_its_pair_is_named_before_remove_handler_refuses() {
    let (_dir, root) = project("svc", &[]);
    ok(
        &root,
        &["add-handler", "consumers", "c_sqs", "--event", "sqs"],
    );
    let template = fs::read_to_string(root.join("template.yaml")).unwrap();
    let end = "# lambda-scaffold: end consumers.c_sqs";
    let broken: String = template
        .split_inclusive('\n')
        .filter(|line| line.trim() != end)
        .collect();
    assert_ne!(broken, template, "the part has its end marker");
    fs::write(root.join("template.yaml"), &broken).unwrap();

    let text = check_fails(&root, &[], "1 problem found");
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "template.yaml: has a `# lambda-scaffold: begin consumers.c_sqs` line without its pair, \
             so add-handler and remove-handler refuse to edit that part (restore the missing \
             marker line, or remove the block by hand)"
        ]
    );
    let before = snapshot(&root);
    check_fails(&root, &["--fix"], "1 problem left");
    assert_eq!(snapshot(&root), before, "a broken marker needs a person");
    let report = check_json(&root, &[]);
    assert_eq!(
        codes_and_paths(&report, "problems"),
        [("unpaired-marker".to_string(), "template.yaml".to_string())]
    );
    assert_eq!(report["problems"][0]["fixable"], false);
    // What check named is what remove-handler refuses.
    let refused = run(&root, &["remove-handler", "consumers", "c_sqs", "--force"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("begin consumers.c_sqs` line without its pair"));

    // A lone end marker is named as well, and the restored part passes.
    let lone_end = template.replacen("# lambda-scaffold: begin consumers.c_sqs", "# gone", 1);
    fs::write(root.join("template.yaml"), lone_end).unwrap();
    let text = check_fails(&root, &[], "1 problem found");
    assert!(text.contains("`# lambda-scaffold: end consumers.c_sqs` line without its pair"));
    fs::write(root.join("template.yaml"), &template).unwrap();
    ok(&root, &["check"]);
}

#[test]
fn parts_whose_markers_cross_or_nest_are_named_and_no_command_edits_either() {
    let (_dir, root) = project("svc", &[]);
    let template = fs::read_to_string(root.join("template.yaml")).unwrap();
    let end = "  # lambda-scaffold: end producers.log_event\n";
    let begin = template
        .split_inclusive('\n')
        .find(|line| line.contains("# lambda-scaffold: begin consumers.log_sink"))
        .unwrap();
    let last = "  # lambda-scaffold: end consumers.log_sink\n";
    assert!(template.contains(&format!("{end}{begin}")), "{template}");
    for (what, broken) in [
        (
            "crossing",
            template.replacen(&format!("{end}{begin}"), &format!("{begin}{end}"), 1),
        ),
        (
            "nested",
            template
                .replacen(end, "", 1)
                .replacen(last, &format!("{last}{end}"), 1),
        ),
    ] {
        assert_ne!(broken, template);
        fs::write(root.join("template.yaml"), &broken).unwrap();
        let text = check_fails(&root, &[], "1 problem found");
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            [
                "template.yaml: has the part of `consumers.log_sink` beginning inside the part of \
                 `producers.log_event` (their `# lambda-scaffold:` lines cross or nest), so \
                 add-handler and remove-handler refuse to edit either (move the block of \
                 `consumers.log_sink`, with its two marker lines, out of the other)"
            ],
            "{what}"
        );
        let report = check_json(&root, &[]);
        assert_eq!(
            codes_and_paths(&report, "problems"),
            [("crossed-markers".to_string(), "template.yaml".to_string())],
            "{what}"
        );
        assert_eq!(report["problems"][0]["fixable"], false);
        let before = snapshot(&root);
        check_fails(&root, &["--fix"], "1 problem left");
        assert_eq!(
            snapshot(&root),
            before,
            "{what}: a person must untangle them"
        );
        // What check named is what every edit of either part refuses,
        // leaving the tree as it was.
        for args in [
            &["remove-handler", "producers", "log_event"][..],
            &["remove-handler", "producers", "log_event", "--force"],
            &["remove-handler", "consumers", "log_sink", "--force"],
            &["add-handler", "consumers", "log_sink", "--force"],
        ] {
            assert_refused(
                &root,
                &root,
                args,
                "`template.yaml` has the part of `consumers.log_sink` beginning inside the part of `producers.log_event`",
            );
        }
    }
    fs::write(root.join("template.yaml"), &template).unwrap();
    ok(&root, &["check"]);
    ok(&root, &["remove-handler", "producers", "log_event"]);
    ok(&root, &["check"]);
}

/// A handler module is known to check by its name only: one that is a FIFO
/// is read as empty (not waited on for ever), and one that is a link to
/// `/dev/zero` is read no further than 16 MiB, refused with its path.
#[test]
fn a_module_that_is_a_fifo_or_endless_is_judged_without_hanging_or_filling_the_memory() {
    let (_dir, root) = project("svc", &[]);
    fs::create_dir_all(root.join("consumers/pipe")).unwrap();
    fs::write(root.join("consumers/pipe/__init__.py"), "").unwrap();
    let module = root.join("consumers/pipe/consumers.py");
    // Taken before the FIFO is made: reading it would wait for a writer.
    let before = snapshot(&root);
    let made = std::process::Command::new("mkfifo")
        .arg(&module)
        .status()
        .unwrap();
    assert!(made.success());
    // A check that hangs is killed after a minute, and fails the test.
    let check = || {
        let mut child = scaffold(&root)
            .arg("check")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                child.kill().unwrap();
                panic!("check still ran after a minute");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    };
    let out = check();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("consumers/pipe/consumers.py: has no `def pipe(`"),
        "{}",
        stdout(&out)
    );
    fs::remove_file(&module).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &module).unwrap();
    let out = check();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot read `consumers/pipe/consumers.py`")
            && stderr(&out).contains("more than 16 MiB"),
        "{}",
        stderr(&out)
    );
    fs::remove_file(&module).unwrap();
    assert_eq!(snapshot(&root), before, "check wrote nothing");
}
