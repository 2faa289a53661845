//! `lambdas.toml`, the project manifest: its settings and the list of handlers.
//!
//! The model and its queries live here; [`scan`] reads the `[[handlers]]`
//! entries fast, and [`edit`] adds and removes them, keeping the user's
//! comments, formatting and line endings. Parsing and editing are pure; the
//! commands read and write the file.
//!
//! Each `[[handlers]]` entry is a `kind`, a `name` and, when it is not the
//! kind's default, the `event` source it was written for; in bundle mode it
//! may list the packages its zip needs (`requirements = ["requests"]`, see
//! [`crate::packages`]). What was generated for it is recorded beside the
//! manifest (see [`crate::generated`]).
//!
//! A manifest that starts with a UTF-8 byte order mark is refused by every
//! command, as Python's `tomllib` refuses it: the tools of the generated
//! project must read the same file the same way.

#[cfg(test)]
mod cases;
mod edit;
mod scan;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use toml_edit::{DocumentMut, Item, Table};

use crate::error::UserError;
use crate::event_source::EventSource;
use crate::layout::{Dependencies, Kind, Layout};
use crate::mapped::Text;
use crate::names::HandlerName;
use crate::packages::PackageName;
use crate::plan::{IfExists, PlannedFile};

pub const MANIFEST_FILE: &str = "lambdas.toml";

/// The manifest schema this version of the tool reads and writes.
pub const SCHEMA_VERSION: i64 = 1;

/// A parsed manifest: its text exactly as written, its settings and entries.
///
/// Reading a project with thousands of handlers must stay fast (see
/// BENCHMARKS.md), so the settings before the first table are parsed with
/// toml_edit while the `[[handlers]]` entries, when they are written in the
/// plain form this tool writes (string values, comments, blank lines), are read
/// by a line scanner ([`scan`]). Anything else in them, and any error, goes
/// through the full TOML parser, so what is accepted and the errors reported
/// are the same (a property test holds the scanner to that).
/// Adding an entry appends its text; other edits go through toml_edit.
#[derive(Debug, Clone)]
pub struct Manifest {
    text: Text,
    /// Where the `[[handlers]]` tables start in `text` when the scanner can
    /// read them; `None` when toml_edit read them into `parsed`.
    plain_from: Option<usize>,
    parsed: Vec<HandlerEntry>,
    /// `handlers()`, built on first use: `add-handler` only needs to know
    /// whether one handler is listed, which `listed` answers.
    entries: OnceLock<Vec<HandlerEntry>>,
    /// The sorted [`entry_key`]s of all entries: whether a handler is listed
    /// without another pass over the text.
    listed: Vec<u64>,
    settings: BTreeMap<String, String>,
    /// The settings' lines `build.sh` refuses or reads otherwise than TOML.
    settings_build_refuses: Vec<BuildRefusal>,
    pub layout: Layout,
}

/// A line of the manifest that the generated `build.sh`'s line reader
/// refuses, or reads otherwise than TOML does, so that every build stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildRefusal {
    /// Numbered from 1.
    pub line: usize,
    /// The key build.sh reads there: an entry's (`kind`, `name`,
    /// `requirements`) or a setting ([`BuildRefusal::is_setting`]).
    pub key: &'static str,
    /// `None` when the line is not in the plain form build.sh reads;
    /// otherwise it reads the line plainly, but its value of the setting is
    /// not TOML's: the line is part of a value written over several lines,
    /// or one such line hid the setting from it.
    pub misread: Option<Misread>,
}

/// The values of a setting as build.sh and as TOML read it (`None`: none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misread {
    pub build: Option<String>,
    pub toml: Option<String>,
}

impl BuildRefusal {
    /// Whether the key is a setting (before the first table), not an entry's.
    pub fn is_setting(&self) -> bool {
        scan::BUILD_SETTINGS.contains(&self.key)
    }
}

/// One `[[handlers]]` entry, as written (validated by [`crate::lambdas`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandlerEntry {
    pub kind: String,
    pub name: String,
    /// The `event` value; `None` when the entry has none (the kind's default).
    pub event: Option<String>,
    /// The `requirements` value; `None` when the entry has none (its zip
    /// holds every locked package).
    pub requirements: Option<Requirements>,
}

/// The `requirements` value of an entry, as written (validated by
/// [`HandlerEntry::packages`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirements {
    /// An array of strings.
    Names(Vec<String>),
    /// Any other value, as its TOML text (`check` reports it).
    Other(String),
}

