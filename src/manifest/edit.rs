//! Adding and removing `[[handlers]]` entries, keeping everything else of the
//! file as written: comments, formatting and its line ending (CRLF stays CRLF).
//!
//! Adding appends the entry's text, so that its cost does not grow with the
//! number of handlers; removing edits the list through toml_edit. An edit that
//! cannot be made is an error, never a silent no-op: the command then changes
//! nothing at all.

use std::path::Path;

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, Value, value};

use super::scan::{BUILD_KEYS, BUILD_SETTINGS, is_plain};
use super::{MANIFEST_FILE, Manifest, entry as entry_of, entry_key};
use crate::error::UserError;
use crate::event_source::EventSource;
use crate::layout::Kind;
use crate::names::HandlerName;
use crate::plan::PlannedAppend;

impl Manifest {
    /// Lists a handler: appends a `[[handlers]]` entry unless it is listed.
    /// Returns whether the manifest changed.
    pub fn record_handler(&mut self, kind: Kind, name: &HandlerName, event: EventSource) -> bool {
        if self.has_handler(kind, name) {
            return false;
        }
        let entry = self.entry_text(kind, name, event);
        self.text.to_mut().push_str(&entry);
        let key = entry_key(kind.as_str(), name.as_str());
        let at = self.listed.partition_point(|k| *k < key);
        self.listed.insert(at, key);
        if self.plain_from.is_none() {
            self.parsed.push(entry_of(&new_entry(kind, name, event)));
        }
        self.entries = std::sync::OnceLock::new();
        true
    }

    /// What appending an entry adds to the text, the separating newlines
    /// included: what toml_edit would write (in the file's line ending),
    /// without parsing and re-printing every other entry. The text parsed as a
    /// whole document, so no construct is left open where the entry starts.
    fn entry_text(&self, kind: Kind, name: &HandlerName, event: EventSource) -> String {
        let mut tables = ArrayOfTables::new();
        tables.push(new_entry(kind, name, event));
        let mut doc = DocumentMut::new();
        doc.insert("handlers", Item::ArrayOfTables(tables));
        let missing_newline = !self.text.is_empty() && !self.text.ends_with('\n');
        let text = format!("{}\n{doc}", if missing_newline { "\n" } else { "" });
        with_line_ending(&text, self.line_ending())
    }

    /// Appending an entry for a handler that is not listed yet, as a step of a
    /// plan: the file is not rewritten, so the cost does not grow with the
    /// number of handlers.
    pub fn planned_entry(
        &self,
        kind: Kind,
        name: &HandlerName,
        event: EventSource,
    ) -> PlannedAppend {
        PlannedAppend {
            path: MANIFEST_FILE.into(),
            bytes: self.entry_text(kind, name, event).into_bytes(),
            expected_len: self.text.len() as u64,
        }
    }

    /// Removes every entry of the handler (a manifest edited by hand may list
    /// it twice); `Ok(false)` when it was not listed, an error when the edit
    /// cannot be made.
    pub fn remove_handler(&mut self, kind: Kind, name: &HandlerName) -> Result<bool, UserError> {
        if !self.has_handler(kind, name) {
            return Ok(false);
        }
        let cannot = || {
            UserError::new(format!(
                "cannot remove the handler `{kind}/{name}` from `{MANIFEST_FILE}`"
            ))
            .hint("remove its [[handlers]] entry by hand; nothing was changed")
        };
        let mut doc: DocumentMut = self.text.parse().map_err(|_| cannot())?;
        let tables = doc
            .get_mut("handlers")
            .and_then(Item::as_array_of_tables_mut)
            .ok_or_else(cannot)?;
        tables.retain(|table| {
            let listed = entry_of(table);
            !(listed.kind == kind.as_str() && listed.name == name.as_str())
        });
        let text = with_line_ending(&doc.to_string(), self.line_ending());
        let edited = Manifest::parse(text, Path::new(MANIFEST_FILE)).map_err(|_| cannot())?;
        if edited.has_handler(kind, name) {
            return Err(cannot());
        }
        *self = edited;
        Ok(true)
    }

    /// The manifest with every value of a setting or entry key `build.sh`
    /// reads that is not in the plain form ([`Manifest::lines_build_refuses`])
    /// written again in the plain one-line form, the same values, the rest
    /// untouched; `None` unless that is safe for all of them: each is a
    /// string or an array of strings holding no `#` (so no comment inside it
    /// is lost), no line of another value reads to build.sh as a setting,
    /// and the result reads back to the same settings and entries with no
    /// line `build.sh` refuses.
    pub fn plainly_written(&self) -> Option<Manifest> {
        let refused = self.lines_build_refuses();
        if refused.is_empty() || refused.iter().any(|line| line.misread.is_some()) {
            return None;
        }
        let mut doc: DocumentMut = self.text.parse().ok()?;
        write_plainly(doc.as_table_mut(), &BUILD_SETTINGS)?;
        if let Some(item) = doc.get_mut("handlers") {
            for table in item.as_array_of_tables_mut()?.iter_mut() {
                write_plainly(table, &BUILD_KEYS)?;
            }
        }
        let text = with_line_ending(&doc.to_string(), self.line_ending());
        let written = Manifest::parse(text, Path::new(MANIFEST_FILE)).ok()?;
        let same = written.handlers() == self.handlers() && written.settings == self.settings;
        (same && written.lines_build_refuses().is_empty()).then_some(written)
    }
}

