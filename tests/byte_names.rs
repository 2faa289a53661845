//! File and folder names with any bytes (not UTF-8, newlines, tabs, control
//! characters), end to end: `check` names a name that is not UTF-8 as a
//! problem of its own, shows it escaped and gives its exact bytes in `--json`,
//! and `check --fix` never makes a second folder with a lossy spelling (U+FFFD)
//! of it, nor any other folder.

mod common;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use common::*;
use proptest::prelude::*;
use serde_json::Value;

/// Cases of the property below; each runs the binary three times.
const CASES: u32 = 96;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn check_json(root: &Path) -> Value {
    serde_json::from_slice(&run(root, &["check", "--json"]).stdout)
        .expect("check --json prints JSON")
}

#[test]
fn a_folder_whose_name_is_not_utf8_is_named_and_fix_makes_no_second_folder() {
    let (_dir, root) = project("svc", &[]);
    let name = OsStr::from_bytes(b"caf\xe9");
    let folder = Path::new("utils").join(name);
    fs::create_dir(root.join(&folder)).unwrap();
    fs::write(root.join(&folder).join("helpers.py"), "X = 1\n").unwrap();

    let report = check_json(&root);
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{report:#}");
    assert_eq!(problems[0]["code"], "not-utf8-name");
    assert_eq!(problems[0]["path"], "utils/caf\\xE9");
    assert_eq!(problems[0]["path_hex"], hex(b"utils/caf\xe9"));
    assert_eq!(problems[0]["fixable"], false);
    assert!(
        report.get("root_hex").is_none(),
        "a UTF-8 root has no root_hex"
    );

    let out = run(&root, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "utils/caf\\xE9: the name is not UTF-8, so Python cannot import it; \
         lambda-scaffold checks and repairs nothing in it (rename it)\n"
    );

    let before = snapshot(&root);
    let out = run(&root, &["check", "--fix"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("error: 1 problem left\n"),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(&root), before, "nothing fixed, nothing made");
    assert!(!root.join("utils/caf\u{fffd}").exists());
}

#[test]
fn a_root_that_is_not_utf8_is_given_in_hex_by_list_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let parent = dir.path().join(OsStr::from_bytes(b"w\xffrk"));
    fs::create_dir(&parent).unwrap();
    ok(&parent, &["new-project", "svc", "--no-input"]);
    let root = parent.join("svc");
    let real = fs::canonicalize(&root).unwrap();
    for args in [&["list", "--json"][..], &["check", "--json"]] {
        let out = ok(&root, args);
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            json["root_hex"],
            hex(real.as_os_str().as_bytes()),
            "{args:?}"
        );
        assert!(
            json["root"].as_str().unwrap().ends_with("/w\\xFFrk/svc"),
            "{args:?}"
        );
    }
}

#[test]
fn remove_handler_names_a_file_that_is_not_utf8_without_losing_its_bytes() {
    let (_dir, root) = project("svc", &[]);
    fs::write(
        root.join("producers/log_event")
            .join(OsStr::from_bytes(b"caf\xe9.txt")),
        "mine",
    )
    .unwrap();
    assert_refused(
        &root,
        &root,
        &["remove-handler", "producers", "log_event"],
        "`producers/log_event/caf\\xE9.txt` (added)",
    );
}

#[test]
fn a_name_with_a_newline_or_a_tab_is_shown_on_one_line_and_fixed_under_its_own_name() {
    let (_dir, root) = project("svc", &[]);
    for name in ["a\nb", "tab\there"] {
        fs::create_dir(root.join("utils").join(name)).unwrap();
        fs::write(root.join("utils").join(name).join("helpers.py"), "X = 1\n").unwrap();
    }
    let out = run(&root, &["check"]);
    assert_eq!(
        stdout(&out),
        "utils/a\\nb/__init__.py: missing: its folder holds Python code, so it must be a package\n\
         utils/tab\\there/__init__.py: missing: its folder holds Python code, so it must be a package\n"
    );
    let json = check_json(&root);
    assert_eq!(
        json["problems"][0]["path"], "utils/a\nb/__init__.py",
        "JSON holds it exactly"
    );
    let fixed = stdout(&ok(&root, &["check", "--fix"]));
    assert!(
        fixed.starts_with("fixed utils/a\\nb/__init__.py: created the package marker\n"),
        "{fixed}"
    );
    assert!(root.join("utils/a\nb/__init__.py").is_file());
    assert!(root.join("utils/tab\there/__init__.py").is_file());
}

/// A folder name: any bytes but `/` and NUL (which no file name holds), often
/// not UTF-8, or a UTF-8 string with control characters in it.
fn folder_name() -> impl Strategy<Value = Vec<u8>> {
    let bytes = proptest::collection::vec(
        any::<u8>().prop_filter("one name", |b| *b != b'/' && *b != 0),
        1..10,
    );
    let text = "[a-z\\n\\t\\r\\u{1}\\u{7f}é\\u{fffd} .]{1,8}".prop_map(String::into_bytes);
    prop_oneof![bytes, text].prop_filter("not . or ..", |n| n != b"." && n != b"..")
}

/// Every path (relative, with its kind) of the tree.
fn paths(root: &Path) -> BTreeSet<(PathBuf, String)> {
    snapshot(root)
        .into_iter()
        .map(|(path, (kind, _, _))| (path, kind))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever the name, `check --fix` only ever adds `__init__.py` files to
    /// folders that were there and changes `lambdas.toml`; a name that is not
    /// UTF-8 is reported with its exact bytes.
    #[test]
    fn fix_never_makes_a_folder_whatever_bytes_a_name_holds(
        name in folder_name(),
        under in prop::sample::select(vec!["utils", "producers", "test/consumers"]),
        module in prop::sample::select(vec!["helpers.py", "producers.py"]),
    ) {
        let (_dir, root) = project("svc", &[]);
        let folder = Path::new(under).join(OsStr::from_bytes(&name));
        fs::create_dir(root.join(&folder)).unwrap();
        fs::write(root.join(&folder).join(module), "def helpers(event, context):\n    return 1\n").unwrap();
        let before = paths(&root);

        let report = check_json(&root);
        // Hidden folders (`.venv`, `.x`) are never looked into, whatever their name.
        if std::str::from_utf8(&name).is_err() && !name.starts_with(b".") {
            let named = report["problems"].as_array().unwrap().iter().any(|p| {
                p["code"] == "not-utf8-name" && p["path_hex"] == hex(folder.as_os_str().as_bytes())
            });
            prop_assert!(named, "{:#}", report);
        }

        let out = run(&root, &["check", "--fix"]);
        prop_assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        let after = paths(&root);
        for (path, kind) in after.difference(&before) {
            let marker = kind == "file"
                && path.file_name() == Some(OsStr::new("__init__.py"))
                && before.contains(&(path.parent().unwrap().to_path_buf(), "dir".to_string()));
            prop_assert!(marker, "check --fix made {:?} ({})", path, kind);
        }
        prop_assert!(before.difference(&after).next().is_none(), "nothing disappears");
    }
}
