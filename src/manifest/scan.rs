//! The fast reading of `lambdas.toml`: the settings (the text before the first
//! table) with toml_edit, the `[[handlers]]` entries with a line scanner, when
//! they are in the plain form this tool writes. A project of 10,000 handlers
//! has a manifest of tens of thousands of short lines, and reading them is
//! most of `add-handler`'s cost (see BENCHMARKS.md).
//!
//! The scanner must never accept a text that TOML rejects: it reads only what
//! it can check byte for byte against the TOML grammar, and gives up (`None`,
//! the caller then runs the full parser) at anything else. TOML's rules that
//! matter here: whitespace is space and tab only (no form feed, no other
//! Unicode space); a line ends with LF or CRLF, and a CR anywhere else is an
//! error; comments and strings hold no control character but tab (U+0000 to
//! U+001F, U+007F). The property test below holds the scanner to toml_edit's
//! verdict over thousands of mutated manifests.

use toml_edit::DocumentMut;

use super::{HandlerEntry, Requirements};

/// One entry as the scanner reads it, borrowing from the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub event: Option<&'a str>,
    /// The `requirements` array as written, from `[` to `]`: a one-line
    /// array of plain strings ([`plain_strings`] read it).
    pub requirements: Option<&'a str>,
}

impl Entry<'_> {
    pub fn to_entry(self) -> HandlerEntry {
        let requirements = self.requirements.map(|array| {
            let mut names = Vec::new();
            plain_strings(array, |name| names.push(name.to_string()));
            Requirements::Names(names)
        });
        HandlerEntry {
            kind: self.kind.to_string(),
            name: self.name.to_string(),
            event: self.event.map(str::to_string),
            requirements,
        }
    }
}

/// The keys of an entry the tool writes, each with a plain string value.
#[derive(Default)]
struct Keys<'a> {
    kind: Option<&'a str>,
    name: Option<&'a str>,
    event: Option<&'a str>,
    requirements: Option<&'a str>,
}

/// The settings read by toml_edit and the offset where the `[[handlers]]`
/// entries start, when [`scan_entries`] can read them (calling `each` with each
/// entry). `None` when either part is not in the plain form, and the whole
/// text must go through toml_edit.
pub(super) fn scan<'a>(
    text: &'a str,
    each: impl FnMut(Entry<'a>) -> bool,
) -> Option<(DocumentMut, usize)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if trim_blanks_start(line).starts_with('[') {
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

/// Reads `[[handlers]]` tables whose lines are `kind = "…"`, `name = "…"`
/// and `event = "…"` with plain strings (no escapes), `requirements = ["…"]`
/// with a one-line array of them, comments and blank lines, calling `each` with every entry until it returns false. `None` at
/// anything else, a repeated key included. Allocates nothing.
pub(super) fn scan_entries<'a>(
    body: &'a str,
    mut each: impl FnMut(Entry<'a>) -> bool,
) -> Option<()> {
    let mut current: Option<Keys<'a>> = None;
    let mut stopped = false;
    let mut finish = |keys: Option<Keys<'a>>, stopped: &mut bool| {
        if let Some(keys) = keys
            && !*stopped
            && !each(Entry {
                kind: keys.kind.unwrap_or_default(),
                name: keys.name.unwrap_or_default(),
                event: keys.event,
                requirements: keys.requirements,
            })
        {
            *stopped = true;
        }
    };
    for line in lines(body) {
        let line = trim_blanks_start(line);
        match line.as_bytes().first() {
            None => continue,
            Some(b'#') => {
                if !is_comment(line) {
                    return None;
                }
                continue;
            }
            Some(b'[') => {
                if !is_handlers_header(line) {
                    return None;
                }
                finish(current.take(), &mut stopped);
                if stopped {
                    // Only a caller that read the text before stops early.
                    return Some(());
                }
                current = Some(Keys::default());
                continue;
            }
            _ => {}
        }
        let keys = current.as_mut()?;
        let (key, value) = plain_key_value(line)?;
        let slot = match key {
            "kind" => &mut keys.kind,
            "name" => &mut keys.name,
            "event" => &mut keys.event,
            "requirements" => &mut keys.requirements,
            _ => return None,
        };
        if slot.replace(value).is_some() {
            return None;
        }
    }
    finish(current, &mut stopped);
    Some(())
}

