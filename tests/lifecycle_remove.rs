//! `remove-handler`, end to end: it takes away exactly what `add-handler` made,
//! refuses (changing nothing) while the user's files are in the way, and
//! `--force` removes the folders whole.

mod common;

use std::fs;
use std::path::Path;

use common::*;

fn manifest(root: &Path) -> String {
    fs::read_to_string(root.join("lambdas.toml")).unwrap()
}

#[test]
fn removing_an_added_handler_gives_back_the_tree_as_it_was() {
    for (layout, kind) in [("log-centric", "consumers"), ("web-stack", "handlers")] {
        let (_dir, root) = project("svc", &["--layout", layout]);
        let before = snapshot(&root);
        ok(&root, &["add-handler", kind, "order_placed"]);
        let out = ok(&root, &["remove-handler", kind, "order_placed"]);
        assert_eq!(
            stdout(&out),
            format!(
                "removed {} `order_placed` ({kind}.order_placed):\n  \
                 removed       {kind}/order_placed\n  \
                 removed       test/{kind}/order_placed\n  \
                 removed       .lambda-scaffold/generated/{kind}/order_placed.sha256\n  \
                 replaced      lambdas.toml\n  \
                 replaced      template.yaml\n",
                kind.trim_end_matches('s')
            )
        );
        assert_eq!(
            snapshot(&root),
            before,
            "{layout}: byte-identical, manifest included"
        );
    }
}

#[test]
fn the_kind_marker_and_the_shared_fixture_are_never_removed() {
    let (_dir, root) = project("svc", &["--bare"]);
    ok(&root, &["add-handler", "producers", "only_one"]);
    ok(&root, &["remove-handler", "producers", "only_one"]);
    for kept in [
        "producers/__init__.py",
        "test/producers/__init__.py",
        "test/__init__.py",
        "test/fixtures/eventbridge_event.json",
    ] {
        assert!(root.join(kept).is_file(), "{kept} was removed");
    }
    assert!(!root.join("producers/only_one").exists());
    assert!(!root.join("test/producers/only_one").exists());
    assert!(!manifest(&root).contains("only_one"));
    ok(&root, &["check"]);
    assert_eq!(python_unittest(&root), PROJECT_TESTS);
}

