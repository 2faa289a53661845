//! What commands print: the files a plan changes (or with `--dry-run` would
//! change), and aligned tables. Pure text.

use std::path::Path;

use crate::apply::{Action, Resolved};

/// One line per removed, then per written or appended file: the verb, then
/// the path shown from `shown_root`.
pub fn file_lines(resolved: &Resolved, shown_root: &Path, dry_run: bool) -> String {
    let removed = resolved.removed.iter().map(|path| {
        (
            if dry_run { "would remove" } else { "removed" },
            path.as_path(),
        )
    });
    let appended = resolved.appends.iter().map(|append| {
        (
            if dry_run { "would update" } else { "updated" },
            append.path.as_path(),
        )
    });
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
        .map(|(verb, path)| format!("  {verb:<13} {}\n", shown_root.join(path).display()))
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
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    std::iter::once(&header)
        .chain(rows)
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            format!("{}\n", cells.join("  ").trim_end())
        })
        .collect()
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
