//! `lambdas.toml`, the project manifest: its settings and the list of handlers.
//!
//! Edited with toml_edit so that the user's comments and formatting survive.
//! Parsing and editing are pure; the commands read and write the file.
//!
//! Each `[[handlers]]` entry is a `kind` and a `name`; what was generated for
//! it is recorded beside the manifest (see [`crate::generated`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

use crate::error::UserError;
use crate::layout::{Kind, Layout};
use crate::names::HandlerName;
use crate::plan::{IfExists, PlannedAppend, PlannedFile};

pub const MANIFEST_FILE: &str = "lambdas.toml";

/// The manifest schema this version of the tool reads and writes.
pub const SCHEMA_VERSION: i64 = 1;

/// A parsed manifest: its text exactly as written, its settings and entries.
///
/// Reading a project with thousands of handlers must stay fast (see
/// BENCHMARKS.md), so the settings before the first table are parsed with
/// toml_edit while the `[[handlers]]` entries, when they are written in the
/// plain form this tool writes (string values, comments, blank lines), are read
/// by a line scanner. Anything else in them, and any error, goes through the
/// full TOML parser, so what is accepted and the errors reported are the same.
/// Adding an entry appends its text; other edits go through toml_edit.
#[derive(Debug, Clone)]
pub struct Manifest {
    text: String,
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
    pub layout: Layout,
}

/// One `[[handlers]]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandlerEntry {
    pub kind: String,
    pub name: String,
}

impl Manifest {
    /// Parses the manifest's text; `path` is only used in error messages.
    pub fn parse(text: impl Into<String>, path: &Path) -> Result<Self, UserError> {
        let text = text.into();
        let mut listed = Vec::new();
        let scanned = scan(&text, |kind, name| {
            listed.push(entry_key(kind, name));
            true
        });
        let (doc, plain_from, parsed) = match scanned {
            Some((doc, body_start)) => (doc, Some(body_start), Vec::new()),
            None => {
                let doc = parse_document(&text, path)?;
                let parsed: Vec<HandlerEntry> = doc
                    .get("handlers")
                    .and_then(Item::as_array_of_tables)
                    .map(|tables| tables.iter().map(entry).collect())
                    .unwrap_or_default();
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
        Ok(Self {
            text,
            plain_from,
            parsed,
            entries: OnceLock::new(),
            listed,
            settings,
            layout,
        })
    }

    /// A string setting such as `python` or `arch`.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(String::as_str)
    }

    pub fn handlers(&self) -> &[HandlerEntry] {
        self.entries.get_or_init(|| {
            let mut all = Vec::new();
            self.each_entry(|kind, name| {
                all.push(HandlerEntry {
                    kind: kind.to_string(),
                    name: name.to_string(),
                });
                true
            });
            all
        })
    }

    pub fn has_handler(&self, kind: Kind, name: &HandlerName) -> bool {
        let key = entry_key(kind.as_str(), name.as_str());
        // Equal keys are confirmed by a scan: two names could share a key.
        self.listed.binary_search(&key).is_ok() && self.position(kind, name).is_some()
    }

    /// Calls `each` with the kind and name of every entry, in order, until it
    /// returns false.
    fn each_entry<'a>(&'a self, mut each: impl FnMut(&'a str, &'a str) -> bool) {
        match self.plain_from {
            Some(start) => {
                // Read by the same scanner when parsed, so it cannot fail here.
                let _ = scan_entries(&self.text[start..], each);
            }
            None => {
                for entry in &self.parsed {
                    if !each(&entry.kind, &entry.name) {
                        break;
                    }
                }
            }
        }
    }

    fn position(&self, kind: Kind, name: &HandlerName) -> Option<usize> {
        let (mut index, mut found) = (0, None);
        self.each_entry(|k, n| {
            if n == name.as_str() && k == kind.as_str() {
                found = Some(index);
                return false;
            }
            index += 1;
            true
        });
        found
    }