/// The lines of `text`, without their line ends.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    // memchr finds the line ends: this loop is most of add-handler's cost.
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain(std::iter::once(text.len()));
    ends.map(move |end| {
        let line = &text[start..end];
        start = end + 1;
        // A CR belongs to the line end only right before its LF; any other is
        // left in the line, where no rule accepts it.
        match end < text.len() {
            true => line.strip_suffix('\r').unwrap_or(line),
            false => line,
        }
    })
}

/// `[[handlers]]`, blanks allowed inside the brackets as TOML and build.sh
/// allow them, then blanks or a comment (`line` starts at its first non-blank).
fn is_handlers_header(line: &str) -> bool {
    line.strip_prefix("[[")
        .map(trim_blanks_start)
        .and_then(|rest| rest.strip_prefix("handlers"))
        .map(trim_blanks_start)
        .and_then(|rest| rest.strip_prefix("]]"))
        .is_some_and(is_blank_or_comment)
}

/// A line in the plain form (`line` starts at its first non-blank): a bare
/// key the tool writes and its value: for an entry a plain string (`kind`,
/// `name`, `event`) or a one-line array of them (`requirements`, from `[` to
/// `]`); for a setting a plain string (`python`, `arch`, `dependencies`) or
/// `true` or `false` (`bytecode`).
fn plain_key_value(line: &str) -> Option<(&str, &str)> {
    let equals = line.bytes().position(|b| b == b'=')?;
    let text = trim_blanks_start(&line[equals + 1..]);
    let key = trim_blanks_end(&line[..equals]);
    let value = match key {
        "kind" | "name" | "event" | "python" | "arch" | "dependencies" => plain_string(text)?,
        "requirements" => {
            let rest = plain_strings(text, |_| {})?;
            &text[..text.len() - rest.len()]
        }
        "bytecode" => ["true", "false"]
            .into_iter()
            .find(|word| text.strip_prefix(word).is_some_and(is_blank_or_comment))?,
        _ => return None,
    };
    Some((key, value))
}

/// Whether `value` (its TOML text) is the plain form of `key`'s value.
pub(super) fn is_plain(key: &str, value: &str) -> bool {
    plain_key_value(&format!("{key} = {value}")).is_some()
}

/// The keys of an entry that `build.sh` reads (`read_manifest` in
/// templates/project/build.sh), each only in the plain form of
/// [`plain_key_value`]; it refuses any other form of them.
pub(super) const BUILD_KEYS: [&str; 3] = ["kind", "name", "requirements"];

/// The settings (keys before the first table) that `build.sh` reads, each
/// only in the plain form of [`plain_key_value`]; it refuses any other form.
pub(super) const BUILD_SETTINGS: [&str; 4] = ["python", "arch", "dependencies", "bytecode"];

/// What `build.sh` takes for a setting of [`BUILD_SETTINGS`] that it does
/// not find (`read_manifest` starts from these).
pub(super) fn build_default(key: &str) -> Option<&'static str> {
    match key {
        "dependencies" => Some("bundle"),
        "bytecode" => Some("true"),
        _ => None,
    }
}

