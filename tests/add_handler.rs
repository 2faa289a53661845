//! `add-handler`, end to end: every kind in both layouts, run from anywhere in
//! the project, the generated tests passing, and every refusal leaving the tree as it was.

mod common;

use std::fs;
use std::path::Path;

use common::*;

fn manifest(root: &Path) -> String {
    fs::read_to_string(root.join("lambdas.toml")).unwrap()
}

#[test]
fn every_kind_of_both_layouts_gets_code_tests_markers_and_a_manifest_entry() {
    let cases: &[(&str, &[&str])] = &[
        ("log-centric", &["producers", "consumers"]),
        ("web-stack", &["handlers"]),
    ];
    for (layout, kinds) in cases {
        let (_dir, root) = project("svc", &["--layout", layout, "--bare"]);
        let mut expected_tests = project_tests(layout);
        for kind in *kinds {
            // One name per kind: two kinds may not share a handler name.
            let name = format!("{}_placed", kind.trim_end_matches('s'));
            ok(&root, &["add-handler", kind, &name]);
            for path in [
                format!("{kind}/__init__.py"),
                format!("{kind}/{name}/__init__.py"),
                format!("{kind}/{name}/{kind}.py"),
                format!("test/{kind}/__init__.py"),
                format!("test/{kind}/{name}/__init__.py"),
                format!("test/{kind}/{name}/test_{kind}.py"),
            ] {
                assert!(root.join(&path).is_file(), "{layout}: missing {path}");
            }
            let module = fs::read_to_string(root.join(format!("{kind}/{name}/{kind}.py"))).unwrap();
            assert!(
                module.contains(&format!("def {name}(\n    event: dict[str, Any],\n")),
                "{module}"
            );
            let test = fs::read_to_string(root.join(format!("test/{kind}/{name}/test_{kind}.py")))
                .unwrap();
            assert!(
                test.contains(&format!("import {kind}.{name}.{kind} as code\n")),
                "{test}"
            );
            assert!(manifest(&root).contains(&format!("kind = \"{kind}\"\nname = \"{name}\"")));
            expected_tests += handler_tests(kind);
            assert_eq!(
                python_unittest(&root),
                expected_tests,
                "{layout} after adding {kind}"
            );
        }
    }
}

#[test]
fn fixtures_come_with_the_first_handler_of_their_kind() {
    let (_dir, root) = project("svc", &["--bare"]);
    assert!(!root.join("test/fixtures/kinesis_event.json").exists());
    ok(&root, &["add-handler", "consumer", "sink"]);
    assert!(root.join("test/fixtures/kinesis_event.json").is_file());
    fs::write(
        root.join("test/fixtures/kinesis_event.json"),
        "{\"Records\": []}",
    )
    .unwrap();
    ok(&root, &["add-handler", "consumer", "other_sink"]);
    assert_eq!(
        fs::read_to_string(root.join("test/fixtures/kinesis_event.json")).unwrap(),
        "{\"Records\": []}"
    );
}

#[test]
fn names_are_normalised_to_snake_case_and_the_output_says_so() {
    let (_dir, root) = project("svc", &[]);
    let out = ok(&root, &["add-handler", "producers", "ErrorEvent"]);
    assert!(
        stdout(&out).contains("`ErrorEvent` becomes `error_event`"),
        "{}",
        stdout(&out)
    );
    let out = ok(&root, &["add-handler", "producer", "payment-failed"]);
    assert!(
        stdout(&out).contains("`payment-failed` becomes `payment_failed`"),
        "{}",
        stdout(&out)
    );
    assert!(root.join("producers/error_event/producers.py").is_file());
    assert!(root.join("producers/payment_failed/producers.py").is_file());
    assert!(
        stdout(&out).contains("producers.payment_failed"),
        "prints the AWS handler string"
    );
    assert_eq!(
        python_unittest(&root),
        log_centric_example_tests() + 2 * handler_tests("producers")
    );
}