/// Writes the values of `keys` in `table` that are not in the plain form
/// again in it, keeping what surrounds them; `None` when one cannot be
/// written so without losing a comment inside it.
fn write_plainly(table: &mut Table, keys: &[&str]) -> Option<()> {
    for key in keys {
        let Some(old) = table.get_mut(key) else {
            continue;
        };
        let old = old.as_value_mut()?;
        let mut bare = old.clone();
        bare.decor_mut().clear();
        let raw = bare.to_string();
        if is_plain(key, &raw) {
            continue;
        }
        if raw.contains('#') {
            return None;
        }
        let mut fresh = match &bare {
            Value::String(text) => Value::from(text.value().as_str()),
            Value::Array(array) => Value::Array(
                array
                    .iter()
                    .map(|name| name.as_str().map(str::to_string))
                    .collect::<Option<Array>>()?,
            ),
            _ => return None,
        };
        *fresh.decor_mut() = old.decor().clone();
        *old = fresh;
    }
    Some(())
}

/// `text` with every LF that is not part of a CRLF written as `ending`.
fn with_line_ending(text: &str, ending: &str) -> String {
    if ending == "\n" {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut previous = '\0';
    for c in text.chars() {
        if c == '\n' && previous != '\r' {
            out.push('\r');
        }
        out.push(c);
        previous = c;
    }
    out
}

/// A new entry; `event` is written only when it is not the kind's default, so
/// that the entries of default handlers read as before sources existed.
fn new_entry(kind: Kind, name: &HandlerName, event: EventSource) -> Table {
    let mut table = Table::new();
    table.insert("kind", value(kind.as_str()));
    table.insert("name", value(name.as_str()));
    if event != EventSource::default_for(kind) {
        table.insert("event", value(event.as_str()));
    }
    table
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use proptest::test_runner::{Config, TestRunner};
    use proptest::{prop_assert, prop_assert_eq};

    use super::super::cases::{CASES, manifest_texts};
    use super::super::tests::{MINIMAL, parse};
    use super::super::{HandlerEntry, entries_of};
    use super::*;

    fn name(raw: &str) -> HandlerName {
        HandlerName::parse(raw).unwrap().name
    }

    #[test]
    fn adding_a_handler_appends_one_entry_and_keeps_the_rest() {
        let mut manifest = parse(MINIMAL).unwrap();
        assert!(manifest.record_handler(
            Kind::Producers,
            &name("error_event"),
            EventSource::Eventbridge
        ));
        assert!(!manifest.record_handler(
            Kind::Producers,
            &name("error_event"),
            EventSource::Eventbridge
        ));
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
                event: None,
                requirements: None,
            }]
        );
    }

    #[test]
    fn a_source_other_than_the_kinds_default_is_written_and_read_back_by_the_scanner() {
        let mut manifest = parse(MINIMAL).unwrap();
        manifest.record_handler(Kind::Consumers, &name("orders"), EventSource::Sqs);
        let text = manifest.to_text();
        assert!(
            text.ends_with("kind = \"consumers\"\nname = \"orders\"\nevent = \"sqs\"\n"),
            "{text}"
        );
        let reparsed = parse(text).unwrap();
        assert!(reparsed.plain_from.is_some(), "read by the fast scanner");
        assert_eq!(reparsed.handlers()[0].event.as_deref(), Some("sqs"));
        assert_eq!(
            reparsed.event_of(Kind::Consumers, &name("orders")),
            EventSource::Sqs
        );
    }

    #[test]
    fn removing_a_handler_drops_only_its_entry() {
        let mut manifest = parse(MINIMAL).unwrap();
        manifest.record_handler(Kind::Producers, &name("a"), EventSource::Eventbridge);
        manifest.record_handler(Kind::Producers, &name("b"), EventSource::Eventbridge);
        assert_eq!(
            manifest.remove_handler(Kind::Producers, &name("a")),
            Ok(true)
        );
        assert_eq!(
            manifest.remove_handler(Kind::Producers, &name("a")),
            Ok(false)
        );
        assert_eq!(manifest.handlers().len(), 1);
        assert_eq!(manifest.handlers()[0].name, "b");
        assert!(manifest.to_text().starts_with(MINIMAL));
        assert_eq!(
            parse(manifest.to_text()).unwrap().handlers(),
            manifest.handlers()
        );
    }

    #[test]
    fn a_handler_listed_twice_loses_both_entries() {
        let entry = "[[handlers]]\nkind = \"producers\"\nname = \"a\"\n";
        let other = "[[handlers]]\nkind = \"consumers\"\nname = \"a\"\n";
        let mut manifest = parse(&format!("{MINIMAL}{entry}{other}{entry}")).unwrap();
        assert_eq!(
            manifest.remove_handler(Kind::Producers, &name("a")),
            Ok(true)
        );
        assert_eq!(manifest.to_text(), format!("{MINIMAL}{other}"));
    }

    #[test]
    fn a_crlf_manifest_stays_crlf_when_entries_are_added_and_removed() {
        let crlf = |text: &str| text.replace('\n', "\r\n");
        let start = crlf(&format!(
            "{MINIMAL}[[handlers]]\nkind = \"consumers\"\nname = \"b\"\n"
        ));
        let mut manifest = parse(&start).unwrap();
        manifest.record_handler(Kind::Producers, &name("a"), EventSource::Eventbridge);
        let added = format!(
            "{start}{}",
            crlf("\n[[handlers]]\nkind = \"producers\"\nname = \"a\"\n")
        );
        assert_eq!(manifest.to_text(), added);
        assert_eq!(
            manifest.remove_handler(Kind::Consumers, &name("b")),
            Ok(true)
        );
        assert_eq!(
            manifest.to_text(),
            crlf(&format!(
                "{MINIMAL}\n[[handlers]]\nkind = \"producers\"\nname = \"a\"\n"
            ))
        );
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
            manifest.record_handler(Kind::Producers, &name("a"), EventSource::Eventbridge);
            let mut doc: DocumentMut = start.parse().unwrap();
            let tables = doc
                .entry("handlers")
                .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()))
                .as_array_of_tables_mut()
                .unwrap();
            tables.push(new_entry(
                Kind::Producers,
                &name("a"),
                EventSource::Eventbridge,
            ));
            assert_eq!(manifest.to_text(), doc.to_string(), "{start:?}");
        }
    }

    /// Over every generated manifest the tool accepts: adding an entry gives a
    /// text TOML reads as the old entries plus the new one, in the file's line
    /// ending; removing a handler takes every copy of it and nothing else.
    #[test]
    fn edits_of_any_accepted_manifest_are_valid_toml_with_the_expected_entries() {
        let accepted = Cell::new(0);
        let mut runner = TestRunner::new(Config {
            failure_persistence: None,
            ..Config::with_cases(CASES)
        });
        let result = runner.run(&manifest_texts(), |text| {
            let Ok(manifest) = parse(&text) else {
                return Ok(());
            };
            accepted.set(accepted.get() + 1);
            let before = manifest.handlers().to_vec();
            let crlf = manifest.line_ending() == "\r\n";

            let mut added = manifest.clone();
            let new = name("zz_added");
            added.record_handler(Kind::Producers, &new, EventSource::Eventbridge);
            let appended = &added.to_text()[text.len()..];
            let doc: DocumentMut = added.to_text().parse().expect("valid TOML after adding");
            let mut want = before.clone();
            want.push(HandlerEntry {
                kind: "producers".into(),
                name: "zz_added".into(),
                ..Default::default()
            });
            prop_assert_eq!(entries_of(&doc), want);
            if crlf {
                prop_assert_eq!(
                    appended.matches('\n').count(),
                    appended.matches("\r\n").count()
                );
            } else {
                prop_assert!(!appended.contains('\r'));
            }

            if let Some(first) = before.first()
                && let (Some(kind), Ok(parsed)) = (
                    Kind::from_manifest(&first.kind),
                    HandlerName::parse(&first.name),
                )
                && parsed.renamed_from.is_none()
            {
                let mut removed = manifest.clone();
                prop_assert_eq!(removed.remove_handler(kind, &parsed.name), Ok(true));
                let doc: DocumentMut = removed
                    .to_text()
                    .parse()
                    .expect("valid TOML after removing");
                // Every entry of that kind and name goes, whatever its event.
                let rest: Vec<HandlerEntry> = before
                    .iter()
                    .filter(|e| (&e.kind, &e.name) != (&first.kind, &first.name))
                    .cloned()
                    .collect();
                prop_assert_eq!(entries_of(&doc), rest);
                if crlf {
                    prop_assert_eq!(
                        with_line_ending(removed.to_text(), "\r\n"),
                        removed.to_text()
                    );
                }
            }
            Ok(())
        });
        if let Err(failure) = result {
            panic!("{failure}");
        }
        eprintln!("{CASES} manifests: {} accepted and edited", accepted.get());
        assert!(accepted.get() > CASES as usize / 5, "{}", accepted.get());
    }
}