#[test]
fn an_edited_file_is_kept_and_named_and_the_tree_stays_byte_identical() {
    let (_dir, root) = project("svc", &[]);
    let module = root.join("producers/log_event/producers.py");
    let edited = format!("{}\n# my change\n", fs::read_to_string(&module).unwrap());
    fs::write(&module, &edited).unwrap();
    let err = assert_refused(
        &root,
        &root,
        &["remove-handler", "producers", "log_event"],
        "handler `producers/log_event` has files you edited or added: \
         `producers/log_event/producers.py` (edited)\n",
    );
    assert!(err.contains("nothing was removed"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(fs::read_to_string(&module).unwrap(), edited);
}

#[test]
fn files_the_user_added_are_named_too() {
    let (_dir, root) = project("svc", &[]);
    fs::write(root.join("consumers/log_sink/helpers.py"), "X = 1\n").unwrap();
    fs::write(root.join("test/consumers/log_sink/data.json"), "{}\n").unwrap();
    assert_refused(
        &root,
        &root,
        &["remove-handler", "consumer", "log_sink"],
        "has files you edited or added: `consumers/log_sink/helpers.py` (added), \
         `test/consumers/log_sink/data.json` (added)",
    );
}

#[test]
fn bytecode_caches_are_not_the_users_files() {
    let (_dir, root) = project("svc", &[]);
    let cache = root.join("producers/log_event/__pycache__");
    fs::create_dir(&cache).unwrap();
    fs::write(cache.join("producers.cpython-313.pyc"), "\0").unwrap();
    ok(&root, &["remove-handler", "producers", "log_event"]);
    assert!(!root.join("producers/log_event").exists());
}

#[test]
fn force_removes_the_folders_whole() {
    let (_dir, root) = project("svc", &[]);
    fs::write(root.join("producers/log_event/producers.py"), "# mine\n").unwrap();
    fs::create_dir(root.join("test/producers/log_event/data")).unwrap();
    fs::write(root.join("test/producers/log_event/data/x.json"), "{}").unwrap();
    ok(
        &root,
        &["remove-handler", "producers", "log_event", "--force"],
    );
    assert!(!root.join("producers/log_event").exists());
    assert!(!root.join("test/producers/log_event").exists());
    assert!(!manifest(&root).contains("log_event"));
    assert!(manifest(&root).contains("name = \"log_sink\""));
    ok(&root, &["check"]);
    assert_eq!(
        python_unittest(&root),
        PROJECT_TESTS + handler_tests("consumers")
    );
}

#[test]
fn remove_then_add_again_works() {
    let (_dir, root) = project("svc", &[]);
    ok(&root, &["remove-handler", "producers", "log_event"]);
    ok(&root, &["add-handler", "producers", "log_event"]);
    ok(&root, &["check"]);
    assert_eq!(python_unittest(&root), log_centric_example_tests());
    assert_eq!(manifest(&root).matches("name = \"log_event\"").count(), 1);
}

#[test]
fn dry_run_lists_what_would_go_and_removes_nothing() {
    let (_dir, root) = project("svc", &[]);
    let before = snapshot(&root);
    let out = ok(
        &root,
        &["remove-handler", "producers", "log_event", "--dry-run"],
    );
    assert_eq!(snapshot(&root), before);
    let text = stdout(&out);
    assert!(
        text.contains("would remove  producers/log_event\n"),
        "{text}"
    );
    assert!(
        text.contains("would remove  test/producers/log_event\n"),
        "{text}"
    );
    assert!(text.contains("would replace lambdas.toml\n"), "{text}");
    assert!(text.ends_with("dry run: nothing was removed\n"), "{text}");
}

#[test]
fn names_are_normalised_and_singular_kinds_accepted_from_anywhere() {
    let (dir, root) = project("svc", &[]);
    ok(&root, &["add-handler", "producers", "ErrorEvent"]);
    let out = ok(
        &root.join("test/consumers"),
        &["remove-handler", "producer", "ErrorEvent"],
    );
    assert!(
        stdout(&out).starts_with("note: handler name `ErrorEvent` becomes `error_event`"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("removed       ../../producers/error_event\n"));
    assert!(!root.join("producers/error_event").exists());
    ok(
        dir.path(),
        &[
            "remove-handler",
            "consumers",
            "log-sink",
            "--project",
            "svc",
        ],
    );
    assert!(!root.join("consumers/log_sink").exists());
    assert!(staging_dirs(&root).is_empty());
}

#[test]
fn a_stale_entry_whose_folders_are_gone_is_dropped() {
    let (_dir, root) = project("svc", &[]);
    fs::remove_dir_all(root.join("producers/log_event")).unwrap();
    fs::remove_dir_all(root.join("test/producers/log_event")).unwrap();
    let out = ok(&root, &["remove-handler", "producers", "log_event"]);
    assert_eq!(
        stdout(&out),
        "removed producer `log_event` (producers.log_event):\n  \
         removed       .lambda-scaffold/generated/producers/log_event.sha256\n  \
         replaced      lambdas.toml\n  \
         replaced      template.yaml\n"
    );
    ok(&root, &["check"]);
}

#[test]
fn an_adopted_handler_has_no_generated_files_so_only_force_removes_it() {
    let (_dir, root) = project("svc", &["--bare"]);
    fs::create_dir_all(root.join("producers/by_hand")).unwrap();
    fs::write(
        root.join("producers/by_hand/producers.py"),
        "def by_hand(event, context):\n    return None\n",
    )
    .unwrap();
    let _ = run(&root, &["check", "--fix"]);
    assert!(manifest(&root).contains("name = \"by_hand\""));
    assert_refused(
        &root,
        &root,
        &["remove-handler", "producers", "by_hand"],
        "`producers/by_hand/producers.py` (added)",
    );
    ok(
        &root,
        &["remove-handler", "producers", "by_hand", "--force"],
    );
    assert!(!root.join("producers/by_hand").exists());
}

#[test]
fn refuses_handlers_that_are_not_in_the_manifest() {
    let (_dir, root) = project("svc", &[]);
    let err = assert_refused(
        &root,
        &root,
        &["remove-handler", "producers", "nothing_here"],
        "handler `producers/nothing_here` is not in lambdas.toml",
    );
    assert!(err.contains("lambda-scaffold list"), "{err}");
    fs::create_dir_all(root.join("producers/by_hand")).unwrap();
    fs::write(root.join("producers/by_hand/producers.py"), "X = 1\n").unwrap();
    let err = assert_refused(
        &root,
        &root,
        &["remove-handler", "producers", "by_hand", "--force"],
        "handler `producers/by_hand` is not in lambdas.toml",
    );
    assert!(err.contains("check --fix"), "{err}");
    assert_refused(
        &root,
        &root,
        &["remove-handler", "handlers", "index"],
        "kind `handlers` is not part of a log-centric project",
    );
    assert_refused(
        &root,
        &root,
        &["remove-handler", "producers", "../consumers"],
        "contains `.`",
    );
}

#[test]
fn usage_errors_exit_with_code_2() {
    let (_dir, root) = project("svc", &[]);
    assert_usage_errors(
        &root,
        &[
            &["remove-handler"],
            &["remove-handler", "producers"],
            &["remove-handler", "producers", "log_event", "--bogus"],
        ],
    );
}