    /// Lists a handler: appends a `[[handlers]]` entry unless it is listed.
    /// Returns whether the manifest changed.
    pub fn record_handler(&mut self, kind: Kind, name: &HandlerName) -> bool {
        if self.has_handler(kind, name) {
            return false;
        }
        let entry = self.entry_text(kind, name);
        self.text.push_str(&entry);
        let key = entry_key(kind.as_str(), name.as_str());
        let at = self.listed.partition_point(|k| *k < key);
        self.listed.insert(at, key);
        if self.plain_from.is_none() {
            self.parsed.push(HandlerEntry {
                kind: kind.as_str().to_string(),
                name: name.as_str().to_string(),
            });
        }
        self.entries = OnceLock::new();
        true
    }

    /// What appending an entry adds to the text, the separating newlines
    /// included: what toml_edit would write, without parsing and re-printing
    /// every other entry.
    fn entry_text(&self, kind: Kind, name: &HandlerName) -> String {
        let mut tables = ArrayOfTables::new();
        tables.push(new_entry(kind, name));
        let mut doc = DocumentMut::new();
        doc.insert("handlers", Item::ArrayOfTables(tables));
        let missing_newline = !self.text.is_empty() && !self.text.ends_with('\n');
        format!("{}\n{doc}", if missing_newline { "\n" } else { "" })
    }

    /// Appending an entry for a handler that is not listed yet, as a step of a
    /// plan: the file is not rewritten, so the cost does not grow with the
    /// number of handlers.
    pub fn planned_entry(&self, kind: Kind, name: &HandlerName) -> PlannedAppend {
        PlannedAppend {
            path: MANIFEST_FILE.into(),
            bytes: self.entry_text(kind, name).into_bytes(),
            expected_len: self.text.len() as u64,
        }
    }

    /// Removes the handler's entry; false when it was not listed.
    pub fn remove_handler(&mut self, kind: Kind, name: &HandlerName) -> bool {
        let Some(index) = self.position(kind, name) else {
            return false;
        };
        self.edit(|tables| {
            tables.remove(index);
        })
    }

    /// Edits the `[[handlers]]` list through toml_edit, keeping everything else
    /// as written, then reads the manifest again; false when it cannot (the
    /// text was parsed before, so that would be a bug, reported as no change).
    fn edit(&mut self, change: impl FnOnce(&mut ArrayOfTables)) -> bool {
        let Ok(mut doc) = self.text.parse::<DocumentMut>() else {
            return false;
        };
        let Some(tables) = doc
            .get_mut("handlers")
            .and_then(Item::as_array_of_tables_mut)
        else {
            return false;
        };
        change(tables);
        match Manifest::parse(doc.to_string(), Path::new(MANIFEST_FILE)) {
            Ok(edited) => {
                *self = edited;
                true
            }
            Err(_) => false,
        }
    }

    pub fn to_text(&self) -> &str {
        &self.text
    }

    /// The manifest as a file of a plan.
    pub fn planned_file(&self, if_exists: IfExists) -> PlannedFile {
        PlannedFile {
            path: MANIFEST_FILE.into(),
            contents: self.text.clone().into_bytes(),
            executable: false,
            if_exists,
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

/// The fast reading: the settings (the text before the first table) with
/// toml_edit, and the offset where the entries start when [`scan_entries`]
/// can read them (calling `each` with each entry's kind and name). `None` when either part is not in the plain form, and the
/// whole text must go through toml_edit.
fn scan<'a>(
    text: &'a str,
    each: impl FnMut(&'a str, &'a str) -> bool,
) -> Option<(DocumentMut, usize)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with('[') {
            break;
        }
        offset += line.len();
    }
    let doc: DocumentMut = text[..offset].parse().ok()?;
    if doc.contains_key("handlers") {
        return None;
    }
    scan_entries(&text[offset..], each)?;
    Some((doc, offset))
}