/// What `build.sh`'s line reader (`read_manifest`) makes of a manifest: line
/// by line, a line starting with `[` opens a table (the settings end at the
/// first), a line's key is the name at its start (quoted or not). So a line
/// of a value written over several lines that starts like one of its keys
/// is read as one too, and one that starts with `[` as a table.
pub(super) struct BuildReading<'a> {
    /// The lines (numbered from 1) holding one of the [`BUILD_SETTINGS`]
    /// before the first table, or of the [`BUILD_KEYS`] in a `[[handlers]]`
    /// table, in a form other than the plain one, with that key: the lines
    /// it refuses. Other keys are not its business.
    pub refused: Vec<(usize, &'static str)>,
    /// The settings it reads, the last value of each, with its line.
    pub settings: Vec<(&'static str, usize, &'a str)>,
    /// How many lines come before the first table.
    pub head_lines: usize,
}

/// Reads `text` as [`BuildReading`] describes, the settings only unless
/// `whole` (the entries too).
pub(super) fn build_reading(text: &str, whole: bool) -> BuildReading<'_> {
    let mut reading = BuildReading {
        refused: Vec::new(),
        settings: Vec::new(),
        head_lines: 0,
    };
    // `None` before the first table, then whether it is `[[handlers]]`.
    let mut in_handlers = None;
    for (index, line) in lines(text).enumerate() {
        let line = trim_blanks_start(line);
        if line.starts_with('[') {
            if in_handlers.is_none() {
                reading.head_lines = index;
                if !whole {
                    return reading;
                }
            }
            in_handlers = Some(is_handlers_header(line));
            continue;
        }
        let keys: &[&'static str] = match in_handlers {
            None => &BUILD_SETTINGS,
            Some(true) => &BUILD_KEYS,
            Some(false) => continue,
        };
        let Some(key) = keys.iter().copied().find(|k| *k == leading_key(line)) else {
            continue;
        };
        match plain_key_value(line) {
            Some((plain, value)) if plain == key => {
                if in_handlers.is_none() {
                    reading.settings.retain(|(read, ..)| *read != key);
                    reading.settings.push((key, index + 1, value));
                }
            }
            _ => reading.refused.push((index + 1, key)),
        }
    }
    if in_handlers.is_none() {
        reading.head_lines = lines(text).count();
    }
    reading
}

/// The lines (numbered from 1) after the first `skip` whose key is `key`.
pub(super) fn lines_of_key(text: &str, skip: usize, key: &str) -> impl Iterator<Item = usize> {
    lines(text)
        .enumerate()
        .skip(skip)
        .filter(move |(_, line)| leading_key(trim_blanks_start(line)) == key)
        .map(|(index, _)| index + 1)
}

/// The key `build.sh` sees at the start of a line (`line` starts at its first
/// non-blank): a name of letters, digits, `_` and `-`, after a quote or not.
fn leading_key(line: &str) -> &str {
    let unquoted = line.strip_prefix(['"', '\'']).unwrap_or(line);
    let name_len = unquoted
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
        .count();
    &unquoted[..name_len]
}

/// The contents of a basic string without escapes or a literal string, when
/// `text` is one followed only by blanks or a comment.
fn plain_string(text: &str) -> Option<&str> {
    let (contents, rest) = leading_plain_string(text)?;
    is_blank_or_comment(rest).then_some(contents)
}

/// A plain string at the start of `text` (see [`plain_string`]): its
/// contents and what follows it.
fn leading_plain_string(text: &str) -> Option<(&str, &str)> {
    let quote = *text
        .as_bytes()
        .first()
        .filter(|q| **q == b'"' || **q == b'\'')?;
    let inner = &text[1..];
    let end = inner.bytes().position(|b| b == quote)?;
    let (contents, rest) = (&inner[..end], &inner[end + 1..]);
    // A backslash is an escape in a basic string: left to toml_edit in both.
    let plain = contents.bytes().all(|b| b != b'\\' && is_text_byte(b));
    plain.then_some((contents, rest))
}

