//! One checked change to the tree, and everything it knows about itself: how
//! it is staged, placed, undone, journalled and, after a kill, finished.
//!
//! A [`Change`] is what [`super::resolve`] makes of a plan's step once the
//! tree agrees with it. Placing and rolling back are judged from the tree
//! and the staging folder alone, so that a later run can finish either. Its journal form is the same type serialized with
//! serde: the bytes a file gets are staged beside the journal, in a file
//! named after the change's position, so the journal leaves them out. A new
//! kind of change (say, "replace only if the file still has hash H") is one
//! more variant here, with its arm in each method.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::journal::RelPath;

/// One visible step of a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Change {
    /// A folder the files below it need.
    MakeDir { path: RelPath },
    /// A file that did not exist.
    Create {
        path: RelPath,
        #[serde(skip)]
        contents: Vec<u8>,
        #[serde(skip)]
        executable: bool,
    },
    /// A file written over an existing one, which is kept in the staging
    /// folder until the commit is done.
    Replace {
        path: RelPath,
        #[serde(skip)]
        contents: Vec<u8>,
        #[serde(skip)]
        executable: bool,
    },
    /// Bytes added at the end of a file that was `expected_len` long.
    Append {
        path: RelPath,
        expected_len: u64,
        #[serde(skip)]
        bytes: Vec<u8>,
    },
    /// A file or folder moved whole into the staging folder, deleted with it.
    Remove { path: RelPath },
    /// An existing file given the exec bit; its mode before, to undo it.
    MakeExecutable { path: RelPath, mode_before: u32 },
}

/// The staging folder's name for what change number `position` staged.
pub(crate) fn staged_name(position: usize) -> String {
    position.to_string()
}

/// The staging folder's name for the original that change number
/// `position` moved aside (a replaced file, a removed file or folder).
pub(crate) fn backup_name(position: usize) -> String {
    format!("{position}{BACKUP_SUFFIX}")
}

/// How the names of originals kept in a staging folder end.
pub(crate) const BACKUP_SUFFIX: &str = ".orig";

impl Change {
    pub fn path(&self) -> &RelPath {
        match self {
            Change::MakeDir { path }
            | Change::Create { path, .. }
            | Change::Replace { path, .. }
            | Change::Append { path, .. }
            | Change::Remove { path }
            | Change::MakeExecutable { path, .. } => path,
        }
    }

    /// The order of a commit: folders, removals, files, appends, exec bits
    /// (so a file's folder exists before it, and the bit is set on a file
    /// that is there).
    pub(crate) fn phase(&self) -> u8 {
        match self {
            Change::MakeDir { .. } => 0,
            Change::Remove { .. } => 1,
            Change::Create { .. } | Change::Replace { .. } => 2,
            Change::Append { .. } => 3,
            Change::MakeExecutable { .. } => 4,
        }
    }

    /// Writes what the change needs into the staging folder, as
    /// [`staged_name`]: nothing visible changes yet.
    pub(crate) fn stage(&self, staging: &Path, position: usize) -> io::Result<()> {
        let staged = staging.join(staged_name(position));
        match self {
            Change::Create {
                contents,
                executable,
                ..
            }
            | Change::Replace {
                contents,
                executable,
                ..
            } => write_file(&staged, contents, *executable),
            Change::Append { bytes, .. } => fs::write(staged, bytes),
            Change::MakeDir { .. } | Change::Remove { .. } | Change::MakeExecutable { .. } => {
                Ok(())
            }
        }
    }

    /// Writes the change into a new tree that is not visible yet (a new
    /// project's staging folder), where nothing exists before.
    pub(crate) fn write_into(&self, tree: &Path) -> io::Result<()> {
        let target = tree.join(self.path().as_path());
        match self {
            Change::MakeDir { .. } => fs::create_dir(target),
            Change::Create {
                contents,
                executable,
                ..
            } => write_file(&target, contents, *executable),
            _ => Err(io::Error::other("a new tree only has folders and files")),
        }
    }