#[test]
fn works_from_a_subfolder_and_with_project_flag() {
    let (dir, root) = project("svc", &[]);
    ok(
        &root.join("test/producers"),
        &["add-handler", "producers", "from_deep"],
    );
    assert!(root.join("producers/from_deep/producers.py").is_file());
    ok(
        dir.path(),
        &[
            "add-handler",
            "consumers",
            "from_outside",
            "--project",
            "svc",
        ],
    );
    assert!(root.join("consumers/from_outside/consumers.py").is_file());
    assert_eq!(
        python_unittest(&root),
        log_centric_example_tests() + handler_tests("producers") + handler_tests("consumers")
    );
}

#[test]
fn manifest_comments_and_formatting_are_kept() {
    let (_dir, root) = project("svc", &[]);
    let head = format!(
        "# team notes: keep me\n{}",
        manifest(&root).replace("ci = ", "ci   =   ")
    );
    fs::write(
        root.join("lambdas.toml"),
        format!("{head}\n# trailing note\n"),
    )
    .unwrap();
    ok(&root, &["add-handler", "producers", "kept"]);
    let after = manifest(&root);
    assert!(after.starts_with(&head), "{after}");
    // The new entry is appended: everything before it stays byte for byte.
    assert_eq!(
        after,
        format!("{head}\n# trailing note\n\n[[handlers]]\nkind = \"producers\"\nname = \"kept\"\n")
    );
}

#[test]
fn the_hashes_of_generated_files_are_recorded_beside_the_manifest() {
    let (_dir, root) = project("svc", &[]);
    ok(&root, &["add-handler", "producers", "kept"]);
    let record =
        fs::read_to_string(root.join(".lambda-scaffold/generated/producers/kept.sha256")).unwrap();
    let expected: String = [
        "producers/kept/__init__.py",
        "producers/kept/producers.py",
        "test/producers/kept/__init__.py",
        "test/producers/kept/test_producers.py",
    ]
    .iter()
    .map(|path| {
        let hash = lambda_scaffold::generated::file_hash(&fs::read(root.join(path)).unwrap());
        format!("{hash}  {path}\n")
    })
    .collect();
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(record, format!("# lambda-scaffold {version}\n{expected}"));
    // The examples of new-project are recorded the same way.
    assert!(
        root.join(".lambda-scaffold/generated/consumers/log_sink.sha256")
            .is_file()
    );
}

#[test]
fn dry_run_lists_the_files_and_writes_nothing() {
    let (_dir, root) = project("svc", &[]);
    let before = snapshot(&root);
    let out = ok(&root, &["add-handler", "consumers", "audit", "--dry-run"]);
    assert_eq!(snapshot(&root), before);
    let text = stdout(&out);
    assert!(
        text.contains("would create  consumers/audit/consumers.py"),
        "{text}"
    );
    assert!(
        text.contains("would create  test/consumers/audit/test_consumers.py"),
        "{text}"
    );
    assert!(text.contains("would update  lambdas.toml"), "{text}");
}

#[test]
fn force_rewrites_only_that_handlers_generated_files() {
    let (_dir, root) = project("svc", &[]);
    let module = root.join("producers/log_event/producers.py");
    let original = fs::read(&module).unwrap();
    fs::write(&module, "broken = (").unwrap();
    fs::write(root.join("producers/log_event/helpers.py"), "X = 1\n").unwrap();
    fs::write(
        root.join("test/fixtures/eventbridge_event.json"),
        "{\"id\": \"mine\", \"detail\": {}}",
    )
    .unwrap();
    let manifest_before = manifest(&root);
    let consumer_before = fs::read(root.join("consumers/log_sink/consumers.py")).unwrap();
    let out = ok(&root, &["add-handler", "producers", "log_event", "--force"]);
    assert!(
        stdout(&out).contains("replaced      producers/log_event/producers.py"),
        "{}",
        stdout(&out)
    );
    assert_eq!(fs::read(&module).unwrap(), original);
    assert!(
        stdout(&out).contains(
            "kept your files that --force replaces:\n  producers/log_event/producers.py \
             (edited since it was generated) as producers/log_event/producers.py.orig\n"
        ),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        fs::read_to_string(root.join("producers/log_event/producers.py.orig")).unwrap(),
        "broken = ("
    );
    assert_eq!(
        fs::read_to_string(root.join("producers/log_event/helpers.py")).unwrap(),
        "X = 1\n"
    );
    assert!(
        fs::read_to_string(root.join("test/fixtures/eventbridge_event.json"))
            .unwrap()
            .contains("mine")
    );
    assert_eq!(
        manifest(&root),
        manifest_before,
        "no duplicate manifest entry"
    );
    assert_eq!(
        fs::read(root.join("consumers/log_sink/consumers.py")).unwrap(),
        consumer_before
    );
}

