//! Property tests over hostile names: whatever the user types, an accepted
//! handler name is a safe Python identifier, normalising is idempotent, nothing
//! panics, and a sample of accepted names generates code Python compiles and runs.

mod common;

use std::path::Path;
use std::process::Command;

use lambda_scaffold::names::{HandlerName, MAX_NAME_LEN, ProjectName};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

use common::*;

/// Strings that look like names, plus the characters attackers and typos bring.
fn name_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z_][A-Za-z0-9_-]{0,70}",
        "[A-Za-z0-9_ ./\\\\$;|&`'\"<>(){}*?!~#%=:,\\-]{0,20}",
        any::<String>(),
    ]
}

fn is_ascii_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn accepted_handler_names_are_short_ascii_identifiers(raw in name_like()) {
        if let Ok(parsed) = HandlerName::parse(&raw) {
            let name = parsed.name.as_str();
            prop_assert!(is_ascii_identifier(name), "{name:?}");
            prop_assert!(name.len() <= MAX_NAME_LEN);
            prop_assert_eq!(name, name.to_lowercase());
        }
    }

    #[test]
    fn normalising_is_idempotent(raw in name_like()) {
        if let Ok(parsed) = HandlerName::parse(&raw) {
            let again = HandlerName::parse(parsed.name.as_str()).expect("a normalised name is accepted");
            prop_assert_eq!(&again.name, &parsed.name);
            prop_assert!(again.renamed_from.is_none());
        }
    }

    #[test]
    fn accepted_project_names_are_one_safe_folder_name(raw in name_like()) {
        if let Ok(name) = ProjectName::parse(&raw) {
            let name = name.as_str();
            prop_assert!(!name.is_empty() && name.len() <= MAX_NAME_LEN);
            prop_assert!(!name.starts_with(['-', '.']));
            prop_assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')), "{name:?}");
            prop_assert!(name != "." && name != "..");
        }
    }
}

/// Python's own verdict on a batch of accepted names: identifiers, and neither
/// hard nor soft keywords.
#[test]
fn python_agrees_that_accepted_names_are_identifiers_and_not_keywords() {
    let python = tool("python3").expect("python3");
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut names = Vec::new();
    while names.len() < 2000 {
        let raw = name_like().new_tree(&mut runner).unwrap().current();
        if let Ok(parsed) = HandlerName::parse(&raw) {
            names.push(parsed.name.to_string());
        }
    }
    let script = "import keyword, sys\nbad = [n for n in sys.stdin.read().split() if not n.isidentifier() or keyword.iskeyword(n) or keyword.issoftkeyword(n)]\nprint(bad)\nsys.exit(1 if bad else 0)";
    let out = output_with_stdin(
        Command::new(python).args(["-c", script]),
        names.join("\n").as_bytes(),
    );
    assert!(out.status.success(), "python rejects: {}", stdout(&out));
}

/// A sample of accepted names, each added as a handler: the project compiles
/// (py_compile) and its tests pass.
#[test]
fn a_sample_of_accepted_names_generates_modules_python_compiles_and_runs() {
    let (_dir, root) = project("props", &["--bare"]);
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut added = 0;
    let mut seen = std::collections::BTreeSet::new();
    while added < 24 {
        let raw = "[A-Za-z_][A-Za-z0-9_-]{0,63}"
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let Ok(parsed) = HandlerName::parse(&raw) else {
            continue;
        };
        if !seen.insert(parsed.name.clone()) {
            continue;
        }
        let kind = if added % 2 == 0 {
            "producers"
        } else {
            "consumers"
        };
        ok(&root, &["add-handler", kind, "--", &raw]);
        added += 1;
    }
    let python = tool("python3").expect("python3");
    let out = Command::new(&python)
        .args(["-m", "compileall", "-q", "producers", "consumers", "test"])
        .current_dir(&root)
        .env("PYTHONPYCACHEPREFIX", root.join("target/pycache"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(
        python_unittest(Path::new(&root)),
        PROJECT_TESTS + 12 * (handler_tests("producers") + handler_tests("consumers"))
    );
}

proptest! {
    /// No input makes a parser panic: every string is accepted or refused with a message.
    #[test]
    fn no_string_makes_a_parser_panic(raw in any::<String>()) {
        use lambda_scaffold::layout::{Kind, Layout, PythonVersion};
        for layout in [Layout::LogCentric, Layout::WebStack] {
            if let Err(e) = Kind::parse(&raw, layout) {
                prop_assert!(!e.message.is_empty());
            }
        }
        if let Err(e) = PythonVersion::parse(&raw) {
            prop_assert!(e.message.contains('`'));
        }
        for e in [HandlerName::parse(&raw).err(), ProjectName::parse(&raw).err()].into_iter().flatten() {
            prop_assert!(e.message.contains('`') || e.message.ends_with("is empty"), "{}", e.message);
            prop_assert!(e.hint.is_some());
        }
    }
}
