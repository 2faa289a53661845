//! Finishing or discarding the changes that killed runs left staged in a
//! project, and refusing every staging folder that cannot be proven to be
//! one of them.
//!
//! Every staging folder is judged before anything is touched: a folder that
//! is not this owner's, a journal whose checksum does not match, a path that
//! is not plain relative or that leads through a symbolic link refuse the
//! whole recovery (and so the command), naming the folder. Only then are the
//! journals replayed and the folders deleted.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::change::{BACKUP_SUFFIX, Change};
use super::commit::{discard_staging, roll_back};
use super::owner::Owner;
use super::{JOURNAL, ROLLBACK, STAGING_PREFIX, UNDO_FAILED, delete_command, journal, one_line};
use crate::error::UserError;

/// What [`recover`] did with the staging folders that dead runs left.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    /// Journalled changes carried out to the end.
    pub finished: usize,
    /// Changes killed before their first visible step, thrown away.
    pub discarded: usize,
}

/// A staging folder judged safe to act on.
enum Verdict {
    /// A live run holds it.
    Busy,
    /// Killed before its journal: nothing visible happened; delete it.
    Discard(PathBuf),
    /// Journalled: finish these changes, then delete it.
    Replay(PathBuf, Vec<Change>),
    /// Killed while rolling back a failed change: finish that, then delete it.
    RollBack(PathBuf, Vec<Change>),
}

/// Finishes or discards the changes that killed runs left staged in the
/// project at `root`; refuses, touching nothing, when any staging folder
/// there is not provably this tool's (see the module doc). The caller holds
/// the project's lock.
pub fn recover(root: &Path) -> Result<Recovered> {
    let mut recovered = Recovered::default();
    let names = staging_names(root)?;
    if names.is_empty() {
        return Ok(recovered);
    }
    let owner = Owner::load(root)?;
    let verdicts = names
        .into_iter()
        .map(|name| judge(root, owner.as_ref(), name))
        .collect::<Result<Vec<_>>>()?;
    for verdict in verdicts {
        match verdict {
            Verdict::Busy => {}
            Verdict::Discard(staging) => {
                discard_staging(&staging);
                recovered.discarded += 1;
            }
            Verdict::Replay(staging, changes) => {
                for (position, change) in changes.iter().enumerate() {
                    change
                        .replay(root, &staging, position)
                        .map_err(|e| stuck(&staging, &e.to_string()))?;
                }
                discard_staging(&staging);
                recovered.finished += 1;
            }
            Verdict::RollBack(staging, changes) => {
                roll_back(root, &staging, &changes).map_err(|e| stuck(&staging, &e.to_string()))?;
                discard_staging(&staging);
                recovered.discarded += 1;
            }
        }
    }
    Ok(recovered)
}

/// The names in `root` that start like a staging folder's, sorted.
fn staging_names(root: &Path) -> Result<Vec<OsString>> {
    let entries = match fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!("cannot read `{}`", root.display())));
        }
    };
    let mut names: Vec<OsString> = entries
        .filter_map(|entry| entry.ok().map(|e| e.file_name()))
        .filter(|name| {
            name.as_encoded_bytes()
                .starts_with(STAGING_PREFIX.as_bytes())
        })
        .collect();
    names.sort();
    Ok(names)
}

fn judge(root: &Path, owner: Option<&Owner>, name: OsString) -> Result<Verdict> {
    let staging = root.join(&name);
    let is_folder = fs::symlink_metadata(&staging).is_ok_and(|meta| meta.is_dir());
    if !is_folder || !owner.is_some_and(|owner| owner.made(&name)) {
        return Err(refused(
            &staging,
            "was not made by lambda-scaffold in this project folder",
        )
        .into());
    }
    let Ok(folder) = fs::File::open(&staging) else {
        return Err(stuck(&staging, "it cannot be opened").into());
    };
    if folder.try_lock().is_err() {
        return Ok(Verdict::Busy);
    }
    let (file, verdict): (_, fn(PathBuf, Vec<Change>) -> Verdict) = match read_list(
        &staging, JOURNAL,
    )? {
        Some(file) => (file, Verdict::Replay),
        None => match read_list(&staging, ROLLBACK)? {
            Some(file) => (file, Verdict::RollBack),
            None if fs::symlink_metadata(staging.join(UNDO_FAILED)).is_ok() => {
                return Err(UserError::new(format!(
                        "`{}` holds original files that a failed run could not put back",
                        one_line(&staging)
                    ))
                    .hint(format!(
                        "`N{BACKUP_SUFFIX}` there is the original of change N (from 0) in its `{UNDO_FAILED}`: move back what you need, then delete the folder ({})",
                        delete_command(&staging)
                    ))
                    .into());
            }
            // Killed before its journal (nothing visible happened), or
            // while deleting the folder of a change done or undone.
            None => return Ok(Verdict::Discard(staging)),
        },
    };
    let Some(json) = owner.and_then(|owner| owner.unseal(&name, &file)) else {
        return Err(refused(&staging, "holds a journal that does not match its checksum").into());
    };
    let changes = journal::decode(json).map_err(|e| {
        refused(
            &staging,
            &format!("holds a journal that cannot be read: {e}"),
        )
    })?;
    for (position, change) in changes.iter().enumerate() {
        change
            .check_replayable(root, &staging, position)
            .map_err(|e| {
                stuck(
                    &staging,
                    &format!("`{}`: {e}", one_line(change.path().as_path())),
                )
            })?;
    }
    Ok(verdict(staging, changes))
}

/// The bytes of the journal or rollback list `name` in `staging`, if any.
fn read_list(staging: &Path, name: &str) -> Result<Option<Vec<u8>>> {
    match fs::read(staging.join(name)) {
        Ok(file) => Ok(Some(file)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(stuck(staging, &format!("its `{name}` cannot be read: {e}")).into()),
    }
}

/// A staging folder that recovery does not trust: nothing was touched.
fn refused(staging: &Path, why: &str) -> UserError {
    UserError::new(format!(
        "the staging folder `{}` {why}, so it is not replayed",
        one_line(staging)
    ))
    .hint(format!(
        "nothing was changed; it may come from version control or another copy of the project: look inside, then delete it ({}) and run the command again",
        delete_command(staging)
    ))
}

/// A staging folder of this tool's whose change cannot be finished.
fn stuck(staging: &Path, why: &str) -> UserError {
    UserError::new(format!(
        "cannot finish the change an interrupted run staged in `{}`: {why}",
        one_line(staging)
    ))
    .hint(format!(
        "fix what stops it and run the command again to finish the change, or give the change up by deleting the folder ({}); what it already placed stays",
        delete_command(staging)
    ))
}
