//! Carrying out a resolved plan: stage every change in a locked staging
//! folder, journal them, place them one by one, undo on failure.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::change::Change;
use super::owner::{OWNER_FILE, Owner, write_token};
use super::{
    JOURNAL, ROLLBACK, Resolved, STAGING_PREFIX, UNDO_FAILED, delete_command, journal, one_line,
};
use crate::report;

/// Test hook: microseconds to pause before each visible step of a commit, so
/// that the interruption tests can kill a run in the middle of one.
const STEP_DELAY_ENV: &str = "LAMBDA_SCAFFOLD_TEST_STEP_DELAY_US";

/// Carries out a resolved plan: all of it, or (on any error) none of it.
pub fn commit(resolved: &Resolved) -> Result<()> {
    if resolved.fresh_root {
        commit_fresh_root(resolved)
    } else {
        commit_into_existing(resolved)
    }
}

/// Opens `dir` and takes an exclusive lock on it, waiting for other holders.
pub fn lock_folder(dir: &Path) -> Result<fs::File> {
    let folder = fs::File::open(dir).with_context(|| format!("cannot open `{}`", dir.display()))?;
    folder
        .lock()
        .with_context(|| format!("cannot lock `{}`", dir.display()))?;
    Ok(folder)
}

/// A staging folder, locked for as long as this value lives.
struct Staging {
    path: PathBuf,
    _lock: fs::File,
}

impl Staging {
    fn create(parent: &Path, name: &str) -> Result<Self> {
        let path = parent.join(name);
        fs::create_dir(&path).with_context(|| format!("cannot write in `{}`", parent.display()))?;
        let lock = lock_folder(&path)?;
        Ok(Self { path, _lock: lock })
    }
}

/// Deletes a staging folder whose change is done or undone: the journal
/// first, so that whatever cannot be deleted is never replayed.
pub(super) fn discard_staging(staging: &Path) {
    let _ = fs::remove_file(staging.join(JOURNAL));
    let _ = fs::remove_file(staging.join(ROLLBACK));
    if let Err(e) = fs::remove_dir_all(staging) {
        report::eprint(&format!(
            "warning: cannot remove the leftover folder `{}` ({e}); it is safe to delete\n",
            staging.display()
        ));
    }
}

fn pause_for_tests() {
    if let Some(us) = std::env::var(STEP_DELAY_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
    {
        std::thread::sleep(std::time::Duration::from_micros(us));
    }
}

/// A new project: the whole tree is written into a staging folder beside it,
/// which one rename turns into the project. Nothing is ever replayed here: a
/// killed run leaves at most that hidden folder, which the next `new-project`
/// in the same place deletes once it proves it is its own.
fn commit_fresh_root(resolved: &Resolved) -> Result<()> {
    let root = &resolved.root;
    let parent = match root.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).with_context(|| format!("cannot create `{}`", parent.display()))?;
    // New projects made in one folder take turns, so that none deletes the
    // staging folder of another before that one has locked it.
    let _parent_lock = lock_folder(&parent)?;
    let owner = Owner::for_new_projects(&parent)?;
    discard_leftovers(&parent, &owner);
    let staging = Staging::create(&parent, &owner.staging_name())?;
    let result = (|| -> Result<()> {
        for change in &resolved.changes {
            change.write_into(&staging.path).with_context(|| {
                format!(
                    "cannot write `{}`",
                    root.join(change.path().as_path()).display()
                )
            })?;
        }
        // The project's owner token, so its first change needs no new file.
        write_token(&staging.path)?;
        pause_for_tests();
        // One rename makes the whole tree appear; it also replaces an empty
        // folder that stands at the root.
        fs::rename(&staging.path, root)
            .with_context(|| format!("cannot create `{}`", root.display()))
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging.path);
    }
    result
}

/// Deletes the staging folders that killed `new-project` runs left in
/// `dir`; names, and leaves as they are, those it cannot prove its own.
fn discard_leftovers(dir: &Path, owner: &Owner) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name
            .as_encoded_bytes()
            .starts_with(STAGING_PREFIX.as_bytes())
        {
            continue;
        }
        let path = entry.path();
        let own = entry.file_type().is_ok_and(|t| t.is_dir()) && owner.made(&name);
        if !own {
            report::eprint(&format!(
                "warning: `{}` was not made by lambda-scaffold here; it is left as it is\n\
                 hint: look inside, then delete it ({})\n",
                one_line(&path),
                delete_command(&path)
            ));
            continue;
        }
        // A live run holds its folder locked.
        if fs::File::open(&path).is_ok_and(|folder| folder.try_lock().is_ok()) {
            discard_staging(&path);
        }
    }
}

fn commit_into_existing(resolved: &Resolved) -> Result<()> {
    let root = &resolved.root;
    let (owner, new_owner) = Owner::load_or_create(root)?;
    let staging = Staging::create(root, &owner.staging_name())?;
    if let Err(error) = stage_and_place(resolved, &owner, &staging.path) {
        // Once journalled, the journal becomes the list to roll back: a run
        // killed while rolling back is rolled back by the next one.
        let journal = staging.path.join(JOURNAL);
        let journalled = fs::symlink_metadata(&journal).is_ok();
        let list = staging.path.join(ROLLBACK);
        let undone = !journalled
            || (fs::rename(&journal, &list).is_ok()
                && roll_back(root, &staging.path, &resolved.changes).is_ok());
        if !undone {
            // Originals of replaced or removed files may still be in the
            // staging folder: keep it, with the list renamed so that it is
            // never replayed but still says which file is which.
            let _ = fs::rename(&list, staging.path.join(UNDO_FAILED))
                .or_else(|_| fs::rename(&journal, staging.path.join(UNDO_FAILED)));
            return Err(error.context(format!(
                "the change could not be fully undone; the original files are kept in `{}` (listed in its `{UNDO_FAILED}`)",
                staging.path.display()
            )));
        }
        discard_staging(&staging.path);
        if new_owner {
            // All undone: the tree is as it was, without a token too.
            let _ = fs::remove_file(root.join(OWNER_FILE));
        }
        return Err(error);
    }
    discard_staging(&staging.path);
    Ok(())
}

/// Undoes `changes`, last first, as far as each happened; every one is
/// tried even after one fails.
pub(super) fn roll_back(root: &Path, staging: &Path, changes: &[Change]) -> Result<()> {
    let mut first_error = None;
    for (position, change) in changes.iter().enumerate().rev() {
        if let Err(e) = change.roll_back(root, staging, position) {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

fn stage_and_place(resolved: &Resolved, owner: &Owner, staging: &Path) -> Result<()> {
    let root = &resolved.root;
    // Stage every file first: a full disk or a read-only folder fails here,
    // before anything visible has changed.
    for (position, change) in resolved.changes.iter().enumerate() {
        change.stage(staging, position).with_context(|| {
            format!(
                "cannot write `{}`",
                root.join(change.path().as_path()).display()
            )
        })?;
    }
    // From the journal on, a killed run is finished by the next one.
    let folder_name = staging.file_name().unwrap_or(OsStr::new(""));
    let sealed = owner.seal(folder_name, &journal::encode(&resolved.changes));
    let partial = staging.join(format!("{JOURNAL}.partial"));
    fs::write(&partial, sealed)
        .and_then(|()| fs::rename(&partial, staging.join(JOURNAL)))
        .with_context(|| format!("cannot write in `{}`", root.display()))?;
    for (position, change) in resolved.changes.iter().enumerate() {
        pause_for_tests();
        change.place(root, staging, position)?;
    }
    Ok(())
}
