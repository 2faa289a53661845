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

/// A parsed manifest, kept as an editable document.
#[derive(Debug, Clone)]
pub struct Manifest {
    doc: DocumentMut,
    pub layout: Layout,
}

/// Generated files of one handler: path from the project root (`/`-separated)
/// to [`file_hash`] of the contents written.
pub type FileHashes = BTreeMap<String, String>;

/// One `[[handlers]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
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
        let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
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
        })?;
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
        Ok(Self { doc, layout })
    }

    /// A string setting such as `python` or `arch`.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.doc.get(key).and_then(Item::as_str)
    }

    pub fn handlers(&self) -> Vec<HandlerEntry> {
        self.doc
            .get("handlers")
            .and_then(Item::as_array_of_tables)
            .map(|tables| tables.iter().map(entry).collect())
            .unwrap_or_default()
    }

    pub fn handler(&self, kind: Kind, name: &HandlerName) -> Option<HandlerEntry> {
        self.handlers()
            .into_iter()
            .find(|h| h.kind == kind.as_str() && h.name == name.as_str())
    }

    pub fn has_handler(&self, kind: Kind, name: &HandlerName) -> bool {
        self.handler(kind, name).is_some()
    }

    /// Lists a handler with the hashes of its generated files: appends a
    /// `[[handlers]]` entry, or updates the `files` of the existing one. An
    /// entry that already says the same is left exactly as it is written.
    pub fn record_handler(&mut self, kind: Kind, name: &HandlerName, files: &FileHashes) {
        let existing = self.handler(kind, name);
        if existing.is_some_and(|h| files.is_empty() || h.files == *files) {
            return;
        }
        let position = self.position(kind, name);
        let handlers = self
            .doc
            .entry("handlers")
            .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()));
        // `parse` refuses a `handlers` key of any other type.
        let Some(tables) = handlers.as_array_of_tables_mut() else {
            return;
        };
        let index = position.unwrap_or_else(|| {
            let mut table = Table::new();
            table.insert("kind", value(kind.as_str()));
            table.insert("name", value(name.as_str()));
            tables.push(table);
            tables.len() - 1
        });
        if let (Some(table), false) = (tables.get_mut(index), files.is_empty()) {
            let mut dotted = Table::new();
            dotted.set_dotted(true);
            for (path, hash) in files {
                dotted.insert(path, value(hash.as_str()));
            }
            table.insert("files", Item::Table(dotted));
        }
    }

    /// Removes the handler's entry; false when it was not listed.
    pub fn remove_handler(&mut self, kind: Kind, name: &HandlerName) -> bool {
        let Some(index) = self.position(kind, name) else {
            return false;
        };
        if let Some(tables) = self
            .doc
            .get_mut("handlers")
            .and_then(Item::as_array_of_tables_mut)
        {
            tables.remove(index);
        }
        true
    }

    fn position(&self, kind: Kind, name: &HandlerName) -> Option<usize> {
        self.handlers()
            .iter()
            .position(|h| h.kind == kind.as_str() && h.name == name.as_str())
    }

    pub fn to_text(&self) -> String {
        self.doc.to_string()
    }

    /// The manifest as a file of a plan.
    pub fn planned_file(&self, if_exists: IfExists) -> PlannedFile {
        PlannedFile {
            path: MANIFEST_FILE.into(),
            contents: self.to_text().into_bytes(),
            executable: false,
            if_exists,
        }
    }
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
        let reparsed = Manifest::parse(&text, Path::new("lambdas.toml")).unwrap();
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
