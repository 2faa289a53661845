//! `lambdas.toml` as every command reads and edits it, end to end: a file TOML
//! rejects is refused by all of them with the tree unchanged, whatever the
//! fast scanner would have made of it; a handler listed twice is removed
//! whole; CRLF stays CRLF; a byte order mark is refused alike everywhere.
//! (The scanner itself is held to toml_edit's verdict by a property test in
//! `src/manifest/scan.rs`.)

mod common;

use std::fs;
use std::path::Path;

use common::*;

const ENTRY: &str = "[[handlers]]\nkind = \"producers\"\nname = \"log_event\"\n";

fn manifest(root: &Path) -> String {
    fs::read_to_string(root.join("lambdas.toml")).unwrap()
}

/// Every command that reads the manifest, the writing ones included.
const COMMANDS: &[&[&str]] = &[
    &["list"],
    &["list", "--json"],
    &["check"],
    &["check", "--fix"],
    &["add-handler", "producers", "new_one"],
    &["add-handler", "producers", "log_event", "--force"],
    &["remove-handler", "producers", "log_event"],
    &["remove-handler", "producers", "log_event", "--force"],
    &["invoke", "producers", "log_event"],
];

#[test]
fn a_manifest_toml_rejects_is_refused_by_every_command_and_nothing_changes() {
    let (_dir, root) = project("svc", &[]);
    let good = manifest(&root);
    assert!(good.contains(ENTRY), "{good}");
    let cases = [
        (
            "a control character in a comment",
            good.replace(ENTRY, &format!("{ENTRY}# x\u{1}y\n")),
        ),
        (
            "NUL in a comment",
            good.replace(ENTRY, &format!("# \0\n{ENTRY}")),
        ),
        (
            "a bare CR",
            good.replace(ENTRY, &ENTRY.replace("\nname", "\rname")),
        ),
        ("a form feed", good.replace(ENTRY, &format!("\u{c}{ENTRY}"))),
        ("a file ending in a bare CR", format!("{good}\r")),
    ];
    for (what, text) in cases {
        fs::write(root.join("lambdas.toml"), &text).unwrap();
        for args in COMMANDS {
            let err = assert_refused(
                &root,
                &root,
                args,
                "lambdas.toml` is not valid TOML at line",
            );
            assert!(
                err.contains("hint: fix the file by hand"),
                "{what}, {args:?}: {err}"
            );
        }
        assert_eq!(manifest(&root), text, "{what}");
        assert!(root.join("producers/log_event").is_dir(), "{what}");
    }
}

#[test]
fn a_byte_order_mark_is_refused_alike_by_every_command() {
    let (_dir, root) = project("svc", &[]);
    let text = format!("\u{feff}{}", manifest(&root));
    fs::write(root.join("lambdas.toml"), &text).unwrap();
    for args in COMMANDS {
        assert_refused(
            &root,
            &root,
            args,
            "lambdas.toml` starts with a byte order mark (U+FEFF), which TOML readers such as Python's tomllib refuse",
        );
    }
    assert_eq!(manifest(&root), text);
}

#[test]
fn a_handler_listed_twice_is_removed_with_every_copy_of_its_entry() {
    let (_dir, root) = project("svc", &[]);
    let text = format!("{}\n{ENTRY}", manifest(&root));
    fs::write(root.join("lambdas.toml"), &text).unwrap();
    let out = run(&root, &["check"]);
    assert!(stdout(&out).contains("lists the handler `producers.log_event` twice"));
    ok(&root, &["remove-handler", "producers", "log_event"]);
    assert!(
        !manifest(&root).contains("log_event"),
        "{}",
        manifest(&root)
    );
    assert!(!root.join("producers/log_event").exists());
    ok(&root, &["check"]);
}

