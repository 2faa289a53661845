//! Whether a handler module defines its handler, read line by line (no
//! Python parser): what `check` reports as `missing-function`.
//!
//! The generated packager (`tools/package_lambda.py`) decides the same thing
//! from Python's AST before it builds a zip. Both give the verdicts of one
//! table, `tests/handler_definitions.json`, and both are tested against it:
//! a top-level `def NAME(`, an assignment `NAME = …` (also annotated), or
//! `from … import NAME` (also `… as NAME`, also over several lines in
//! parentheses) define it; `async def` does not (Lambda's Python runtime calls
//! the handler and does not await it), nor does anything indented, commented
//! out or inside a triple-quoted string. Pure.

use crate::names::HandlerName;

/// Whether `text`, a Python module, binds `name` at its top level.
pub fn defines_handler(text: &str, name: &HandlerName) -> bool {
    let name = name.as_str();
    // The quote that opened a triple-quoted string still open, if any.
    let mut open_string: Option<&str> = None;
    // A `from … import (` statement being read until its `)`.
    let mut import: Option<String> = None;
    for line in text.lines() {
        if let Some(quote) = open_string {
            if triple_quotes(line, quote) % 2 == 1 {
                open_string = None;
            }
            continue;
        }
        if let Some(statement) = import.as_mut() {
            statement.push_str(line);
            if line.contains(')') {
                if imports(statement, name) {
                    return true;
                }
                import = None;
            }
            continue;
        }
        if defines_on_line(line, name) || imports(line, name) {
            return true;
        }
        if line.starts_with("from ") && line.contains("import (") && !line.contains(')') {
            import = Some(line.to_string());
            continue;
        }
        // Most lines hold no quote: one byte search before counting them.
        open_string = memchr::memchr2(b'"', b'\'', line.as_bytes()).and_then(|_| {
            ["\"\"\"", "'''"]
                .into_iter()
                .find(|quote| triple_quotes(line, quote) % 2 == 1)
        });
    }
    false
}

/// How many times `quote`, three of one character, occurs in `line`, as
/// `str::matches` counts it: a run of n such characters holds n / 3 (a
/// counting loop, where a string searcher would be built for every line).
fn triple_quotes(line: &str, quote: &str) -> usize {
    let char = quote.as_bytes()[0];
    if !line.as_bytes().contains(&char) {
        return 0;
    }
    let (mut count, mut run) = (0, 0);
    for byte in line.bytes() {
        if byte == char {
            run += 1;
        } else {
            count += run / 3;
            run = 0;
        }
    }
    count + run / 3
}

/// `def NAME(` or `NAME = …` / `NAME: T = …` at the start of a line.
fn defines_on_line(line: &str, name: &str) -> bool {
    let defined = line
        .strip_prefix("def")
        .filter(|rest| rest.starts_with([' ', '\t']))
        .and_then(|rest| rest.trim_start().strip_prefix(name))
        .is_some_and(|rest| rest.trim_start().starts_with('('));
    let assigned = line
        .strip_prefix(name)
        .map(str::trim_start)
        .is_some_and(|rest| match rest.strip_prefix(':') {
            Some(annotated) => has_assignment(annotated),
            None => rest.starts_with('=') && !rest.starts_with("=="),
        });
    defined || assigned
}

/// Whether an annotation's rest (`T = value`) assigns a value.
fn has_assignment(rest: &str) -> bool {
    let bytes = rest.as_bytes();
    bytes.iter().enumerate().any(|(i, b)| {
        *b == b'='
            && bytes.get(i + 1) != Some(&b'=')
            && !matches!(
                i.checked_sub(1).map(|p| bytes[p]),
                Some(b'=' | b'!' | b'<' | b'>')
            )
    })
}

/// Whether a `from … import …` statement (one line, or several joined)
/// binds `name`.
fn imports(statement: &str, name: &str) -> bool {
    let Some((_, imported)) = statement
        .strip_prefix("from ")
        .and_then(|rest| rest.split_once(" import "))
    else {
        return false;
    };
    let imported = imported.split('#').next().unwrap_or_default();
    imported
        .trim_matches(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .split(',')
        .filter_map(|alias| alias.split_whitespace().last())
        .any(|bound| bound == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One case of `tests/handler_definitions.json`.
    #[derive(serde::Deserialize)]
    struct Case {
        case: String,
        name: String,
        source: String,
        defines: bool,
    }

    proptest::proptest! {
        #[test]
        fn triple_quotes_are_counted_as_str_matches_counts_them(line in "[\"'a ]{0,24}") {
            for quote in ["\"\"\"", "\'\'\'"] {
                proptest::prop_assert_eq!(triple_quotes(&line, quote), line.matches(quote).count());
            }
        }
    }

    #[test]
    fn every_case_of_the_shared_table_gets_its_verdict() {
        let cases: Vec<Case> =
            serde_json::from_str(include_str!("../tests/handler_definitions.json")).unwrap();
        assert!(cases.len() >= 20, "the table lost its cases");
        let wrong: Vec<&str> = cases
            .iter()
            .filter(|c| {
                let name = HandlerName::parse(&c.name).unwrap().name;
                defines_handler(&c.source, &name) != c.defines
            })
            .map(|c| c.case.as_str())
            .collect();
        assert!(wrong.is_empty(), "wrong verdicts: {wrong:?}");
    }
}
