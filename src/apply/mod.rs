//! The only module that writes to the disk: it checks a [`Plan`](crate::plan::Plan) against the
//! tree, then carries out all of it or none of it.
//!
//! [`resolve`] only reads: it turns each step of the plan into the
//! [`Change`]s it makes (a file created, replaced or kept, a folder made, a
//! removal, an append, an exec bit), and refuses the whole plan on the first
//! conflict. [`commit`] carries out the changes. A new project is staged in a
//! hidden sibling folder and renamed into place in one step; changes to an
//! existing project are staged in a hidden folder inside it, journalled, then
//! placed one by one, and rolled back (last first) if any step fails. A removal moves its file
//! or folder into the staging folder, so nothing is deleted until every step
//! has succeeded.
//!
//! Interruptions: every staging folder is locked (flock) by the process that
//! owns it, and holds a journal of its changes once every file is staged. A
//! later run that finds a staging folder nobody holds ([`recover`]) finishes
//! the journalled changes, finishes a rollback that was under way, or, with
//! neither, deletes it: a run killed at any moment leaves, after the next
//! run, the whole change or none of it.
//! This holds for a killed process, not for a power cut (nothing is fsynced).
//! Recovery replays only what it can prove this tool wrote in this project
//! folder ([`owner`]), and only plain relative paths that lead through no
//! symbolic link; anything else is refused and left as it is.
//!
//! One file per concern: [`change`] (each change's stage, place, undo and
//! replay), [`journal`] (its serialization), [`owner`] (the proof),
//! `resolve` (the checks), `commit` (staging, placing, undoing) and
//! `recovery`.

pub mod change;
mod commit;
pub mod journal;
pub mod owner;
mod recovery;
mod resolve;

use std::path::{Path, PathBuf};

use crate::error::UserError;

pub use change::Change;
pub use commit::{commit, lock_folder};
pub use recovery::{Recovered, recover};
pub use resolve::resolve;

/// Prefix of the staging folders; `check` and the next run know them as ours.
pub const STAGING_PREFIX: &str = ".lambda-scaffold-staging-";

/// Name of the journal inside a staging folder: written once every file is
/// staged, before the first visible change.
pub const JOURNAL: &str = "journal";

/// What a staging folder's journal becomes when a step of its change failed:
/// the list of changes to roll back, last first.
pub const ROLLBACK: &str = "rollback";

/// What the rollback list becomes when a failed change could not be fully
/// undone: the list of the originals kept beside it, never replayed.
const UNDO_FAILED: &str = "undo-failed.json";

/// A planned file exists where the plan may not overwrite one; a type of its
/// own so that the command can say which of its things it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{}` already exists", path.display())]
pub struct AlreadyExists {
    pub path: PathBuf,
}

/// What happens to one planned file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Replace,
}

/// A plan checked against the tree: the changes a commit makes, in order.
#[derive(Debug)]
pub struct Resolved {
    pub root: PathBuf,
    /// True when the root folder does not exist yet (or is empty) and the whole
    /// tree is staged and renamed into place at once.
    pub fresh_root: bool,
    pub changes: Vec<Change>,
}

impl Resolved {
    /// The files (relative to the root) that the commit writes.
    pub fn written(&self) -> impl Iterator<Item = (&Path, Action)> {
        self.changes.iter().filter_map(|change| match change {
            Change::Create { path, .. } => Some((path.as_path(), Action::Create)),
            Change::Replace { path, .. } => Some((path.as_path(), Action::Replace)),
            _ => None,
        })
    }

    /// The files and folders that the commit removes.
    pub fn removed(&self) -> impl Iterator<Item = &Path> {
        self.changes.iter().filter_map(|change| match change {
            Change::Remove { path } => Some(path.as_path()),
            _ => None,
        })
    }

    /// The files that the commit appends to.
    pub fn appended(&self) -> impl Iterator<Item = &Path> {
        self.changes.iter().filter_map(|change| match change {
            Change::Append { path, .. } => Some(path.as_path()),
            _ => None,
        })
    }
}

/// `path` for a one-line message: control characters (a newline in a forged
/// folder's name) escaped.
fn one_line(path: &Path) -> String {
    path.display()
        .to_string()
        .chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// The command that deletes `path`, in backticks, quoted so that the user
/// can copy it from one line whatever the name holds (quotes, a newline,
/// bytes that are not UTF-8).
fn delete_command(path: &Path) -> String {
    format!("`rm -r -- {}`", shell_word(path))
}

/// `path` as one shell word: in single quotes, or in `$'…'` with escapes
/// when it holds control characters or bytes that are not UTF-8.
fn shell_word(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    if let Ok(text) = std::str::from_utf8(bytes)
        && !text.chars().any(char::is_control)
    {
        return format!("'{}'", text.replace('\'', r"'\''"));
    }
    let mut word = String::from("$'");
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\'' | '\\' => {
                    word.push('\\');
                    word.push(c);
                }
                c if c.is_control() => {
                    let mut utf8 = [0; 4];
                    for byte in c.encode_utf8(&mut utf8).bytes() {
                        word.push_str(&format!("\\x{byte:02x}"));
                    }
                }
                c => word.push(c),
            }
        }
        for byte in chunk.invalid() {
            word.push_str(&format!("\\x{byte:02x}"));
        }
    }
    word.push('\'');
    word
}