#[test]
fn a_crlf_manifest_keeps_crlf_through_add_remove_and_fix() {
    let (_dir, root) = project("svc", &[]);
    let crlf = manifest(&root).replace('\n', "\r\n");
    fs::write(root.join("lambdas.toml"), &crlf).unwrap();
    let bare_lf = |text: &str| text.matches('\n').count() - text.matches("\r\n").count();

    ok(&root, &["add-handler", "producers", "error_event"]);
    let added = manifest(&root);
    assert!(added.starts_with(&crlf));
    assert!(
        added.ends_with("\r\n[[handlers]]\r\nkind = \"producers\"\r\nname = \"error_event\"\r\n"),
        "{added:?}"
    );
    assert_eq!(bare_lf(&added), 0);
    let listed = stdout(&ok(&root, &["list"]));
    assert!(listed.contains("producers.error_event"), "{listed}");

    ok(&root, &["remove-handler", "producers", "error_event"]);
    assert_eq!(manifest(&root), crlf, "back to what it was, byte for byte");

    // check --fix adopts a hand-made handler into the manifest: CRLF too.
    with_adoptable_folder(&root);
    ok(&root, &["check", "--fix"]);
    let fixed = manifest(&root);
    assert!(fixed.contains("name = \"by_hand\"\r\n"), "{fixed:?}");
    assert_eq!(bare_lf(&fixed), 0);
}

/// The commands that would change `lambdas.toml` in a project holding the
/// hand-made, adoptable folder `producers/by_hand`, dry runs included.
const MANIFEST_WRITERS: &[&[&str]] = &[
    &["add-handler", "producers", "new_one"],
    &["add-handler", "producers", "new_one", "--dry-run"],
    &["remove-handler", "producers", "log_event"],
    &["remove-handler", "producers", "log_event", "--force"],
    &["remove-handler", "producers", "log_event", "--dry-run"],
    &["check", "--fix"],
    &["check", "--fix", "--dry-run"],
];

fn with_adoptable_folder(root: &Path) {
    for file in [
        "producers/by_hand/__init__.py",
        "producers/by_hand/producers.py",
        "test/producers/by_hand/__init__.py",
        "test/producers/by_hand/test_producers.py",
    ] {
        fs::create_dir_all(root.join(file).parent().unwrap()).unwrap();
        fs::write(
            root.join(file),
            "def by_hand(event, context):\n    return None\n",
        )
        .unwrap();
    }
}

/// Reading commands follow the link or read the read-only file as any other.
fn reading_commands_work(root: &Path) {
    let listed = stdout(&ok(root, &["list"]));
    assert!(listed.contains("producers.log_event"), "{listed}");
    let out = run(root, &["check"]);
    assert!(
        stdout(&out).contains("producers/by_hand: the handler"),
        "{}",
        stdout(&out)
    );
    ok(root, &["invoke", "consumers", "log_sink"]);
}

#[test]
fn a_symlinked_manifest_is_read_through_and_never_changed_by_any_command() {
    let (_dir, root) = project("svc", &[]);
    with_adoptable_folder(&root);
    fs::rename(root.join("lambdas.toml"), root.join("shared.toml")).unwrap();
    std::os::unix::fs::symlink("shared.toml", root.join("lambdas.toml")).unwrap();
    reading_commands_work(&root);
    for args in MANIFEST_WRITERS {
        let err = assert_refused(
            &root,
            &root,
            args,
            "error: `lambdas.toml` is a symbolic link (to `shared.toml`); lambda-scaffold changes files only in place, never through a link\n",
        );
        assert!(!err.contains("changed while"), "{args:?}: {err}");
    }
    // What does not touch the manifest still works: a missing marker is made.
    fs::remove_dir_all(root.join("producers/by_hand")).unwrap();
    fs::remove_dir_all(root.join("test/producers/by_hand")).unwrap();
    fs::remove_file(root.join("test/producers/__init__.py")).unwrap();
    ok(&root, &["check", "--fix"]);
    assert!(root.join("lambdas.toml").is_symlink());
}