impl HandlerEntry {
    /// The entry's event source: its `event`, or the kind's default without
    /// one; `Err` with the value when it names no source.
    pub fn event_source(&self, kind: Kind) -> Result<EventSource, &str> {
        match &self.event {
            None => Ok(EventSource::default_for(kind)),
            Some(value) => EventSource::from_manifest(value).ok_or(value.as_str()),
        }
    }

    /// The packages the entry lists, `None` without `requirements`; `Err`
    /// with the reason when the value is not an array of distinct package
    /// names.
    pub fn packages(&self) -> Result<Option<Vec<PackageName>>, String> {
        match &self.requirements {
            None => Ok(None),
            Some(Requirements::Other(text)) => Err(format!(
                "has `requirements = {text}`, which is not an array of package names"
            )),
            Some(Requirements::Names(names)) => PackageName::parse_list(names).map(Some),
        }
    }
}

/// The byte order mark some Windows editors put at the start of a UTF-8 file.
const BOM: char = '\u{feff}';

impl Manifest {
    /// Parses the manifest's text; `path` is only used in error messages.
    pub fn parse(text: impl Into<Text>, path: &Path) -> Result<Self, UserError> {
        let text = text.into();
        if text.starts_with(BOM) {
            return Err(UserError::new(format!(
                "`{}` starts with a byte order mark (U+FEFF), which TOML readers such as Python's tomllib refuse",
                path.display()
            ))
            .hint("save the file as UTF-8 without a byte order mark; nothing was changed"));
        }
        let mut listed = Vec::new();
        let scanned = scan::scan(&text, |found| {
            listed.push(entry_key(found.kind, found.name));
            true
        });
        let (doc, plain_from, parsed) = match scanned {
            Some((doc, body_start)) => (doc, Some(body_start), Vec::new()),
            None => {
                let doc = parse_document(&text, path)?;
                let parsed = entries_of(&doc);
                listed = parsed.iter().map(|e| entry_key(&e.kind, &e.name)).collect();
                (doc, None, parsed)
            }
        };
        listed.sort_unstable();
        let invalid = |what: &str| {
            UserError::new(format!("`{}` {what}", path.display()))
                .hint("compare it with a freshly generated project's lambdas.toml")
        };
        match doc.get("schema_version").and_then(Item::as_integer) {
            Some(SCHEMA_VERSION) => {}
            Some(v) if v > SCHEMA_VERSION => {
                return Err(UserError::new(format!(
                    "`{}` has schema_version {v}, newer than this lambda-scaffold understands ({SCHEMA_VERSION})",
                    path.display()
                ))
                .hint("upgrade lambda-scaffold"));
            }
            _ => return Err(invalid("has no valid `schema_version`")),
        }
        let layout = doc
            .get("layout")
            .and_then(Item::as_str)
            .and_then(Layout::from_manifest)
            .ok_or_else(|| invalid("has no valid `layout` (`log-centric` or `web-stack`)"))?;
        if doc
            .get("handlers")
            .is_some_and(|item| !item.is_array_of_tables())
        {
            return Err(invalid(
                "has a `handlers` key that is not a list of [[handlers]] tables",
            ));
        }
        let settings = doc
            .iter()
            .filter_map(|(key, item)| Some((key.to_string(), item.as_str()?.to_string())))
            .collect();
        let settings_build_refuses = settings_build_refuses(&text, &doc);
        Ok(Self {
            text,
            plain_from,
            parsed,
            entries: OnceLock::new(),
            listed,
            settings,
            settings_build_refuses,
            layout,
        })
    }

    /// The lines `build.sh` refuses, in order: those of the settings it
    /// reads ([`settings_build_refuses`]), then those of `[[handlers]]`
    /// entries where one of the keys it reads is not in the plain one-line
    /// form it reads. No entry's when the scanner read them all: its plain
    /// form is one `build.sh` reads.
    pub fn lines_build_refuses(&self) -> Vec<BuildRefusal> {
        let mut found = self.settings_build_refuses.clone();
        if self.plain_from.is_none() {
            let entries = scan::build_reading(&self.text, true).refused;
            found.extend(
                entries
                    .into_iter()
                    .filter(|(_, key)| scan::BUILD_KEYS.contains(key))
                    .map(|(line, key)| BuildRefusal {
                        line,
                        key,
                        misread: None,
                    }),
            );
        }
        found
    }

