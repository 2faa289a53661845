//! `lambdas.toml`, the project manifest: its settings and the list of handlers.
//!
//! Edited with toml_edit so that the user's comments and formatting survive.
//! Parsing and editing are pure; the commands read and write the file.
//!
//! Each `[[handlers]]` entry written by `add-handler` (or by `new-project` for
//! its examples) records a content hash of every file generated in the
//! handler's two folders, one dotted key per file so the entry stays readable:
//!
//! ```toml
//! [[handlers]]
//! kind = "producers"
//! name = "log_event"
//! files."producers/log_event/producers.py" = "sha256:…"
//! ```
//!
//! `remove-handler` compares them with the files on disk to tell generated
//! files from edited ones. An inline table (`files = { … }`) reads the same.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};
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

/// Generated files of one handler: path from the project root (`/`-separated)
/// to [`file_hash`] of the contents written.
pub type FileHashes = BTreeMap<String, String>;

/// One `[[handlers]]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandlerEntry {
    pub kind: String,
    pub name: String,
    /// Empty for an entry written by hand or adopted by `check --fix`.
    pub files: FileHashes,
}

/// The content hash recorded for a generated file: `sha256:` and 64 hex digits.
pub fn file_hash(contents: &[u8]) -> String {
    let digest = Sha256::digest(contents);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
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

    /// Lists a handler with the hashes of its generated files: appends a
    /// `[[handlers]]` entry, or updates the `files` of the existing one. An
    /// entry that already says the same is left exactly as it is written.
    /// Returns whether the manifest changed.
    pub fn record_handler(&mut self, kind: Kind, name: &HandlerName, files: &FileHashes) -> bool {
        match self.position(kind, name) {
            Some(i) if files.is_empty() || self.entries[i].files == *files => false,
            Some(i) => {
                self.edit(|tables| {
                    if let Some(table) = tables.get_mut(i) {
                        set_files(table, files);
                    }
                });
                true
            }
            None => {
                // Appending text is what toml_edit would write, without parsing
                // and re-printing every other entry.
                let mut tables = ArrayOfTables::new();
                tables.push(new_entry(kind, name, files));
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
                    files: files.clone(),
                });
                true
            }
        }
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

/// Reads `[[handlers]]` tables whose lines are `kind = "…"`, `name = "…"` and
/// `files."PATH" = "…"` with plain strings (no escapes), comments and blank
/// lines. `None` at anything else, a repeated key included.
fn scan_entries(body: &str) -> Option<Vec<HandlerEntry>> {
    let mut entries: Vec<HandlerEntry> = Vec::new();
    let mut seen_kind = false;
    let mut seen_name = false;
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
        let value = plain_string(rest.trim_start())?;
        match key.trim_end() {
            "kind" if !seen_kind => (entry.kind, seen_kind) = (value, true),
            "name" if !seen_name => (entry.name, seen_name) = (value, true),
            key => {
                let path = plain_string(key.strip_prefix("files.")?)?;
                if entry.files.insert(path, value).is_some() {
                    return None;
                }
            }
        }
    }
    Some(entries)
}

/// The contents of a basic string without escapes or a literal string, when
/// `text` is one followed only by blanks or a comment.
fn plain_string(text: &str) -> Option<String> {
    let quote = text.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = &text[1..];
    let end = inner.find(quote)?;
    let (contents, rest) = (&inner[..end], &inner[end + 1..]);
    let plain = contents
        .chars()
        .all(|c| c != '\\' && (c == '\t' || !c.is_control()));
    (plain && is_blank_or_comment(rest)).then(|| contents.to_string())
}

fn is_blank_or_comment(text: &str) -> bool {
    let text = text.trim_start();
    text.is_empty() || text.starts_with('#')
}

fn new_entry(kind: Kind, name: &HandlerName, files: &FileHashes) -> Table {
    let mut table = Table::new();
    table.insert("kind", value(kind.as_str()));
    table.insert("name", value(name.as_str()));
    set_files(&mut table, files);
    table
}