#[test]
fn a_read_only_manifest_is_refused_by_every_command_that_would_change_it() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, root) = project("svc", &[]);
    with_adoptable_folder(&root);
    let manifest = root.join("lambdas.toml");
    fs::set_permissions(&manifest, fs::Permissions::from_mode(0o444)).unwrap();
    reading_commands_work(&root);
    for args in MANIFEST_WRITERS {
        assert_refused(
            &root,
            &root,
            args,
            "error: `lambdas.toml` is read-only\nhint: make it writable (`chmod u+w lambdas.toml`)",
        );
    }
    // Made writable with a mode of the user's: an edit keeps that mode.
    fs::set_permissions(&manifest, fs::Permissions::from_mode(0o600)).unwrap();
    ok(&root, &["remove-handler", "producers", "log_event"]);
    ok(&root, &["add-handler", "producers", "new_one"]);
    run(&root, &["check", "--fix"]);
    assert!(fs::read_to_string(&manifest).unwrap().contains("by_hand"));
    let mode = fs::metadata(&manifest).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// The problems `check --json` reports, as (code, message).
fn problems(root: &Path) -> Vec<(String, String)> {
    let out = run(root, &["check", "--json"]);
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let text = |key: &str| p[key].as_str().unwrap().to_string();
            (text("code"), text("message"))
        })
        .collect()
}

#[test]
fn a_setting_build_sh_does_not_read_as_toml_is_named_by_check_and_fixed_when_safe() {
    let (_dir, root) = project("svc", &[]);
    let good = manifest(&root);
    let python = "python = \"3.13\"\n";
    let list = |root: &Path| {
        std::process::Command::new("bash")
            .args(["build.sh", "--list"])
            .current_dir(root)
            .output()
            .unwrap()
    };
    // (what replaces the python line, the line build.sh names, the plain
    // lines check --fix writes, if it may)
    for (written, line, fixed) in [
        ("python = \"\"\"3.13\"\"\"\n", Some(6), Some(python)),
        (
            "python = '''3.13'''  # the runtime\n",
            Some(6),
            Some("python = \"3.13\"  # the runtime\n"),
        ),
        ("python = \"3.1\\u0033\"\n", Some(6), Some(python)),
        ("python = \"\"\"\n3.13\"\"\"\n", Some(6), Some(python)),
        (
            "python = \"3.13\"\ndependencies = '''bundle'''\n",
            Some(7),
            Some("python = \"3.13\"\ndependencies = \"bundle\"\n"),
        ),
        // A comment inside the value would be lost; a string is no boolean;
        // a quoted key is not the plain form: each left to a person.
        ("python = \"\"\"3.13 # why\"\"\"\n", Some(6), None),
        ("python = \"3.13\"\nbytecode = \"false\"\n", Some(7), None),
        ("\"python\" = \"3.13\"\n", Some(6), None),
        // A line of a value over several lines that build.sh reads as a
        // setting, or takes for a table (hiding what follows from it).
        (
            "python = \"3.13\"\nnotes = \"\"\"\npython = \"3.12\"\n\"\"\"\n",
            None,
            None,
        ),
        ("notes = [\n  [\"x\"],\n]\npython = \"3.13\"\n", None, None),
    ] {
        let text = good.replacen(python, written, 1);
        assert_ne!(text, good);
        fs::write(root.join("lambdas.toml"), &text).unwrap();
        let out = list(&root);
        let found = problems(&root);
        let codes: Vec<&str> = found.iter().map(|(code, _)| code.as_str()).collect();
        assert!(codes.contains(&"not-plain-setting"), "{written}: {found:?}");
        match line {
            Some(line) => {
                assert_eq!(out.status.code(), Some(1), "{written}");
                let at = format!("`lambdas.toml` line {line}: ");
                assert!(stderr(&out).contains(&at), "{written}: {}", stderr(&out));
                let named = format!("line {line}: ");
                assert!(
                    found.iter().any(|(_, message)| message.starts_with(&named)),
                    "{written}: {found:?}"
                );
            }
            // build.sh misreads the setting; check names where.
            None => assert!(
                found
                    .iter()
                    .any(|(_, message)| message.contains("build.sh's line reader reads")),
                "{written}: {found:?}"
            ),
        }
        let Some(out) = check_fix(&root, fixed.is_some(), written) else {
            continue;
        };
        assert!(
            out.contains("rewrote the value in the plain one-line form"),
            "{written}: {out}"
        );
        let plain = fixed.unwrap_or_default();
        assert_eq!(
            manifest(&root),
            good.replacen(python, plain, 1),
            "{written}"
        );
        ok(&root, &["check"]);
        assert!(list(&root).status.success(), "{written}");
    }
}