/// The refusal of a new project's folder that already holds something.
pub fn not_empty(root: &Path) -> UserError {
    UserError::new(format!(
        "folder `{}` already exists and is not empty",
        root.display()
    ))
    .hint("choose another NAME or --output-dir, or remove that folder")
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::plan::{IfExists, Plan, PlannedAppend, PlannedFile};

    fn planned(path: &str, contents: &str) -> PlannedFile {
        PlannedFile {
            path: path.into(),
            contents: contents.as_bytes().to_vec(),
            executable: false,
            if_exists: IfExists::Refuse,
        }
    }

    fn entries(root: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_delete_command_names_any_path_to_bash_in_one_line() {
        use std::os::unix::ffi::OsStrExt;
        let names: [&[u8]; 5] = [
            b"plain-name",
            b"it's",
            b"a\nb\tc",
            b"\xff\xfe bytes",
            b"back\\slash '$(x)' \xc2\x85",
        ];
        for name in names {
            let path = Path::new(std::ffi::OsStr::from_bytes(name));
            let word = shell_word(path);
            assert!(!word.contains('\n'), "{word}");
            let out = std::process::Command::new("bash")
                .args(["-c", &format!("printf %s {word}")])
                .output()
                .expect("bash runs");
            assert_eq!(out.stdout, name, "{word}");
        }
    }

    #[test]
    fn removals_happen_with_the_writes_and_missing_ones_are_nothing_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("gone/inner")).unwrap();
        fs::write(root.join("gone/inner/a.py"), "a").unwrap();
        let mut plan = Plan::default();
        plan.remove("gone".into());
        plan.remove("never_there".into());
        plan.add(planned("kept.txt", "k"));
        let resolved = resolve(root, plan).unwrap();
        assert_eq!(resolved.removed().collect::<Vec<_>>(), [Path::new("gone")]);
        commit(&resolved).unwrap();
        assert_eq!(entries(root), [owner::OWNER_FILE, "kept.txt"]);
    }

    #[test]
    fn a_failed_commit_puts_removed_folders_back() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("gone/inner")).unwrap();
        fs::write(root.join("gone/inner/a.py"), "a").unwrap();
        fs::create_dir(root.join("sub")).unwrap();
        let mut plan = Plan::default();
        plan.remove("gone".into());
        plan.add(planned("sub/b.txt", "b"));
        let resolved = resolve(root, plan).unwrap();
        // The tree changes after the check: a folder now stands where the file
        // goes, so placing it fails after the removal was done.
        fs::create_dir(root.join("sub/b.txt")).unwrap();
        assert!(commit(&resolved).is_err());
        assert_eq!(
            fs::read_to_string(root.join("gone/inner/a.py")).unwrap(),
            "a"
        );
        assert_eq!(entries(root), ["gone", "sub"], "no staging folder left");
    }

    #[test]
    fn removals_behind_a_link_leading_outside_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        fs::create_dir(outside.path().join("victim")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("producers")).unwrap();
        let mut plan = Plan::default();
        plan.remove("producers/victim".into());
        let err = resolve(dir.path(), plan).unwrap_err();
        assert!(
            err.to_string().contains("leads outside the project"),
            "{err}"
        );
        assert!(outside.path().join("victim").is_dir());
    }

    #[test]
    fn a_new_root_that_filled_up_since_it_was_checked_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("demo");
        fs::create_dir(&root).unwrap();
        fs::write(root.join("notes.txt"), "mine").unwrap();
        let mut plan = Plan {
            new_root: true,
            ..Plan::default()
        };
        plan.add(planned("lambdas.toml", "x"));
        let err = resolve(&root, plan).unwrap_err();
        assert!(
            err.to_string().contains("already exists and is not empty"),
            "{err}"
        );
        assert_eq!(entries(&root), ["notes.txt"]);
    }

    #[test]
    fn an_append_is_undone_when_a_later_step_fails() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("lambdas.toml"), "a = 1\n").unwrap();
        fs::write(root.join("build.sh"), "#!/bin/sh\n").unwrap();
        let mut plan = Plan::default();
        plan.append(PlannedAppend {
            path: "lambdas.toml".into(),
            bytes: b"b = 2\n".to_vec(),
            expected_len: 6,
        });
        plan.make_executable("build.sh".into());
        let resolved = resolve(root, plan).unwrap();
        // The exec bit comes after the append; make it fail.
        fs::remove_file(root.join("build.sh")).unwrap();
        assert!(commit(&resolved).is_err());
        assert_eq!(
            fs::read_to_string(root.join("lambdas.toml")).unwrap(),
            "a = 1\n"
        );
        assert_eq!(entries(root), ["lambdas.toml"], "no staging folder left");
    }

    #[test]
    fn an_append_to_a_file_that_changed_since_it_was_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("lambdas.toml"), "a = 1\nc = 3\n").unwrap();
        let mut plan = Plan::default();
        plan.append(PlannedAppend {
            path: "lambdas.toml".into(),
            bytes: b"b = 2\n".to_vec(),
            expected_len: 6,
        });
        let err = resolve(dir.path(), plan).unwrap_err();
        assert!(err.to_string().contains("changed while"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn exec_bits_follow_the_read_bits() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("build.sh");
        fs::write(&script, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o640)).unwrap();
        let mut plan = Plan::default();
        plan.make_executable("build.sh".into());
        commit(&resolve(dir.path(), plan).unwrap()).unwrap();
        let mode = fs::metadata(&script).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o750);
        assert_eq!(fs::read_to_string(&script).unwrap(), "#!/bin/sh\n");
    }
}