    /// Carries out the staged change in the tree under `root`.
    pub(crate) fn place(&self, root: &Path, staging: &Path, position: usize) -> Result<()> {
        let full = root.join(self.path().as_path());
        let staged = staging.join(staged_name(position));
        let backup = staging.join(backup_name(position));
        match self {
            Change::MakeDir { .. } => {
                fs::create_dir(&full).with_context(|| format!("cannot create `{}`", full.display()))
            }
            Change::Remove { .. } => fs::rename(&full, &backup)
                .with_context(|| format!("cannot remove `{}`", full.display())),
            Change::Create { .. } => fs::rename(&staged, &full)
                .with_context(|| format!("cannot write `{}`", full.display())),
            // The original is kept as a second link (or a copy) before the new
            // file is renamed over it in one step: at no moment is the path
            // missing, so a run killed here leaves `lambdas.toml` in place and
            // the next run finds the project to finish or undo the change.
            Change::Replace { .. } => {
                keep_mode(&full, &staged)
                    .with_context(|| format!("cannot write `{}`", full.display()))?;
                fs::hard_link(&full, &backup)
                    .or_else(|_| fs::copy(&full, &backup).map(drop))
                    .with_context(|| format!("cannot replace `{}`", full.display()))?;
                fs::rename(&staged, &full)
                    .with_context(|| format!("cannot write `{}`", full.display()))
            }
            Change::Append { bytes, .. } => append_to(&full, bytes)
                .with_context(|| format!("cannot write `{}`", full.display())),
            Change::MakeExecutable { mode_before, .. } => {
                set_mode_bits(&full, with_exec_bits(*mode_before))
                    .with_context(|| format!("cannot make `{}` executable", full.display()))
            }
        }
    }

    /// Undoes the change as far as it happened, judged from the tree and
    /// the staging folder alone: a no-op when it never happened or was
    /// undone already, so the same code serves a failed commit and the run
    /// after one that was killed while undoing.
    pub(crate) fn roll_back(&self, root: &Path, staging: &Path, position: usize) -> Result<()> {
        let full = root.join(self.path().as_path());
        let staged = staging.join(staged_name(position));
        let backup = staging.join(backup_name(position));
        let exists = |path: &Path| fs::symlink_metadata(path).is_ok();
        match self {
            Change::MakeDir { .. } => {
                if fs::symlink_metadata(&full).is_ok_and(|meta| meta.is_dir()) {
                    fs::remove_dir(&full)?;
                }
            }
            // Placed when its staged file was moved out of the staging folder.
            Change::Create { .. } => {
                if !exists(&staged) && exists(&full) {
                    fs::remove_file(&full)?;
                }
            }
            // The original is in the staging folder from the moment it was
            // moved aside until it is put back.
            Change::Replace { .. } | Change::Remove { .. } => {
                if exists(&backup) {
                    fs::rename(&backup, &full)?;
                }
            }
            Change::Append { expected_len, .. } => {
                let appended = fs::symlink_metadata(&staged)?.len();
                if fs::symlink_metadata(&full)?.len() == expected_len + appended {
                    fs::OpenOptions::new()
                        .write(true)
                        .open(&full)?
                        .set_len(*expected_len)?;
                }
            }
            Change::MakeExecutable { mode_before, .. } => {
                if fs::symlink_metadata(&full).is_ok_and(|meta| meta.is_file()) {
                    set_mode_bits(&full, *mode_before)?;
                }
            }
        }
        Ok(())
    }