#[test]
fn refuses_names_that_are_not_python_identifiers_and_leaves_the_tree_untouched() {
    let (_dir, root) = project("svc", &[]);
    let long = "a".repeat(65);
    let cases: &[(&str, &str)] = &[
        ("../escape", "contains `.`"),
        ("a/b", "contains `/`"),
        ("a\\b", "contains `\\`"),
        ("..", "contains `.`"),
        ("class", "is a Python keyword"),
        ("Lambda", "is a Python keyword"),
        ("match", "is a Python keyword"),
        ("9lives", "starts with a digit"),
        ("", "handler name is empty"),
        ("--", "has no letters"),
        (&long, "more than 64"),
        ("x;rm -rf ~", "contains `;`"),
        ("$(reboot)", "contains `$`"),
        ("a|b", "contains `|`"),
        ("a b", "contains ` `"),
        ("naïve", "contains `ï`"),
    ];
    for (name, message) in cases {
        assert_refused(
            &root,
            &root,
            &["add-handler", "producers", "--", name],
            message,
        );
    }
}

#[test]
fn refuses_a_kind_that_is_not_in_the_layout() {
    let (_dir, root) = project("svc", &[]);
    assert_refused(
        &root,
        &root,
        &["add-handler", "handlers", "index"],
        "kind `handlers` is not part of a log-centric project",
    );
    assert_refused(
        &root,
        &root,
        &["add-handler", "widgets", "x"],
        "unknown kind `widgets`",
    );
    let (_dir2, web) = project("web", &["--layout", "web-stack"]);
    assert_refused(
        &web,
        &web,
        &["add-handler", "producer", "x"],
        "kind `producers` is not part of a web-stack project",
    );
}

#[test]
fn refuses_an_existing_handler_and_leaves_files_untouched() {
    let (_dir, root) = project("svc", &[]);
    fs::write(
        root.join("producers/log_event/producers.py"),
        "# my edits\n",
    )
    .unwrap();
    assert_refused(
        &root,
        &root,
        &["add-handler", "producers", "log_event"],
        "handler `producers/log_event` already exists",
    );
    assert_refused(
        &root,
        &root,
        &["add-handler", "producers", "LogEvent"],
        "handler `producers/log_event` already exists",
    );
    // Files on disk without a manifest entry are not overwritten either.
    fs::create_dir_all(root.join("producers/by_hand")).unwrap();
    fs::write(
        root.join("producers/by_hand/producers.py"),
        "def by_hand(e, c): pass\n",
    )
    .unwrap();
    assert_refused(
        &root,
        &root,
        &["add-handler", "producers", "by_hand"],
        "handler `producers/by_hand` already exists",
    );
}

#[test]
fn refuses_to_run_outside_any_project() {
    let dir = tempfile::tempdir().unwrap();
    assert_refused(
        dir.path(),
        dir.path(),
        &["add-handler", "producers", "x"],
        "is not inside a lambda-scaffold project",
    );
    assert_refused(
        dir.path(),
        dir.path(),
        &["add-handler", "producers", "x", "--project", "nowhere"],
        "folder `nowhere` does not exist",
    );
    fs::create_dir(dir.path().join("empty")).unwrap();
    assert_refused(
        dir.path(),
        dir.path(),
        &["add-handler", "producers", "x", "--project", "empty"],
        "`empty` is not a lambda-scaffold project",
    );
}