    /// A string setting such as `python` or `arch`.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(String::as_str)
    }

    /// Where the locked dependencies go; `None` for a value the tool does
    /// not know (`check` names it).
    pub fn dependencies(&self) -> Option<Dependencies> {
        Dependencies::from_manifest(self.setting(Dependencies::KEY))
    }

    pub fn handlers(&self) -> &[HandlerEntry] {
        self.entries.get_or_init(|| match self.plain_from {
            Some(start) => {
                let mut all = Vec::new();
                // Read by the same scanner when parsed, so it cannot fail here.
                let _ = scan::scan_entries(&self.text[start..], |found| {
                    all.push(found.to_entry());
                    true
                });
                all
            }
            None => self.parsed.clone(),
        })
    }

    pub fn has_handler(&self, kind: Kind, name: &HandlerName) -> bool {
        let key = entry_key(kind.as_str(), name.as_str());
        // Equal keys are confirmed by a scan: two names could share a key.
        self.listed.binary_search(&key).is_ok() && self.position(kind, name).is_some()
    }

    /// Calls `each` with every entry, in order, until it returns false; an
    /// entry read by toml_edit comes without its `requirements` (which
    /// [`Manifest::handlers`] has).
    fn each_entry<'a>(&'a self, mut each: impl FnMut(scan::Entry<'a>) -> bool) {
        match self.plain_from {
            Some(start) => {
                // Read by the same scanner when parsed, so it cannot fail here.
                let _ = scan::scan_entries(&self.text[start..], each);
            }
            None => {
                for entry in &self.parsed {
                    let found = scan::Entry {
                        kind: &entry.kind,
                        name: &entry.name,
                        event: entry.event.as_deref(),
                        requirements: None,
                    };
                    if !each(found) {
                        break;
                    }
                }
            }
        }
    }

    /// The event source of a listed handler: its entry's, else the kind's default.
    pub fn event_of(&self, kind: Kind, name: &HandlerName) -> EventSource {
        let mut event = None;
        self.each_entry(|found| {
            if found.name == name.as_str() && found.kind == kind.as_str() {
                event = found.event.and_then(EventSource::from_manifest);
                return false;
            }
            true
        });
        event.unwrap_or(EventSource::default_for(kind))
    }

    /// The index of the handler's first entry.
    fn position(&self, kind: Kind, name: &HandlerName) -> Option<usize> {
        let (mut index, mut found) = (0, None);
        self.each_entry(|entry| {
            if entry.name == name.as_str() && entry.kind == kind.as_str() {
                found = Some(index);
                return false;
            }
            index += 1;
            true
        });
        found
    }

    pub fn to_text(&self) -> &str {
        &self.text
    }

    /// The manifest as a file of a plan.
    pub fn planned_file(&self, if_exists: IfExists) -> PlannedFile {
        PlannedFile {
            path: MANIFEST_FILE.into(),
            contents: self.text.as_bytes().to_vec(),
            executable: false,
            if_exists,
        }
    }

    /// The line ending the file uses, judged by its first line: what edits
    /// write, so that a CRLF manifest stays CRLF.
    fn line_ending(&self) -> &'static str {
        match self.text.find('\n') {
            Some(at) if self.text[..at].ends_with('\r') => "\r\n",
            _ => "\n",
        }
    }
}