/// Reads a one-line array of plain strings at the start of `text` (`[]`,
/// `["a", 'b',]`), calling `each` with every string's contents, when it is
/// followed only by blanks or a comment; returns what follows its `]`.
fn plain_strings<'a>(text: &'a str, mut each: impl FnMut(&'a str)) -> Option<&'a str> {
    let mut rest = trim_blanks_start(text.strip_prefix('[')?);
    loop {
        if let Some(after) = rest.strip_prefix(']') {
            return is_blank_or_comment(after).then_some(after);
        }
        let (contents, after) = leading_plain_string(rest)?;
        each(contents);
        rest = trim_blanks_start(after);
        match rest.strip_prefix(',') {
            Some(after) => rest = trim_blanks_start(after),
            None if rest.starts_with(']') => {}
            None => return None,
        }
    }
}

/// Blanks, then nothing or a comment.
fn is_blank_or_comment(text: &str) -> bool {
    let text = trim_blanks_start(text);
    text.is_empty() || is_comment(text)
}

/// `#` and the rest of the line, when TOML allows every character of it.
fn is_comment(text: &str) -> bool {
    text.strip_prefix('#')
        .is_some_and(|rest| rest.bytes().all(is_text_byte))
}

/// A byte TOML allows in comments and strings: tab, printable ASCII, or part
/// of a non-ASCII character (the text is UTF-8). Not U+0000 to U+001F but tab,
/// nor U+007F.
fn is_text_byte(byte: u8) -> bool {
    byte == b'\t' || (0x20..0x7f).contains(&byte) || byte >= 0x80
}

/// TOML's whitespace is space and tab, nothing else.
fn is_blank(byte: &u8) -> bool {
    *byte == b' ' || *byte == b'\t'
}

// Byte loops, not `trim_matches`: these run on every line of a big manifest.
fn trim_blanks_start(text: &str) -> &str {
    &text[text.bytes().take_while(is_blank).count()..]
}

fn trim_blanks_end(text: &str) -> &str {
    &text[..text.len() - text.bytes().rev().take_while(is_blank).count()]
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use proptest::prop_assert_eq;
    use proptest::test_runner::{Config, TestRunner};

    use super::super::cases::{CASES, manifest_texts};
    use super::super::entries_of;
    use super::super::tests::{MINIMAL, parse};
    use super::*;

    fn scanned(text: &str) -> Option<Vec<HandlerEntry>> {
        let mut found = Vec::new();
        scan(text, |entry| {
            found.push(entry.to_entry());
            true
        })?;
        Some(found)
    }

    /// What the full TOML parser reads from `text`: the reference for the scanner.
    fn by_toml_edit(text: &str) -> Result<Vec<HandlerEntry>, String> {
        let doc: DocumentMut = text
            .parse()
            .map_err(|e: toml_edit::TomlError| e.to_string())?;
        Ok(entries_of(&doc))
    }

    #[test]
    fn the_scanner_reads_plain_entries_as_toml_edit_does() {
        let text = format!(
            "{MINIMAL}\n[[handlers]]  # first\nkind = \"producers\"\n  name='a#b'   # note\n\n\
             # between\n[[handlers]]\nname = \"c\"\nkind = \"consumers\"\n"
        );
        let scanned = scanned(&text).expect("plain form");
        assert_eq!(Ok(scanned.clone()), by_toml_edit(&text));
        assert_eq!(scanned[0].name, "a#b");
        assert_eq!(parse(&text).unwrap().handlers(), scanned);
    }

    #[test]
    fn the_scanner_reads_package_lists_as_toml_edit_does() {
        let text = format!(
            "{MINIMAL}[[handlers]]\nkind = \"producers\"\nname = \"a\"\n\
             requirements = [ \"requests\", 'pydantic' ,]  # only these\n\
             [[handlers]]\nrequirements=[]\nkind = \"consumers\"\nname = \"b\"\n\
             [[handlers]]\nkind = \"consumers\"\nname = \"c\"\n"
        );
        let entries = scanned(&text).expect("plain form");
        assert_eq!(Ok(entries.clone()), by_toml_edit(&text));
        let names = |list: &[&str]| {
            Some(Requirements::Names(
                list.iter().map(|n| n.to_string()).collect(),
            ))
        };
        assert_eq!(entries[0].requirements, names(&["requests", "pydantic"]));
        assert_eq!(entries[1].requirements, names(&[]));
        assert_eq!(entries[2].requirements, None);
        assert_eq!(parse(&text).unwrap().handlers(), entries);
        // Other values go to toml_edit, which reads them the same way.
        for value in [
            "[\"a\",\n \"b\"]",
            "[\"re\\u0071uests\"]",
            "[1, \"a\"]",
            "\"requests\"",
            "[\"a\" \"b\"]",
            "[,]",
            "[\"a\"] x",
        ] {
            let text = format!(
                "{MINIMAL}[[handlers]]\nkind = \"producers\"\nname = \"a\"\nrequirements = {value}\n"
            );
            assert!(scanned(&text).is_none(), "{value}");
            match (parse(&text), by_toml_edit(&text)) {
                (Ok(manifest), Ok(entries)) => assert_eq!(manifest.handlers(), entries, "{value}"),
                (Err(_), Err(_)) => {}
                (ours, reference) => panic!("{value}: {ours:?} against {reference:?}"),
            }
        }
        let read = |value: &str| {
            parse(&format!("{MINIMAL}[[handlers]]\nkind = \"producers\"\nname = \"a\"\nrequirements = {value}\n"))
                .unwrap()
                .handlers()[0]
                .requirements
                .clone()
        };
        assert_eq!(read("[\"re\\u0071uests\"]"), names(&["requests"]));
        assert_eq!(
            read("[1, \"a\"]"),
            Some(Requirements::Other("[1, \"a\"]".into()))
        );
    }

    #[test]
    fn crlf_line_ends_are_read_by_the_scanner() {
        let text = format!("{MINIMAL}[[handlers]]\nkind = \"producers\"\nname = \"a\"\n")
            .replace('\n', "\r\n");
        assert_eq!(scanned(&text).map(|e| e.len()), Some(1));
    }

    #[test]
    fn other_forms_are_read_by_toml_edit_with_the_same_result() {
        for body in [
            "[[handlers]]\nkind = \"producers\"\nname = \"e\\u0073c\"\n",
            "[[handlers]]\nkind = \"producers\"\nname = \"a\"\nnote = { by = \"hand\" }\n",
            "[[handlers]]\nkind = \"producers\"\nname = \"a\"\n[settings]\nx = 1\n",
        ] {
            let text = format!("{MINIMAL}{body}");
            assert!(scanned(&text).is_none(), "{body}");
            let manifest = parse(&text).unwrap();
            assert_eq!(
                Ok(manifest.handlers().to_vec()),
                by_toml_edit(&text),
                "{body}"
            );
        }
        let inline = format!("{MINIMAL}handlers = [{{ kind = \"producers\", name = \"a\" }}]\n");
        assert!(
            parse(&inline).is_err(),
            "an inline array is not [[handlers]] tables"
        );
    }

    #[test]
    fn the_lines_build_sh_refuses_are_those_of_its_keys_in_another_form() {
        let entry = "[[handlers]]\nkind = \"producers\"\nname = \"a\"\n";
        // Blanks inside the header are TOML's and build.sh's: plain.
        let text = format!(
            "{MINIMAL}{}",
            entry.replace("[[handlers]]", "[[ handlers\t]] # x")
        );
        assert_eq!(scanned(&text).map(|e| e.len()), Some(1));
        let first = MINIMAL.lines().count() + 1;
        for (body, refused) in [
            (
                format!("{entry}requirements = [\n  \"a\",\n]\n"),
                vec![(4, "requirements")],
            ),
            (
                format!("{entry}requirements = [\"re\\u0071uests\"]\n"),
                vec![(4, "requirements")],
            ),
            (
                entry.replace("\"producers\"", "\"\"\"producers\"\"\""),
                vec![(2, "kind")],
            ),
            (entry.replace("name =", "\"name\" ="), vec![(3, "name")]),
            (entry.replace("\"a\"", "'a' \\"), vec![(3, "name")]),
            // Keys build.sh does not read, in any form, are not its business;
            // a line of a value over several lines that starts like one of its
            // keys is one it refuses as well.
            (
                format!("{entry}event = \"\"\"sqs\"\"\"\nnote = [\n  \"kind\",\n]\n"),
                vec![(6, "kind")],
            ),
        ] {
            let text = format!("{MINIMAL}{body}");
            assert_eq!(scanned(&text), None, "{body}");
            let shifted: Vec<(usize, &str)> = refused
                .iter()
                .map(|(line, key)| (line + first - 1, *key))
                .collect();
            assert_eq!(build_reading(&text, true).refused, shifted, "{body}");
        }
    }

    /// The examples of issue 9: each was read as fine by the scanner, while
    /// TOML rejects it; every command must now refuse it.
    #[test]
    fn what_toml_rejects_the_scanner_rejects_too() {
        let entry = "[[handlers]]\nkind = \"producers\"\nname = \"a\"\n";
        for (what, body) in [
            (
                "a control character in a comment",
                format!("{entry}# x\x01y\n"),
            ),
            ("NUL in a comment", format!("{entry}# \0\n")),
            ("DEL in a comment", format!("{entry}name2 = 'x' # \x7f\n")),
            ("a bare CR", entry.replace("\nname", "\rname")),
            ("a form feed", format!("\x0c{entry}")),
            (
                "a form feed after a value",
                entry.replace("\"a\"", "\"a\"\x0c"),
            ),
            ("a file ending in a bare CR", format!("{entry}\r")),
            ("a CR in a comment", format!("{entry}# a\rb\n")),
            ("a vertical tab", entry.replace("kind =", "kind\x0b=")),
            ("a no-break space", entry.replace("kind =", "kind\u{a0}=")),
        ] {
            let text = format!("{MINIMAL}{body}");
            assert!(by_toml_edit(&text).is_err(), "{what}: toml_edit accepts it");
            assert_eq!(scanned(&text), None, "{what}");
            let err = parse(&text).unwrap_err();
            assert!(err.message.contains("is not valid TOML"), "{what}: {err}");
        }
    }

    /// The differential property: over valid manifests and mutations of them
    /// (inserted, deleted and replaced characters, control characters, CRs,
    /// form feeds, quotes and brackets), whatever the scanner accepts, toml_edit
    /// accepts too, with the same entries. Also counts how many cases each
    /// side took, so that the test cannot pass by never reaching the scanner.
    #[test]
    fn the_scanner_never_accepts_what_toml_edit_rejects() {
        let (scanner_read, toml_rejected) = (Cell::new(0), Cell::new(0));
        let mut runner = TestRunner::new(Config {
            failure_persistence: None,
            ..Config::with_cases(CASES)
        });
        let result = runner.run(&manifest_texts(), |text| {
            let reference = by_toml_edit(&text);
            toml_rejected.set(toml_rejected.get() + usize::from(reference.is_err()));
            if let Some(entries) = scanned(&text) {
                scanner_read.set(scanner_read.get() + 1);
                // What the scanner reads plain, build.sh reads too.
                let entries_refused = build_reading(&text, true)
                    .refused
                    .into_iter()
                    .filter(|(_, key)| BUILD_KEYS.contains(key));
                prop_assert_eq!(entries_refused.count(), 0, "on {:?}", text);
                prop_assert_eq!(Ok(entries), reference, "on {:?}", text);
            }
            Ok(())
        });
        if let Err(failure) = result {
            panic!("{failure}");
        }
        let (read, rejected) = (scanner_read.get(), toml_rejected.get());
        eprintln!(
            "{CASES} manifests: {read} read by the scanner, {rejected} rejected by toml_edit"
        );
        assert!(read > CASES as usize / 5, "{read}");
        assert!(rejected > CASES as usize / 5, "{rejected}");
    }
}
