//! Generated manifest texts for the property tests of [`super::scan`] and
//! [`super::edit`]: valid manifests in the forms people write (comments, blank
//! lines, either quote, either key order, LF or CRLF), and mutations of them
//! that land anywhere: inserted, deleted and replaced characters drawn from
//! what TOML treats specially (control characters, CR, form feed, quotes,
//! brackets, `#`, `=`, non-ASCII spaces, a byte order mark), and repeated lines.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};

/// Cases each property runs: thousands, and still about a second.
pub(super) const CASES: u32 = 10_000;

/// Characters the mutations insert.
const TRICKY: &[char] = &[
    '\0', '\u{1}', '\u{8}', '\t', '\n', '\u{b}', '\u{c}', '\r', '\u{1f}', ' ', '"', '\'', '#', '=',
    '[', ']', '\\', '.', 'a', '_', '\u{7f}', '\u{80}', '\u{a0}', '\u{feff}', 'é', '\u{2028}',
];

#[derive(Debug, Clone)]
enum Mutation {
    Insert(Index, char),
    Delete(Index),
    Replace(Index, char),
    RepeatLine(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let tricky = || select(TRICKY);
    prop_oneof![
        (any::<Index>(), tricky()).prop_map(|(at, c)| Mutation::Insert(at, c)),
        any::<Index>().prop_map(Mutation::Delete),
        (any::<Index>(), tricky()).prop_map(|(at, c)| Mutation::Replace(at, c)),
        any::<Index>().prop_map(Mutation::RepeatLine),
    ]
}

fn mutate(text: &str, mutation: &Mutation) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    match mutation {
        Mutation::Insert(at, c) => chars.insert(at.index(chars.len() + 1), *c),
        Mutation::Delete(at) if !chars.is_empty() => {
            chars.remove(at.index(chars.len()));
        }
        Mutation::Replace(at, c) if !chars.is_empty() => {
            let at = at.index(chars.len());
            chars[at] = *c;
        }
        Mutation::RepeatLine(at) => {
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            if lines.is_empty() {
                return text.to_string();
            }
            let at = at.index(lines.len());
            return lines[..=at].iter().chain(&lines[at..]).copied().collect();
        }
        _ => {}
    }
    chars.into_iter().collect()
}

/// A string value as users write it: either quote, sometimes a `#` inside.
fn string_value(words: &'static [&'static str]) -> impl Strategy<Value = String> {
    (select(words), any::<bool>()).prop_map(|(word, double)| {
        if double {
            format!("\"{word}\"")
        } else {
            format!("'{word}'")
        }
    })
}

/// Nothing, or a comment after a value or header.
fn trailing_comment() -> impl Strategy<Value = &'static str> {
    select(&["", "", "  # note", "\t#", " # ü ok"][..])
}

/// `requirements` values: one-line arrays of plain strings (read by the
/// scanner) and others (read by toml_edit).
const REQUIREMENTS: &[&str] = &[
    "[\"requests\"]",
    "[]",
    "[ ]",
    "['requests', \"pydantic\",]",
    "[\"a\" , 'b']  # only these",
    "[\"a\\u0062\"]",
    "[1]",
    "\"requests\"",
    "[\"a\", [\"b\"]]",
];

fn entry() -> impl Strategy<Value = String> {
    let kind = string_value(&["producers", "consumers", "handlers", "widgets"]);
    let name = string_value(&["log_event", "a", "error_event", "a#b", "", "x y"]);
    let event = string_value(&["sqs", "http-api", "s3", "pigeon"]);
    (
        select(&["", "", "\n", "# the next one\n", "  \n"][..]),
        trailing_comment(),
        kind,
        name,
        trailing_comment(),
        any::<bool>(),
        select(&["", " ", "\t"][..]),
        proptest::option::of(event),
        proptest::option::of(select(REQUIREMENTS)),
    )
        .prop_map(
            |(before, header_note, kind, name, note, name_first, indent, event, requirements)| {
                let kind = format!("{indent}kind = {kind}{note}\n");
                let name = format!("{indent}name={name}\n");
                let (first, second) = if name_first {
                    (name, kind)
                } else {
                    (kind, name)
                };
                // The tool writes `event` last; people may put it anywhere.
                let event = event.map_or(String::new(), |e| format!("{indent}event = {e}\n"));
                let requirements =
                    requirements.map_or(String::new(), |r| format!("{indent}requirements = {r}\n"));
                format!("{before}[[handlers]]{header_note}\n{first}{second}{event}{requirements}")
            },
        )
}

/// Lines of `python`, then of `arch`, then of other settings, as people
/// write them: plain (`key = "value"`, `bytecode = true`), in other TOML
/// forms `build.sh` refuses, and values over several lines holding a line it
/// reads as a setting or takes for a table. Each ends with its newline.
const PYTHON_LINES: &[&str] = &[
    "python = \"3.13\"\n",
    "python='3.12'  # runtime\n",
    "python = \"\"\"3.13\"\"\"\n",
    "python = '''3.12'''\n",
    "python = \"3.1\\u0033\"\n",
    "python = \"\"\"\n3.13\"\"\"\n",
    "\"python\" = \"3.13\"\n",
];
const ARCH_LINES: &[&str] = &[
    "arch = \"x86_64\"\n",
    "arch = 'arm64' # note\n",
    "arch = \"\"\"arm64\"\"\"  # why\n",
];
const OTHER_SETTING_LINES: &[&str] = &[
    "dependencies = \"layer\"\n",
    "dependencies = '''bundle'''\n",
    "bytecode = false\n",
    "bytecode = true # on\n",
    "bytecode = \"false\"\n",
    "notes = \"\"\"\npython = \"3.12\"\n\"\"\"\n",
    "notes = '''\n  bytecode = false\n'''\n",
    "notes = [\n  [\"x\"],\n]\n",
    "notes = \"\"\"\n[x]\n\"\"\"\n",
    "# python = \"3.11\"\n",
    "name = \"svc\"\n",
    "\n",
];

/// Settings: a `python` and an `arch` line and up to three others, in any
/// order (a text that sets a key twice is one TOML rejects).
pub(super) fn setting_lines() -> impl Strategy<Value = String> {
    (
        select(PYTHON_LINES),
        select(ARCH_LINES),
        vec(select(OTHER_SETTING_LINES), 0..4),
    )
        .prop_map(|(python, arch, mut lines)| {
            lines.extend([python, arch]);
            lines
        })
        .prop_shuffle()
        .prop_map(|lines| lines.concat())
}

/// A valid manifest: settings, then up to five entries, LF or CRLF.
fn valid_manifest() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            select(&["", "# my notes\n", "name = \"svc\"  # the project\n"][..])
                .prop_map(str::to_string),
            setting_lines(),
        ],
        select(&["log-centric", "web-stack"][..]),
        vec(entry(), 0..5),
        any::<bool>(),
    )
        .prop_map(|(head, layout, entries, crlf)| {
            let text = format!(
                "{head}schema_version = 1\nlayout = \"{layout}\"\n\n{}",
                entries.concat()
            );
            if crlf {
                text.replace('\n', "\r\n")
            } else {
                text
            }
        })
}

/// A valid manifest, then up to three mutations (none in a quarter of cases).
pub(super) fn manifest_texts() -> impl Strategy<Value = String> {
    let mutations = prop_oneof![1 => Just(Vec::new()), 3 => vec(mutation(), 1..4)];
    (valid_manifest(), mutations).prop_map(|(text, mutations)| {
        mutations
            .iter()
            .fold(text, |text, mutation| mutate(&text, mutation))
    })
}
