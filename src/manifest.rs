//! `lambdas.toml`, the project manifest: its settings and the list of handlers.
//!
//! Edited with toml_edit so that the user's comments and formatting survive.
//! Parsing and editing are pure; the commands read and write the file.

use std::path::Path;

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

use crate::error::UserError;
use crate::layout::{Kind, Layout};
use crate::names::HandlerName;

pub const MANIFEST_FILE: &str = "lambdas.toml";

/// The manifest schema this version of the tool reads and writes.
pub const SCHEMA_VERSION: i64 = 1;

/// A parsed manifest, kept as an editable document.
#[derive(Debug, Clone)]
pub struct Manifest {
    doc: DocumentMut,
    pub layout: Layout,
}

/// One `[[handlers]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerEntry {
    pub kind: String,
    pub name: String,
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
        if let Some(item) = doc.get("handlers") {
            if !item.is_array_of_tables() {
                return Err(invalid(
                    "has a `handlers` key that is not a list of [[handlers]] tables",
                ));
            }
        }
        Ok(Self { doc, layout })
    }

    /// A string setting such as `python` or `arch`.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.doc.get(key).and_then(Item::as_str)
    }

    pub fn handlers(&self) -> Vec<HandlerEntry> {
        let Some(tables) = self.doc.get("handlers").and_then(Item::as_array_of_tables) else {
            return Vec::new();
        };
        tables
            .iter()
            .map(|t| HandlerEntry {
                kind: t
                    .get("kind")
                    .and_then(Item::as_str)
                    .unwrap_or_default()
                    .to_string(),
                name: t
                    .get("name")
                    .and_then(Item::as_str)
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect()
    }

    pub fn has_handler(&self, kind: Kind, name: &HandlerName) -> bool {
        self.handlers()
            .iter()
            .any(|h| h.kind == kind.as_str() && h.name == name.as_str())
    }

    /// Appends a `[[handlers]]` entry unless the handler is already listed.
    pub fn add_handler(&mut self, kind: Kind, name: &HandlerName) {
        if self.has_handler(kind, name) {
            return;
        }
        let mut table = Table::new();
        table.insert("kind", value(kind.as_str()));
        table.insert("name", value(name.as_str()));
        let handlers = self
            .doc
            .entry("handlers")
            .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()));
        if let Some(tables) = handlers.as_array_of_tables_mut() {
            tables.push(table);
        }
    }

    pub fn to_text(&self) -> String {
        self.doc.to_string()
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

    #[test]
    fn adding_a_handler_keeps_comments_and_formatting() {
        let mut manifest = Manifest::parse(MINIMAL, Path::new("lambdas.toml")).unwrap();
        manifest.add_handler(Kind::Producers, &name("error_event"));
        manifest.add_handler(Kind::Producers, &name("error_event"));
        let text = manifest.to_text();
        assert!(text.starts_with(MINIMAL), "{text}");
        assert_eq!(text.matches("[[handlers]]").count(), 1, "{text}");
        let reparsed = Manifest::parse(&text, Path::new("lambdas.toml")).unwrap();
        assert_eq!(
            reparsed.handlers(),
            [HandlerEntry {
                kind: "producers".into(),
                name: "error_event".into()
            }]
        );
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