/// Reads `[[handlers]]` tables whose lines are `kind = "…"` and `name = "…"`
/// with plain strings (no escapes), comments and blank lines, calling `each`
/// with every entry's kind and name until it returns false. `None` at anything
/// else, a repeated key included. Allocates nothing.
fn scan_entries<'a>(body: &'a str, mut each: impl FnMut(&'a str, &'a str) -> bool) -> Option<()> {
    let mut current: Option<(Option<&str>, Option<&str>)> = None;
    let mut stopped = false;
    let mut finish = |entry: Option<(Option<&'a str>, Option<&'a str>)>, stopped: &mut bool| {
        if let Some((kind, name)) = entry
            && !*stopped
            && !each(kind.unwrap_or_default(), name.unwrap_or_default())
        {
            *stopped = true;
        }
    };
    // memchr finds the line ends: a big project's manifest has tens of
    // thousands of short lines, and this loop is most of add-handler's cost.
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', body.as_bytes()).chain(std::iter::once(body.len()));
    for end in ends {
        let line = body[start..end].trim_ascii();
        start = end + 1;
        match line.as_bytes().first() {
            None | Some(b'#') => continue,
            Some(b'[') => {
                if !line
                    .strip_prefix("[[handlers]]")
                    .is_some_and(is_blank_or_comment)
                {
                    return None;
                }
                finish(current.take(), &mut stopped);
                if stopped {
                    // Only a caller that read the text before stops early.
                    return Some(());
                }
                current = Some((None, None));
                continue;
            }
            _ => {}
        }
        let (kind, name) = current.as_mut()?;
        let equals = line.bytes().position(|b| b == b'=')?;
        let value = plain_string(line[equals + 1..].trim_ascii_start())?;
        match line[..equals].trim_ascii_end() {
            "kind" if kind.is_none() => *kind = Some(value),
            "name" if name.is_none() => *name = Some(value),
            _ => return None,
        }
    }
    finish(current, &mut stopped);
    Some(())
}

/// The contents of a basic string without escapes or a literal string, when
/// `text` is one followed only by blanks or a comment.
fn plain_string(text: &str) -> Option<&str> {
    let quote = *text
        .as_bytes()
        .first()
        .filter(|q| **q == b'"' || **q == b'\'')?;
    let inner = &text[1..];
    let end = inner.bytes().position(|b| b == quote)?;
    let (contents, rest) = (&inner[..end], &inner[end + 1..]);
    // TOML forbids a backslash (here: an escape) and the control characters
    // U+0000 to U+001F but tab, and U+007F; bytes of other characters are >= 0x80.
    let plain = contents
        .bytes()
        .all(|b| b != b'\\' && (b == b'\t' || (b >= 0x20 && b != 0x7f)));
    (plain && is_blank_or_comment(rest)).then_some(contents)
}

fn is_blank_or_comment(text: &str) -> bool {
    let text = text.trim_ascii_start();
    text.is_empty() || text.starts_with('#')
}

fn new_entry(kind: Kind, name: &HandlerName) -> Table {
    let mut table = Table::new();
    table.insert("kind", value(kind.as_str()));
    table.insert("name", value(name.as_str()));
    table
}

