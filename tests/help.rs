//! `--help` of the binary and of every subcommand, compared with the snapshots in
//! `tests/snapshots/`, so that interface changes show up in review.
//! `UPDATE_SNAPSHOTS=1 cargo test --test help` rewrites them.

mod common;

use std::fs;
use std::path::Path;

use common::*;

fn help(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = scaffold(dir.path())
        .args(args)
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// The subcommands listed by the top-level help, so a new one cannot be forgotten.
fn subcommands(top: &str) -> Vec<String> {
    top.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

fn check_snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.help.txt"));
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        fs::write(&path, actual).unwrap();
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}; run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "`{name} --help` changed; review and run with UPDATE_SNAPSHOTS=1"
    );
}

#[test]
fn help_of_every_command_matches_its_snapshot() {
    let top = help(&["--help"]);
    check_snapshot("lambda-scaffold", &top);
    let commands = subcommands(&top);
    assert!(
        commands.contains(&"new-project".to_string())
            && commands.contains(&"add-handler".to_string()),
        "{commands:?}"
    );
    for command in commands {
        check_snapshot(&command, &help(&[&command, "--help"]));
    }
}
