//! What commands print, and the one place that prints it.
//!
//! The text: the files a plan changes (or with `--dry-run` would change), and
//! aligned tables. The printing: [`print`] and [`print_after_change`] write to
//! standard output, [`eprint`] to standard error; nothing else in the tool
//! writes to either (the crate denies `println!`).
//!
//! Output that cannot be written never panics. A closed pipe (`list | head -0`)
//! ends the output quietly, as Unix tools do: the rest is dropped and the
//! command ends as it would have, with its own exit code. Any other failure
//! (`> /dev/full`) is one `error:` line and exit code 1; after a change to the
//! project, that line says the change was made.

use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::apply::{Action, Resolved};
use crate::error::UserError;
use crate::plan::shown;

/// Set once standard output is a pipe nobody reads: later output is dropped.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to standard output; see the module docs for its failures.
pub fn print(text: &str) -> Result<(), UserError> {
    write_stdout(text).map_err(|e| output_error(&e, None))
}

/// Like [`print`], for what a command prints once it changed the project:
/// the error says that `change` (``added producer `x` ``) was made all the same.
pub fn print_after_change(text: &str, change: &str) -> Result<(), UserError> {
    write_stdout(text).map_err(|e| output_error(&e, Some(change)))
}

fn output_error(error: &io::Error, change: Option<&str>) -> UserError {
    // `No space left on device`, without the ` (os error 28)` of `Display`.
    let text = error.to_string();
    let reason = text
        .rfind(" (os error ")
        .map_or(text.as_str(), |at| &text[..at]);
    let made = change.map_or(String::new(), |c| format!("; the change was made: {c}"));
    UserError::new(format!("cannot write to standard output: {reason}{made}"))
}

/// Writes `text` to standard error, the last resort: its own failures have
/// nowhere to be told, so they are ignored.
pub fn eprint(text: &str) {
    let mut stderr = io::stderr().lock();
    let _ = stderr
        .write_all(text.as_bytes())
        .and_then(|()| stderr.flush());
}

fn write_stdout(text: &str) -> io::Result<()> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        other => other,
    }
}

/// One line per removed, then per written or appended file: the verb, then
/// the path shown from `shown_root`.
pub fn file_lines(resolved: &Resolved, shown_root: &Path, dry_run: bool) -> String {
    let removed = resolved
        .removed()
        .map(|path| (if dry_run { "would remove" } else { "removed" }, path));
    let appended = resolved
        .appended()
        .map(|path| (if dry_run { "would update" } else { "updated" }, path));
    let mut changed: Vec<(&str, &Path)> = resolved
        .written()
        .map(|(path, action)| {
            let verb = match (action, dry_run) {
                (Action::Replace, false) => "replaced",
                (Action::Replace, true) => "would replace",
                (_, false) => "created",
                (_, true) => "would create",
            };
            (verb, path)
        })
        .chain(appended)
        .collect();
    changed.sort_by(|a, b| a.1.cmp(b.1));
    removed
        .chain(changed)
        .map(|(verb, path)| format!("  {verb:<13} {}\n", shown(&shown_root.join(path))))
        .collect()
}

/// Rows under a header, each column as wide as its widest cell, two spaces
/// apart; the last column is not padded.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    // One string written in place: a listing of thousands of Lambdas
    // allocates nothing per cell.
    let line: usize = widths.iter().map(|w| w + 2).sum();
    let mut out = String::with_capacity(line * (rows.len() + 1));
    let header = header.iter().copied();
    for row in std::iter::once(header.collect::<Vec<&str>>()).chain(
        rows.iter()
            .map(|row| row.iter().map(String::as_str).collect()),
    ) {
        let start = out.len();
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            out.push_str(cell);
            out.extend(std::iter::repeat_n(
                ' ',
                width.saturating_sub(cell.chars().count()),
            ));
        }
        let kept = out[start..].trim_end().len();
        out.truncate(start + kept);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_columns_are_aligned_and_lines_have_no_trailing_space() {
        let rows = vec![
            vec!["producers".to_string(), "a".to_string(), "x".to_string()],
            vec![
                "handlers".to_string(),
                "long_name".to_string(),
                "y".to_string(),
            ],
        ];
        assert_eq!(
            table(&["KIND", "NAME", "HANDLER"], &rows),
            "KIND       NAME       HANDLER\n\
             producers  a          x\n\
             handlers   long_name  y\n"
        );
    }
}