    /// Refuses the change for a replay unless its path leads through plain
    /// folders (no symbolic link, no file) and ends at something the change
    /// may touch, and an append finds its file as it was or as it will be: a
    /// journal is never trusted to stay inside the project, and a replay that
    /// would stop half way does not start.
    pub(crate) fn check_replayable(
        &self,
        root: &Path,
        staging: &Path,
        position: usize,
    ) -> Result<(), String> {
        let path = self.path().as_path();
        let mut folder = root.to_path_buf();
        for part in path.parent().into_iter().flat_map(Path::iter) {
            folder.push(part);
            match fs::symlink_metadata(&folder) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(format!("`{}` is a symbolic link", shown(root, &folder)));
                }
                Ok(meta) if !meta.is_dir() => {
                    return Err(format!("`{}` is not a folder", shown(root, &folder)));
                }
                Ok(_) => {}
                // Made by an earlier change of the same journal, or the
                // change is already done.
                Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                Err(e) => return Err(format!("cannot read `{}`: {e}", shown(root, &folder))),
            }
        }
        // What the change moves into the tree or appends must be a file
        // of the staging folder's own, never a link to one elsewhere.
        let staged = fs::symlink_metadata(staging.join(staged_name(position)));
        if matches!(&staged, Ok(meta) if !meta.is_file()) {
            return Err("what was staged for it is not a regular file".into());
        }
        let target = fs::symlink_metadata(root.join(path));
        match self {
            Change::Append { expected_len, .. } => {
                let staged = staged.map_err(|e| format!("its staged bytes cannot be read: {e}"))?;
                match target {
                    Ok(meta) if !meta.is_file() => Err("it is not a regular file".into()),
                    Ok(meta)
                        if meta.len() == *expected_len
                            || meta.len() == expected_len + staged.len() =>
                    {
                        Ok(())
                    }
                    Ok(_) => Err("it changed since the append was staged".into()),
                    Err(e) => Err(format!("it cannot be read: {e}")),
                }
            }
            Change::MakeExecutable { .. } => match target {
                Ok(meta) if meta.is_file() => Ok(()),
                _ => Err("it is not a regular file".into()),
            },
            _ => Ok(()),
        }
    }

    /// Finishes the change after a kill: a no-op when it was already done.
    pub(crate) fn replay(&self, root: &Path, staging: &Path, position: usize) -> Result<()> {
        let full = root.join(self.path().as_path());
        let staged = staging.join(staged_name(position));
        match self {
            Change::MakeDir { .. } => match fs::symlink_metadata(&full) {
                Ok(meta) if meta.is_dir() => {}
                _ => fs::create_dir(&full)?,
            },
            Change::Remove { .. } => match fs::symlink_metadata(&full) {
                // Moved aside like the original run does, then deleted with
                // the staging folder.
                Ok(_) => fs::rename(&full, staging.join(backup_name(position)))?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            },
            Change::Create { .. } => {
                if fs::symlink_metadata(&staged).is_ok() {
                    fs::rename(&staged, &full)?;
                }
            }
            Change::Replace { .. } => {
                if fs::symlink_metadata(&staged).is_ok() {
                    if fs::symlink_metadata(&full).is_ok_and(|meta| meta.is_file()) {
                        keep_mode(&full, &staged)?;
                    }
                    fs::rename(&staged, &full)?;
                }
            }
            Change::Append { expected_len, .. } => {
                let bytes = fs::read(&staged)?;
                let len = fs::symlink_metadata(&full)?.len();
                // Checked before the replay began: either not yet appended
                // or already appended.
                if len == *expected_len {
                    append_to(&full, &bytes)?;
                }
            }
            Change::MakeExecutable { mode_before, .. } => {
                set_mode_bits(&full, with_exec_bits(*mode_before))?
            }
        }
        Ok(())
    }
}

/// `path` as the user sees it from the project root.
fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Gives the staged file the mode the user gave the file it replaces.
fn keep_mode(original: &Path, staged: &Path) -> io::Result<()> {
    fs::set_permissions(staged, fs::metadata(original)?.permissions())
}

/// Adds `bytes` at the end of the file in one write.
fn append_to(path: &Path, bytes: &[u8]) -> io::Result<()> {
    fs::OpenOptions::new()
        .append(true)
        .open(path)?
        .write_all(bytes)
}

/// Writes a new file (staged, or in a new tree) with mode 644, or 755 when
/// `executable`. The mode is given when the file is made, so that only a
/// umask that takes bits away from it costs a `chmod` (a new project's
/// dozens of files, one call each).
fn write_file(path: &Path, contents: &[u8], executable: bool) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?
        .write_all(contents)?;
    if mode & umask() != 0 {
        set_mode_bits(path, mode)?;
    }
    Ok(())
}

/// The process's umask, read once (setting it is the only way to read it,
/// so it is put back at once).
fn umask() -> u32 {
    static UMASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        // SAFETY: umask only swaps the process's mask; the old one is put back.
        let old = unsafe { libc::umask(0o022) };
        // SAFETY: as above.
        unsafe { libc::umask(old) };
        old
    })
}

/// `chmod +x`: whoever may read the file may now run it.
fn with_exec_bits(mode: u32) -> u32 {
    mode | ((mode & 0o444) >> 2)
}

fn set_mode_bits(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}
