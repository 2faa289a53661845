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
