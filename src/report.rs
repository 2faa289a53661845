//! What commands print about a plan: the files written, or with `--dry-run`
//! the files that would be.

use std::path::Path;

use crate::apply::{Action, Resolved};

/// One line per written file, `create`/`replace` then the path shown from `shown_root`.
pub fn file_lines(resolved: &Resolved, shown_root: &Path, dry_run: bool) -> String {
    let mut written: Vec<(&Path, Action)> = resolved.written().collect();
    written.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = String::new();
    for (path, action) in written {
        let verb = match (action, dry_run) {
            (Action::Replace, false) => "replaced",
            (Action::Replace, true) => "would replace",
            (_, false) => "created",
            (_, true) => "would create",
        };
        out.push_str(&format!(
            "  {verb:<13} {}\n",
            shown_root.join(path).display()
        ));
    }
    out
}