/// Writes `files` as one dotted key per file (none when empty).
fn set_files(table: &mut Table, files: &FileHashes) {
    if files.is_empty() {
        return;
    }
    let mut dotted = Table::new();
    dotted.set_dotted(true);
    for (path, hash) in files {
        dotted.insert(path, value(hash.as_str()));
    }
    table.insert("files", Item::Table(dotted));
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
    let files = table
        .get("files")
        .and_then(Item::as_table_like)
        .map(|files| {
            files
                .iter()
                .filter_map(|(path, hash)| Some((path.to_string(), hash.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    HandlerEntry {
        kind: text("kind"),
        name: text("name"),
        files,
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

    fn hashes(pairs: &[(&str, &[u8])]) -> FileHashes {
        pairs
            .iter()
            .map(|(path, contents)| (path.to_string(), file_hash(contents)))
            .collect()
    }

    #[test]
    fn adding_a_handler_keeps_comments_and_formatting() {
        let mut manifest = Manifest::parse(MINIMAL, Path::new("lambdas.toml")).unwrap();
        let files = hashes(&[("producers/error_event/producers.py", b"x")]);
        manifest.record_handler(Kind::Producers, &name("error_event"), &files);
        manifest.record_handler(Kind::Producers, &name("error_event"), &files);
        let text = manifest.to_text();
        assert!(text.starts_with(MINIMAL), "{text}");
        assert_eq!(text.matches("[[handlers]]").count(), 1, "{text}");
        let reparsed = Manifest::parse(text, Path::new("lambdas.toml")).unwrap();
        assert_eq!(
            reparsed.handlers(),
            [HandlerEntry {
                kind: "producers".into(),
                name: "error_event".into(),
                files,
            }]
        );
    }

    #[test]
    fn file_hashes_are_one_dotted_key_per_file() {
        let mut manifest = Manifest::parse(MINIMAL, Path::new("lambdas.toml")).unwrap();
        let files = hashes(&[
            ("producers/a/__init__.py", b""),
            ("producers/a/producers.py", b"x"),
        ]);
        manifest.record_handler(Kind::Producers, &name("a"), &files);
        let text = manifest.to_text();
        let entry = &text[MINIMAL.len()..];
        assert_eq!(
            entry,
            "\n[[handlers]]\nkind = \"producers\"\nname = \"a\"\n\
             files.\"producers/a/__init__.py\" = \"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"\n\
             files.\"producers/a/producers.py\" = \"sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\"\n"
        );
    }

    #[test]
    fn an_inline_table_of_hashes_reads_the_same() {
        let text = format!(
            "{MINIMAL}[[handlers]]\nkind = \"producers\"\nname = \"a\"\nfiles = {{ \"producers/a/producers.py\" = \"sha256:00\" }}\n"
        );
        let manifest = Manifest::parse(&text, Path::new("lambdas.toml")).unwrap();
        let entry = manifest.handler(Kind::Producers, &name("a")).unwrap();
        assert_eq!(entry.files["producers/a/producers.py"], "sha256:00");
    }

    #[test]
    fn recording_new_hashes_updates_the_entry_and_adopting_keeps_them() {
        let mut manifest = Manifest::parse(MINIMAL, Path::new("lambdas.toml")).unwrap();
        manifest.record_handler(Kind::Consumers, &name("sink"), &FileHashes::new());
        assert!(
            !manifest.to_text().contains("files"),
            "{}",
            manifest.to_text()
        );
        let files = hashes(&[("consumers/sink/consumers.py", b"y")]);
        manifest.record_handler(Kind::Consumers, &name("sink"), &files);
        manifest.record_handler(Kind::Consumers, &name("sink"), &FileHashes::new());
        assert_eq!(manifest.handlers().len(), 1);
        assert_eq!(manifest.handlers()[0].files, files);
    }

    #[test]
    fn removing_a_handler_drops_only_its_entry() {
        let mut manifest = Manifest::parse(MINIMAL, Path::new("lambdas.toml")).unwrap();
        manifest.record_handler(Kind::Producers, &name("a"), &FileHashes::new());
        manifest.record_handler(Kind::Producers, &name("b"), &FileHashes::new());
        assert!(manifest.remove_handler(Kind::Producers, &name("a")));
        assert!(!manifest.remove_handler(Kind::Producers, &name("a")));
        assert_eq!(manifest.handlers().len(), 1);
        assert_eq!(manifest.handlers()[0].name, "b");
        assert!(manifest.to_text().starts_with(MINIMAL));
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
            "{MINIMAL}\n[[handlers]]  # first\nkind = \"producers\"\n  name='a#b'   # note\n\
             files.\"producers/a/producers.py\" = \"sha256:01\"\n\n# between\n[[handlers]]\n\
             name = \"c\"\nkind = \"consumers\"\n"
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
            "[[handlers]]\nkind = \"producers\"\nname = \"a\"\nfiles = { \"x.py\" = \"sha256:00\" }\n",
            "handlers = [{ kind = \"producers\", name = \"a\" }]\n",
        ] {
            let text = format!("{MINIMAL}{body}");
            assert!(scan(&text).is_none(), "{body}");
            let manifest = Manifest::parse(&text, Path::new("lambdas.toml"));
            if body.starts_with("handlers =") {
                assert!(
                    manifest.is_err(),
                    "an inline array is not [[handlers]] tables"
                );
                continue;
            }
            assert_eq!(
                manifest.unwrap().handlers(),
                entries_by_toml_edit(&text),
                "{body}"
            );
        }
    }

    #[test]
    fn a_repeated_key_is_an_error_with_its_line() {
        let text = format!("{MINIMAL}[[handlers]]\nkind = \"producers\"\nkind = \"consumers\"\n");
        let err = Manifest::parse(&text, Path::new("lambdas.toml")).unwrap_err();
        assert!(err.message.contains("line 6"), "{}", err.message);
    }

    #[test]
    fn an_appended_entry_is_what_toml_edit_would_write() {
        let files = hashes(&[("producers/a/producers.py", b"x")]);
        for start in [
            MINIMAL.to_string(),
            format!("{MINIMAL}[[handlers]]\nkind = \"consumers\"\nname = \"b\"\n"),
        ] {
            let mut manifest = Manifest::parse(&start, Path::new("lambdas.toml")).unwrap();
            manifest.record_handler(Kind::Producers, &name("a"), &files);
            let mut doc: DocumentMut = start.parse().unwrap();
            let tables = doc
                .entry("handlers")
                .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()))
                .as_array_of_tables_mut()
                .unwrap();
            tables.push(new_entry(Kind::Producers, &name("a"), &files));
            assert_eq!(manifest.to_text(), doc.to_string());
        }
    }

    #[test]
    fn invalid_toml_is_reported_with_line_and_column() {
        let err = Manifest::parse("schema_version = 1\nlayout = \n", Path::new("lambdas.toml"))
            .unwrap_err();
        assert!(err.message.contains("line 2, column"), "{}", err.message);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let err = Manifest::parse(
            "schema_version = 2\nlayout = \"web-stack\"\n",
            Path::new("x"),
        )
        .unwrap_err();
        assert!(
            err.message.contains("newer than this lambda-scaffold"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_missing_layout_is_refused() {
        let err = Manifest::parse("schema_version = 1\n", Path::new("x")).unwrap_err();
        assert!(err.message.contains("layout"), "{}", err.message);
    }
}