/// A 64-bit FNV-1a hash of an entry's kind and name.
fn entry_key(kind: &str, name: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in kind.bytes().chain([b'.']).chain(name.bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn parse_document(text: &str, path: &Path) -> Result<DocumentMut, UserError> {
    text.parse().map_err(|e: toml_edit::TomlError| {
        let (line, column) = e
            .span()
            .map(|s| line_and_column(text, s.start))
            .unwrap_or((1, 1));
        UserError::new(format!(
            "`{}` is not valid TOML at line {line}, column {column}: {}",
            path.display(),
            e.message().trim_end_matches('\n')
        ))
        .hint("fix the file by hand; nothing was changed")
    })
}

/// The lines of the settings `build.sh` reads ([`scan::BUILD_SETTINGS`])
/// that it refuses, or where its value is not TOML's (`doc`): what it reads
/// must be what every other reader of the manifest reads.
fn settings_build_refuses(text: &str, doc: &DocumentMut) -> Vec<BuildRefusal> {
    let reading = scan::build_reading(text, false);
    let mut found: Vec<BuildRefusal> = reading
        .refused
        .iter()
        .map(|(line, key)| BuildRefusal {
            line: *line,
            key,
            misread: None,
        })
        .collect();
    for key in scan::BUILD_SETTINGS {
        if reading.refused.iter().any(|(_, refused)| *refused == key) {
            continue;
        }
        let toml = doc.get(key).map(|item| match item.as_value() {
            Some(toml_edit::Value::String(text)) => text.value().clone(),
            Some(value) => {
                let mut bare = value.clone();
                bare.decor_mut().clear();
                bare.to_string()
            }
            None => item.to_string().trim().to_string(),
        });
        let read = reading.settings.iter().find(|(read, ..)| *read == key);
        let build = read.map(|(_, _, value)| value.to_string());
        let default = scan::build_default(key);
        if build.as_deref().or(default) == toml.as_deref().or(default) {
            continue;
        }
        // Read on a line of another value, or hidden after a line build.sh
        // took for a table: named where TOML has it.
        let line = match read {
            Some((_, line, _)) => *line,
            None => scan::lines_of_key(text, reading.head_lines, key)
                .next()
                .unwrap_or(reading.head_lines + 1),
        };
        found.push(BuildRefusal {
            line,
            key,
            misread: Some(Misread { build, toml }),
        });
    }
    found.sort_by_key(|refusal| refusal.line);
    found
}

/// The `[[handlers]]` entries of a document read by toml_edit.
fn entries_of(doc: &DocumentMut) -> Vec<HandlerEntry> {
    doc.get("handlers")
        .and_then(Item::as_array_of_tables)
        .map(|tables| tables.iter().map(entry).collect())
        .unwrap_or_default()
}

/// One `[[handlers]]` table as an entry; a missing kind or name reads as
/// empty, an `event` that is not a string as its TOML text (no source has
/// that name, so `check` reports it), as does a `requirements` that is not
/// an array of strings.
fn entry(table: &Table) -> HandlerEntry {
    let text = |key| {
        table
            .get(key)
            .and_then(Item::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let raw = |item: &Item| item.to_string().trim().to_string();
    let event = table.get("event").map(|item| match item.as_str() {
        Some(text) => text.to_string(),
        None => raw(item),
    });
    let requirements = table.get("requirements").map(|item| {
        let names = item.as_array().and_then(|array| {
            array
                .iter()
                .map(|value| value.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
        });
        names.map_or_else(|| Requirements::Other(raw(item)), Requirements::Names)
    });
    HandlerEntry {
        kind: text("kind"),
        name: text("name"),
        event,
        requirements,
    }
}

fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const MINIMAL: &str =
        "# my notes\nschema_version = 1\nlayout = \"log-centric\"  # keep\n";

    pub(super) fn parse(text: &str) -> Result<Manifest, UserError> {
        Manifest::parse(text, Path::new("lambdas.toml"))
    }

    #[test]
    fn a_repeated_key_is_an_error_with_its_line() {
        let text = format!("{MINIMAL}[[handlers]]\nkind = \"producers\"\nkind = \"consumers\"\n");
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("line 6"), "{}", err.message);
    }

    #[test]
    fn invalid_toml_is_reported_with_line_and_column() {
        let err = parse("schema_version = 1\nlayout = \n").unwrap_err();
        assert!(err.message.contains("line 2, column"), "{}", err.message);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let err = parse("schema_version = 2\nlayout = \"web-stack\"\n").unwrap_err();
        assert!(
            err.message.contains("newer than this lambda-scaffold"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_missing_layout_is_refused() {
        let err = parse("schema_version = 1\n").unwrap_err();
        assert!(err.message.contains("layout"), "{}", err.message);
    }

    #[test]
    fn a_byte_order_mark_is_refused_as_tomllib_refuses_it() {
        let err = parse(&format!("{BOM}{MINIMAL}")).unwrap_err();
        assert!(err.message.contains("byte order mark"), "{}", err.message);
        assert!(parse(MINIMAL).is_ok());
    }

    #[test]
    fn the_line_ending_is_that_of_the_first_line() {
        assert_eq!(parse(MINIMAL).unwrap().line_ending(), "\n");
        let crlf = MINIMAL.replace('\n', "\r\n");
        assert_eq!(parse(&crlf).unwrap().line_ending(), "\r\n");
    }
}

/// The settings as the generated `build.sh` reads them, held to what TOML
/// reads: the real script is the oracle, run over generated settings.
#[cfg(test)]
mod build_sh_oracle {
    use std::cell::Cell;
    use std::collections::BTreeMap;
    use std::process::Command;

    use proptest::prop_assert_eq;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    use super::cases::setting_lines;
    use super::tests::parse;
    use super::*;
    use crate::names::ProjectName;

    const ENTRY: &str = "\n[[handlers]]\nkind = \"producers\"\nname = \"a\"\n";

    /// The settings build.sh passes to the packager (a stand-in, `echo`,
    /// prints them), `None` when it refuses the manifest.
    fn read_by_build_sh(dir: &Path, text: &str) -> Option<BTreeMap<&'static str, String>> {
        std::fs::write(dir.join(MANIFEST_FILE), text).unwrap();
        let out = Command::new("bash")
            .args(["build.sh", "--local", "a", "./producers/a"])
            .current_dir(dir)
            .env("LAMBDA_BUILD_PYTHON", "echo")
            .output()
            .expect("bash runs");
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.starts_with("error: `lambdas.toml`"), "{err}");
            return None;
        }
        let args = String::from_utf8(out.stdout).unwrap();
        let words: Vec<&str> = args.split_whitespace().collect();
        let after = |flag| {
            let at = words.iter().position(|word| *word == flag).unwrap();
            words[at + 1].to_string()
        };
        let bytecode = words.contains(&"--bytecode").to_string();
        Some(BTreeMap::from([
            ("python", after("--python-version")),
            ("arch", after("--arch")),
            ("dependencies", after("--dependencies")),
            ("bytecode", bytecode),
        ]))
    }

    /// The settings as TOML reads them, with build.sh's defaults; `None`
    /// when one is not of the type build.sh reads.
    fn read_by_toml(text: &str) -> Option<BTreeMap<&'static str, String>> {
        let doc: DocumentMut = text.parse().unwrap();
        scan::BUILD_SETTINGS
            .iter()
            .map(|key| {
                let value = match doc.get(key) {
                    None => scan::build_default(key)?.to_string(),
                    Some(item) if *key == "bytecode" => item.as_bool()?.to_string(),
                    Some(item) => item.as_str()?.to_string(),
                };
                Some((*key, value))
            })
            .collect()
    }

    /// Over generated settings that TOML accepts: `check` names a line of
    /// them exactly when build.sh refuses the manifest or reads other values
    /// than TOML; and what `check --fix` writes, build.sh reads as TOML read
    /// the original. Counts each outcome, so that none is left untried.
    #[test]
    fn check_names_a_setting_exactly_when_build_sh_does_not_read_it_as_toml() {
        let dir = tempfile::tempdir().unwrap();
        let script =
            crate::generate::build_script(&ProjectName::parse("svc").unwrap(), Layout::LogCentric)
                .unwrap();
        std::fs::write(dir.path().join("build.sh"), script.contents).unwrap();
        let (read, named, fixed) = (Cell::new(0), Cell::new(0), Cell::new(0));
        // The same cases every run (each runs bash twice): the counts below
        // hold for them, not by luck.
        let mut runner = TestRunner::new_with_rng(
            Config {
                failure_persistence: None,
                ..Config::with_cases(150)
            },
            TestRng::deterministic_rng(RngAlgorithm::ChaCha),
        );
        let result = runner.run(&setting_lines(), |settings| {
            let text = format!("schema_version = 1\nlayout = \"log-centric\"\n{settings}{ENTRY}");
            let Ok(manifest) = parse(&text) else {
                return Ok(());
            };
            let toml = read_by_toml(&text);
            let by_build = read_by_build_sh(dir.path(), &text);
            let as_toml = by_build.is_some() && by_build == toml;
            let refused = manifest.lines_build_refuses();
            prop_assert_eq!(refused.is_empty(), as_toml, "{:?}: {:?}", text, refused);
            read.set(read.get() + usize::from(as_toml));
            named.set(named.get() + usize::from(!as_toml));
            if let Some(written) = manifest.plainly_written() {
                fixed.set(fixed.get() + 1);
                let by_build = read_by_build_sh(dir.path(), written.to_text());
                prop_assert_eq!(by_build, toml, "{:?} written {:?}", text, written.to_text());
            }
            Ok(())
        });
        if let Err(failure) = result {
            panic!("{failure}");
        }
        let (read, named, fixed) = (read.get(), named.get(), fixed.get());
        eprintln!("read as TOML: {read}, named: {named}, of which fixed: {fixed}");
        assert!(
            read > 10 && named > 10 && fixed > 10,
            "{read} {named} {fixed}"
        );
    }
}
