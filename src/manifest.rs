//! `lambdas.toml`, the project manifest: its settings and the list of handlers.
//!
//! Edited with toml_edit so that the user's comments and formatting survive.
//! Parsing and editing are pure; the commands read and write the file.
//!
//! Each `[[handlers]]` entry is a `kind` and a `name`; what was generated for
//! it is recorded beside the manifest (see [`crate::generated`]).

use std::collections::BTreeMap;
use std::path::Path;

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

use crate::error::UserError;
use crate::layout::{Kind, Layout};
use crate::names::HandlerName;
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
/// by a line scanner. Anything else in them, and any error, goes through the
/// full TOML parser, so what is accepted and the errors reported are the same.
/// Adding an entry appends its text; other edits go through toml_edit.
#[derive(Debug, Clone)]
pub struct Manifest {
    text: String,
    settings: BTreeMap<String, String>,
    entries: Vec<HandlerEntry>,
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
    pub fn parse(text: &str, path: &Path) -> Result<Self, UserError> {
        let (doc, entries) = match scan(text) {
            Some(scanned) => scanned,
            None => {
                let doc = parse_document(text, path)?;
                let entries = doc
                    .get("handlers")
                    .and_then(Item::as_array_of_tables)
                    .map(|tables| tables.iter().map(entry).collect())
                    .unwrap_or_default();
                (doc, entries)
            }
        };
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
            text: text.to_string(),
            settings,
            entries,
            layout,
        })
    }

    /// A string setting such as `python` or `arch`.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(String::as_str)
    }

    pub fn handlers(&self) -> &[HandlerEntry] {
        &self.entries
    }

    pub fn handler(&self, kind: Kind, name: &HandlerName) -> Option<&HandlerEntry> {
        self.position(kind, name).map(|i| &self.entries[i])
    }

    pub fn has_handler(&self, kind: Kind, name: &HandlerName) -> bool {
        self.position(kind, name).is_some()
    }

    /// Lists a handler: appends a `[[handlers]]` entry unless it is listed.
    /// Returns whether the manifest changed.
    pub fn record_handler(&mut self, kind: Kind, name: &HandlerName) -> bool {
        if self.has_handler(kind, name) {
            return false;
        }
        // Appending text is what toml_edit would write, without parsing and
        // re-printing every other entry.
        let mut tables = ArrayOfTables::new();
        tables.push(new_entry(kind, name));
        let mut doc = DocumentMut::new();
        doc.insert("handlers", Item::ArrayOfTables(tables));
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
        self.text.push('\n');
        self.text.push_str(&doc.to_string());
        self.entries.push(HandlerEntry {
            kind: kind.as_str().to_string(),
            name: name.as_str().to_string(),
        });
        true
    }

    /// Removes the handler's entry; false when it was not listed.
    pub fn remove_handler(&mut self, kind: Kind, name: &HandlerName) -> bool {
        let Some(index) = self.position(kind, name) else {
            return false;
        };
        self.edit(|tables| {
            tables.remove(index);
        });
        true
    }

    fn position(&self, kind: Kind, name: &HandlerName) -> Option<usize> {
        self.entries
            .iter()
            .position(|h| h.kind == kind.as_str() && h.name == name.as_str())
    }

    /// Edits the `[[handlers]]` list through toml_edit, keeping everything else
    /// as written, then reads the entries again.
    fn edit(&mut self, change: impl FnOnce(&mut ArrayOfTables)) {
        // The text parsed when the manifest was read, and only this type has
        // changed it since, through toml_edit or appends of toml_edit's output.
        let Ok(mut doc) = self.text.parse::<DocumentMut>() else {
            return;
        };
        if let Some(tables) = doc
            .get_mut("handlers")
            .and_then(Item::as_array_of_tables_mut)
        {
            change(tables);
            self.entries = tables.iter().map(entry).collect();
        }
        self.text = doc.to_string();
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
/// toml_edit, the entries with [`scan_entries`]. `None` when either part is
/// not in the plain form, and the whole text must go through toml_edit.
fn scan(text: &str) -> Option<(DocumentMut, Vec<HandlerEntry>)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with('[') {
            break;
        }
        offset += line.len();
    }
    let (head, body) = text.split_at(offset);
    let doc: DocumentMut = head.parse().ok()?;
    if doc.contains_key("handlers") {
        return None;
    }
    Some((doc, scan_entries(body)?))
}

/// Reads `[[handlers]]` tables whose lines are `kind = "…"` and `name = "…"`
/// with plain strings (no escapes), comments and blank lines. `None` at
/// anything else, a repeated key included.
fn scan_entries(body: &str) -> Option<Vec<HandlerEntry>> {
    let mut entries: Vec<HandlerEntry> = Vec::new();
    let (mut seen_kind, mut seen_name) = (false, false);
    for line in body.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("[[handlers]]") {
            if !is_blank_or_comment(rest) {
                return None;
            }
            entries.push(HandlerEntry::default());
            (seen_kind, seen_name) = (false, false);
            continue;
        }
        let entry = entries.last_mut()?;
        let (key, rest) = line.split_once('=')?;
        let value = plain_string(rest.trim_start())?.to_string();
        match key.trim_end() {
            "kind" if !seen_kind => (entry.kind, seen_kind) = (value, true),
            "name" if !seen_name => (entry.name, seen_name) = (value, true),
            _ => return None,
        }
    }
    Some(entries)
}

/// The contents of a basic string without escapes or a literal string, when
/// `text` is one followed only by blanks or a comment.
fn plain_string(text: &str) -> Option<&str> {
    let quote = text.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = &text[1..];
    let end = inner.find(quote)?;
    let (contents, rest) = (&inner[..end], &inner[end + 1..]);
    let plain = contents
        .chars()
        .all(|c| c != '\\' && (c == '\t' || !c.is_control()));
    (plain && is_blank_or_comment(rest)).then_some(contents)
}

fn is_blank_or_comment(text: &str) -> bool {
    let text = text.trim_start();
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
        let scanned = scan(&text).expect("plain form").1;
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
            assert!(scan(&text).is_none(), "{body}");
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