#[test]
fn refuses_a_plain_file_where_a_folder_must_go() {
    let (_dir, root) = project("svc", &[]);
    fs::write(root.join("producers/new_one"), "not a folder").unwrap();
    assert_refused(
        &root,
        &root,
        &["add-handler", "producers", "new_one"],
        "`producers/new_one` is a file where a folder must go",
    );
    let (_dir2, bare) = project("bare", &["--bare", "--layout", "web-stack"]);
    fs::remove_file(bare.join("test/handlers/__init__.py")).unwrap();
    fs::remove_dir(bare.join("test/handlers")).unwrap();
    fs::write(bare.join("test/handlers"), "oops").unwrap();
    assert_refused(
        &bare,
        &bare,
        &["add-handler", "handlers", "index"],
        "`test/handlers` is a file where a folder must go",
    );
}

#[test]
fn refuses_a_corrupt_manifest_naming_line_and_column() {
    let (_dir, root) = project("svc", &[]);
    let text = manifest(&root).replace("layout = \"log-centric\"", "layout = log-centric");
    fs::write(root.join("lambdas.toml"), text).unwrap();
    assert_refused(
        &root,
        &root,
        &["add-handler", "producers", "x"],
        "is not valid TOML at line 5, column",
    );
}

#[test]
fn usage_errors_exit_with_code_2() {
    let (_dir, root) = project("svc", &[]);
    assert_usage_errors(
        &root,
        &[
            &["add-handler"],
            &["add-handler", "producers"],
            &["add-handler", "producers", "x", "--bogus"],
        ],
    );
}

#[test]
fn refuses_a_name_that_would_hide_what_the_module_imports() {
    let (_dir, root) = project("svc", &[]);
    for (kind, name) in [
        ("producers", "json"),
        ("producers", "os"),
        ("consumers", "base64"),
        ("consumers", "logger"),
        ("producers", "to_record"),
        ("consumers", "decode_record"),
    ] {
        assert_refused(
            &root,
            &root,
            &["add-handler", kind, name],
            &format!("handler name `{name}` would hide `{name}`"),
        );
    }
    let (_dir, web) = project("web", &["--layout", "web-stack"]);
    assert_refused(
        &web,
        &web,
        &["add-handler", "handlers", "serve"],
        "would hide `serve`",
    );
    // The same names are fine where the module does not use them.
    ok(&web, &["add-handler", "handlers", "os"]);
    assert_eq!(
        python_unittest(&web),
        WEB_STACK_PROJECT_TESTS + 2 * handler_tests("handlers")
    );
}

#[test]
fn refuses_a_name_another_kind_already_uses() {
    let (_dir, root) = project("svc", &[]);
    assert_refused(
        &root,
        &root,
        &["add-handler", "consumers", "log_event"],
        "handler name `log_event` is already used by `producers/log_event`",
    );
}

/// The states a handler file can be in before `add-handler --force`.
#[derive(Clone, Copy, Debug)]
enum FileState {
    AsGenerated,
    Edited,
    Missing,
}