/// One `[[handlers]]` table as an entry; a missing value reads as empty.
fn entry(table: &Table) -> HandlerEntry {
    let text = |key| {
        table
            .get(key)
            .and_then(Item::as_str)
            .unwrap_or_default()
            .to_string()
    };
    HandlerEntry {
        kind: text("kind"),
        name: text("name"),
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

    const MINIMAL: &str = "# my notes\nschema_version = 1\nlayout = \"log-centric\"  # keep\n";

    fn name(raw: &str) -> HandlerName {
        HandlerName::parse(raw).unwrap().name
    }

    fn parse(text: &str) -> Result<Manifest, UserError> {
        Manifest::parse(text, Path::new("lambdas.toml"))
    }

    #[test]
    fn adding_a_handler_appends_one_entry_and_keeps_the_rest() {
        let mut manifest = parse(MINIMAL).unwrap();
        assert!(manifest.record_handler(Kind::Producers, &name("error_event")));
        assert!(!manifest.record_handler(Kind::Producers, &name("error_event")));
        let text = manifest.to_text();
        assert_eq!(
            text,
            format!("{MINIMAL}\n[[handlers]]\nkind = \"producers\"\nname = \"error_event\"\n")
        );
        let reparsed = parse(text).unwrap();
        assert_eq!(
            reparsed.handlers(),
            [HandlerEntry {
                kind: "producers".into(),
                name: "error_event".into(),
            }]
        );
    }

    #[test]
    fn removing_a_handler_drops_only_its_entry() {
        let mut manifest = parse(MINIMAL).unwrap();
        manifest.record_handler(Kind::Producers, &name("a"));
        manifest.record_handler(Kind::Producers, &name("b"));
        assert!(manifest.remove_handler(Kind::Producers, &name("a")));
        assert!(!manifest.remove_handler(Kind::Producers, &name("a")));
        assert_eq!(manifest.handlers().len(), 1);
        assert_eq!(manifest.handlers()[0].name, "b");
        assert!(manifest.to_text().starts_with(MINIMAL));
        assert_eq!(
            parse(manifest.to_text()).unwrap().handlers(),
            manifest.handlers()
        );
    }

    /// What the full TOML parser reads from `text`: the reference for the scanner.
    fn entries_by_toml_edit(text: &str) -> Vec<HandlerEntry> {
        let doc: DocumentMut = text.parse().unwrap();
        doc.get("handlers")
            .and_then(Item::as_array_of_tables)
            .map(|t| t.iter().map(entry).collect())
            .unwrap_or_default()
    }

    #[test]
    fn the_scanner_reads_plain_entries_as_toml_edit_does() {
        let text = format!(
            "{MINIMAL}\n[[handlers]]  # first\nkind = \"producers\"\n  name='a#b'   # note\n\n\
             # between\n[[handlers]]\nname = \"c\"\nkind = \"consumers\"\n"
        );
        assert!(scan(&text, |_, _| true).is_some(), "plain form");
        let scanned = parse(&text).unwrap().handlers().to_vec();
        assert_eq!(scanned, entries_by_toml_edit(&text));
        assert_eq!(scanned[0].name, "a#b");
    }

    #[test]
    fn other_forms_are_read_by_toml_edit_with_the_same_result() {
        for body in [
            "[[handlers]]\nkind = \"producers\"\nname = \"e\\u0073c\"\n",
            "[[ handlers ]]\nkind = \"producers\"\nname = \"a\"\n",
            "[[handlers]]\nkind = \"producers\"\nname = \"a\"\nnote = { by = \"hand\" }\n",
            "[[handlers]]\nkind = \"producers\"\nname = \"a\"\n[settings]\nx = 1\n",
        ] {
            let text = format!("{MINIMAL}{body}");
            assert!(scan(&text, |_, _| true).is_none(), "{body}");
            let manifest = parse(&text).unwrap();
            assert_eq!(manifest.handlers(), entries_by_toml_edit(&text), "{body}");
        }
        let inline = format!("{MINIMAL}handlers = [{{ kind = \"producers\", name = \"a\" }}]\n");
        assert!(
            parse(&inline).is_err(),
            "an inline array is not [[handlers]] tables"
        );
    }

    #[test]
    fn a_repeated_key_is_an_error_with_its_line() {
        let text = format!("{MINIMAL}[[handlers]]\nkind = \"producers\"\nkind = \"consumers\"\n");
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("line 6"), "{}", err.message);
    }

    #[test]
    fn an_appended_entry_is_what_toml_edit_would_write() {
        let listed = format!("{MINIMAL}[[handlers]]\nkind = \"consumers\"\nname = \"b\"\n");
        for start in [
            MINIMAL.to_string(),
            listed,
            "schema_version = 1\nlayout = \"web-stack\"".into(),
        ] {
            let mut manifest = parse(&start).unwrap();
            manifest.record_handler(Kind::Producers, &name("a"));
            let mut doc: DocumentMut = start.parse().unwrap();
            let tables = doc
                .entry("handlers")
                .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()))
                .as_array_of_tables_mut()
                .unwrap();
            tables.push(new_entry(Kind::Producers, &name("a")));
            assert_eq!(manifest.to_text(), doc.to_string(), "{start:?}");
        }
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
}