/// Every mix of the module's and the test's state, with and without the
/// generation record (a handler `check --fix` adopted has none): `--force`
/// puts the generated files in place and every byte the user had is still in
/// the handler's folders, at its path or in a `.orig` file the output names.
#[test]
fn force_never_loses_a_file_the_tool_did_not_generate_or_that_was_edited() {
    use FileState::*;
    let files = [
        "producers/log_event/producers.py",
        "test/producers/log_event/test_producers.py",
    ];
    let (_dir, fresh) = project("svc", &[]);
    let generated: Vec<Vec<u8>> = files
        .iter()
        .map(|f| fs::read(fresh.join(f)).unwrap())
        .collect();
    let mut cases = 0;
    for with_record in [true, false] {
        for module in [AsGenerated, Edited, Missing] {
            for test in [AsGenerated, Edited, Missing] {
                let (_dir, root) = project("svc", &[]);
                if !with_record {
                    fs::remove_file(
                        root.join(".lambda-scaffold/generated/producers/log_event.sha256"),
                    )
                    .unwrap();
                }
                for (file, state) in files.iter().zip([module, test]) {
                    match state {
                        AsGenerated => {}
                        Edited => fs::write(root.join(file), format!("# mine: {file}\n")).unwrap(),
                        Missing => fs::remove_file(root.join(file)).unwrap(),
                    }
                }
                let case = format!("record: {with_record}, module: {module:?}, test: {test:?}");
                let before = snapshot(&root);
                let out = ok(&root, &["add-handler", "producers", "log_event", "--force"]);
                let after = snapshot(&root);
                for (file, generated) in files.iter().zip(&generated) {
                    assert_eq!(&fs::read(root.join(file)).unwrap(), generated, "{case}");
                }
                for (path, (kind, bytes, _)) in &before {
                    if kind != "file" || after.get(path).is_some_and(|(_, now, _)| now == bytes) {
                        continue;
                    }
                    let kept = path.with_file_name(format!(
                        "{}.orig",
                        path.file_name().unwrap().to_string_lossy()
                    ));
                    assert_eq!(
                        after.get(&kept).map(|(_, b, _)| b),
                        Some(bytes),
                        "{case}: {path:?} lost"
                    );
                    assert!(
                        stdout(&out).contains(&format!("  {} (", path.display())),
                        "{case}: {}",
                        stdout(&out)
                    );
                }
                let origs = after
                    .keys()
                    .filter(|p| p.to_string_lossy().ends_with(".orig"))
                    .count();
                let edited = [module, test]
                    .iter()
                    .filter(|s| matches!(s, Edited))
                    .count();
                // A file identical to what is generated needs no copy, record or not.
                assert_eq!(origs, edited, "{case}");
                ok(&root, &["check"]);
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 18);
}

#[test]
fn force_over_an_adopted_handler_keeps_the_users_module_and_test() {
    let (_dir, root) = project("svc", &["--bare"]);
    let module = "def by_hand(event, context):\n    return {\"mine\": True}\n";
    let test = "import unittest\n\n\nclass Mine(unittest.TestCase):\n    def test_it(self):\n        pass\n";
    for (path, text) in [
        ("producers/by_hand/producers.py", module),
        ("test/producers/by_hand/test_producers.py", test),
    ] {
        fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
        fs::write(root.join(path), text).unwrap();
    }
    ok(&root, &["check", "--fix"]);
    let dry = stdout(&ok(
        &root,
        &[
            "add-handler",
            "producers",
            "by_hand",
            "--force",
            "--dry-run",
        ],
    ));
    assert!(
        dry.contains("would keep your files that --force replaces:\n"),
        "{dry}"
    );
    let out = stdout(&ok(
        &root,
        &["add-handler", "producers", "by_hand", "--force"],
    ));
    for path in [
        "producers/by_hand/producers.py",
        "test/producers/by_hand/test_producers.py",
    ] {
        assert!(
            out.contains(&format!(
                "  {path} (not generated by lambda-scaffold) as {path}.orig\n"
            )),
            "{out}"
        );
    }
    assert_eq!(
        fs::read_to_string(root.join("producers/by_hand/producers.py.orig")).unwrap(),
        module
    );
    assert_eq!(
        fs::read_to_string(root.join("test/producers/by_hand/test_producers.py.orig")).unwrap(),
        test
    );
    // Now generated and recorded: a second --force keeps nothing more, and an
    // edit after it is kept under the next free name.
    let again = stdout(&ok(
        &root,
        &["add-handler", "producers", "by_hand", "--force"],
    ));
    assert!(!again.contains("kept your files"), "{again}");
    fs::write(
        root.join("producers/by_hand/producers.py"),
        "# edited again\n",
    )
    .unwrap();
    let third = stdout(&ok(
        &root,
        &["add-handler", "producers", "by_hand", "--force"],
    ));
    assert!(
        third.contains("as producers/by_hand/producers.py.orig.2\n"),
        "{third}"
    );
    assert_eq!(
        fs::read_to_string(root.join("producers/by_hand/producers.py.orig.2")).unwrap(),
        "# edited again\n"
    );
    assert_eq!(
        fs::read_to_string(root.join("producers/by_hand/producers.py.orig")).unwrap(),
        module
    );
}
