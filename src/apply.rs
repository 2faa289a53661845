//! The only module that writes to the disk: it checks a [`Plan`] against the
//! tree, then carries out all of it or none of it.
//!
//! [`resolve`] only reads: it decides, per file, whether it is created, replaced
//! or kept, finds which removals and exec bits apply, and refuses the whole plan
//! on the first conflict. [`commit`] carries out a resolved plan. A new project
//! is staged in a hidden sibling folder and renamed into place in one step;
//! changes to an existing project are staged in a hidden folder inside it, then
//! renamed file by file (an append is written at the end of its file and
//! undone by truncating it), and undone if any step fails. A removal renames its
//! file or folder into that staging folder (undone by renaming it back), so
//! nothing is deleted until every step has succeeded.
//!
//! Interruptions: every staging folder is locked (flock) by the process that
//! owns it, and holds a journal of the visible steps once every file is staged.
//! A later run that finds a staging folder nobody holds ([`recover`]) finishes
//! the journalled steps, or, with no journal, just deletes it: a run killed at
//! any moment leaves, after the next run, the whole change or none of it. This
//! holds for a killed process, not for a power cut (nothing is fsynced).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::UserError;
use crate::plan::{IfExists, Plan, PlannedAppend, PlannedFile};

/// Prefix of the staging folders; `check` and the next run know them as ours.
pub const STAGING_PREFIX: &str = ".lambda-scaffold-staging-";

/// A planned file exists where the plan may not overwrite one; a type of its
/// own so that the command can say which of its things it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{}` already exists", path.display())]
pub struct AlreadyExists {
    pub path: PathBuf,
}

/// What will happen to one planned file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Replace,
    Keep,
}

/// A plan checked against the tree: every file's action, the folders to make,
/// the paths to remove and the files to make executable.
#[derive(Debug)]
pub struct Resolved {
    pub root: PathBuf,
    /// True when the root folder does not exist yet (or is empty) and the whole
    /// tree is staged and renamed into place at once.
    pub fresh_root: bool,
    pub new_dirs: Vec<PathBuf>,
    pub files: Vec<(PlannedFile, Action)>,
    pub appends: Vec<PlannedAppend>,
    /// The planned removals that exist, so will be removed.
    pub removed: Vec<PathBuf>,
    pub executables: Vec<PathBuf>,
}

impl Resolved {
    /// The paths (relative to the root) that the commit will write.
    pub fn written(&self) -> impl Iterator<Item = (&Path, Action)> {
        self.files
            .iter()
            .filter(|(_, action)| *action != Action::Keep)
            .map(|(file, action)| (file.path.as_path(), *action))
    }
}

/// Checks `plan` against the tree under `root` without writing anything.
pub fn resolve(root: &Path, plan: Plan) -> Result<Resolved> {
    if let Some(parent) = root.parent().filter(|p| !p.as_os_str().is_empty()) {
        ensure_folder_or_missing(parent)?;
    }
    let fresh_root = match fs::symlink_metadata(root) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => true,
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", root.display())),
        Ok(meta) if meta.is_dir() => is_empty_dir(root)?,
        Ok(_) => {
            return Err(
                UserError::new(format!("`{}` exists and is not a folder", root.display()))
                    .hint("choose another NAME or --output-dir")
                    .into(),
            );
        }
    };
    if plan.new_root && !fresh_root {
        return Err(not_empty(root).into());
    }
    let real_root = if fresh_root {
        None
    } else {
        Some(fs::canonicalize(root)?)
    };

    let mut new_dirs: Vec<PathBuf> = Vec::new();
    let mut files = Vec::with_capacity(plan.files.len());
    for file in plan.files {
        let action = if fresh_root {
            Action::Create
        } else {
            check_ancestors(
                root,
                real_root.as_deref().unwrap_or(root),
                &file.path,
                &mut new_dirs,
            )?;
            file_action(root, &file)?
        };
        if fresh_root {
            for dir in file
                .path
                .ancestors()
                .skip(1)
                .filter(|d| !d.as_os_str().is_empty())
            {
                if !new_dirs.iter().any(|d| d == dir) {
                    new_dirs.push(dir.to_path_buf());
                }
            }
        }
        files.push((file, action));
    }
    new_dirs.sort_by_key(|d| d.components().count());
    let inside = real_root.as_deref().unwrap_or(root);
    let mut removed = Vec::new();
    for path in plan.removals {
        if existing_inside(root, inside, &path)?.is_some() {
            removed.push(path);
        }
    }
    let mut executables = Vec::new();
    for path in plan.executables {
        match existing_inside(root, inside, &path)? {
            Some(meta) if meta.is_file() => executables.push(path),
            _ => {
                return Err(
                    UserError::new(format!("`{}` is not a regular file", path.display()))
                        .hint("replace it with a file, then run the command again")
                        .into(),
                );
            }
        }
    }
    for append in &plan.appends {
        let meta = existing_inside(root, inside, &append.path)?;
        if let Some(meta) = meta.as_ref().filter(|m| m.is_symlink() || is_read_only(m)) {
            return Err(unchangeable(root, &append.path, meta).into());
        }
        let len = meta.filter(fs::Metadata::is_file).map(|meta| meta.len());
        if len != Some(append.expected_len) {
            return Err(UserError::new(format!(
                "`{}` changed while this command was reading it",
                append.path.display()
            ))
            .hint("run the command again")
            .into());
        }
    }
    Ok(Resolved {
        root: root.to_path_buf(),
        fresh_root,
        new_dirs,
        files,
        appends: plan.appends,
        removed,
        executables,
    })
}

/// The metadata of `rel` (not following a final symlink) when it exists, after
/// checking that its folder lies inside the root, even through symlinks.
fn existing_inside(root: &Path, real_root: &Path, rel: &Path) -> Result<Option<fs::Metadata>> {
    let full = root.join(rel);
    let meta = match fs::symlink_metadata(&full) {
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", full.display())),
        Ok(meta) => meta,
    };
    let folder = full.parent().unwrap_or(root);
    let real_folder =
        fs::canonicalize(folder).with_context(|| format!("cannot read `{}`", folder.display()))?;
    if !real_folder.starts_with(real_root) {
        return Err(UserError::new(format!(
            "`{}` lies behind a symbolic link that leads outside the project",
            rel.display()
        ))
        .hint("replace the link with a folder, or remove it")
        .into());
    }
    Ok(Some(meta))
}

/// The refusal to change a file that is a symbolic link (a change would
/// replace the link, or write where it leads) or read-only (its owner chose
/// that it stays as it is; root could write it all the same).
fn unchangeable(root: &Path, rel: &Path, meta: &fs::Metadata) -> UserError {
    if meta.is_symlink() {
        let target = fs::read_link(root.join(rel))
            .map(|t| format!(" (to `{}`)", t.display()))
            .unwrap_or_default();
        UserError::new(format!(
            "`{}` is a symbolic link{target}; lambda-scaffold changes files only in place, never through a link",
            rel.display()
        ))
        .hint("replace the link with a copy of the file it leads to, then run the command again; nothing was changed")
    } else {
        UserError::new(format!("`{}` is read-only", rel.display())).hint(format!(
            "make it writable (`chmod u+w {}`) if it may change, then run the command again; nothing was changed",
            rel.display()
        ))
    }
}

/// Whether the file's owner may not write it.
#[cfg(unix)]
fn is_read_only(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o200 == 0
}

#[cfg(not(unix))]
fn is_read_only(meta: &fs::Metadata) -> bool {
    meta.permissions().readonly()
}

/// The refusal of a new project's folder that already holds something.
pub fn not_empty(root: &Path) -> UserError {
    UserError::new(format!(
        "folder `{}` already exists and is not empty",
        root.display()
    ))
    .hint("choose another NAME or --output-dir, or remove that folder")
}

fn is_empty_dir(path: &Path) -> Result<bool> {
    Ok(fs::read_dir(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?
        .next()
        .is_none())
}

fn ensure_folder_or_missing(path: &Path) -> Result<()> {
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(
            UserError::new(format!("`{}` is a file, not a folder", path.display()))
                .hint("pass a folder to --output-dir")
                .into(),
        ),
        // A missing parent is created along with the project.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    }
}

/// Every folder between the root and the file must be a folder (or missing,
/// then it is made) and must stay inside the root, even through symlinks.
fn check_ancestors(
    root: &Path,
    real_root: &Path,
    rel: &Path,
    new_dirs: &mut Vec<PathBuf>,
) -> Result<()> {
    let mut dirs: Vec<&Path> = rel
        .ancestors()
        .skip(1)
        .filter(|d| !d.as_os_str().is_empty())
        .collect();
    dirs.reverse();
    for dir in dirs {
        if new_dirs.iter().any(|d| d == dir) {
            continue;
        }
        let full = root.join(dir);
        match fs::symlink_metadata(&full) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => new_dirs.push(dir.to_path_buf()),
            Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", full.display())),
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::canonicalize(&full).ok();
                if !target
                    .as_deref()
                    .is_some_and(|t| t.starts_with(real_root) && t.is_dir())
                {
                    return Err(UserError::new(format!(
                        "`{}` is a symbolic link that leads outside the project",
                        dir.display()
                    ))
                    .hint("replace the link with a folder, or remove it")
                    .into());
                }
            }
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(UserError::new(format!(
                    "`{}` is a file where a folder must go",
                    dir.display()
                ))
                .hint("move or remove that file, then run the command again")
                .into());
            }
        }
    }
    Ok(())
}

fn file_action(root: &Path, file: &PlannedFile) -> Result<Action> {
    let full = root.join(&file.path);
    match fs::symlink_metadata(&full) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Action::Create),
        Err(e) => Err(e).with_context(|| format!("cannot read `{}`", full.display())),
        Ok(meta) if meta.is_symlink() && file.if_exists == IfExists::Replace => {
            Err(unchangeable(root, &file.path, &meta).into())
        }
        Ok(meta) if !meta.is_file() => Err(UserError::new(format!(
            "`{}` exists and is not a regular file",
            file.path.display()
        ))
        .hint("move or remove it, then run the command again")
        .into()),
        Ok(meta) => match file.if_exists {
            IfExists::Keep => Ok(Action::Keep),
            IfExists::Replace if is_read_only(&meta) => {
                Err(unchangeable(root, &file.path, &meta).into())
            }
            IfExists::Replace => Ok(Action::Replace),
            IfExists::Refuse => Err(AlreadyExists {
                path: file.path.clone(),
            }
            .into()),
        },
    }
}

/// Carries out a resolved plan: all of it, or (on any error) none of it.
pub fn commit(resolved: &Resolved) -> Result<()> {
    if resolved.fresh_root {
        commit_fresh_root(resolved)
    } else {
        commit_into_existing(resolved)
    }
}

/// Name of the journal inside a staging folder: written once every file is
/// staged, before the first visible step.
const JOURNAL: &str = "journal";

/// Test hook: microseconds to pause before each visible step of a commit, so
/// that the interruption tests can kill a run in the middle of one.
const STEP_DELAY_ENV: &str = "LAMBDA_SCAFFOLD_TEST_STEP_DELAY_US";

/// A staging folder, locked for as long as this value lives.
struct Staging {
    path: PathBuf,
    _lock: fs::File,
}

impl Staging {
    fn create(parent: &Path) -> Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = parent.join(format!("{STAGING_PREFIX}{}-{nanos}", std::process::id()));
        fs::create_dir(&path).with_context(|| format!("cannot write in `{}`", parent.display()))?;
        let lock = lock_folder(&path)?;
        Ok(Self { path, _lock: lock })
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

/// What [`recover`] did with the staging folders that dead runs left.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    /// Journalled changes carried out to the end.
    pub finished: usize,
    /// Changes killed before their first visible step, thrown away.
    pub discarded: usize,
}

/// Finishes or discards the changes that a killed run left staged in `dir`.
/// Staging folders still held by a live run are left alone; one that cannot be
/// deleted after its change is dealt with only gives a warning, since without
/// a journal it can never be mistaken for a change to replay.
pub fn recover(dir: &Path) -> Result<Recovered> {
    let mut recovered = Recovered::default();
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(recovered);
    };
    for entry in entries.flatten() {
        let is_staging = entry
            .file_name()
            .to_string_lossy()
            .starts_with(STAGING_PREFIX);
        if !is_staging || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let staging = entry.path();
        let Ok(folder) = fs::File::open(&staging) else {
            continue;
        };
        if folder.try_lock().is_err() {
            continue; // a live run owns it
        }
        let journal = staging.join(JOURNAL);
        if journal.is_file() {
            let text = fs::read_to_string(&journal)
                .with_context(|| format!("cannot read `{}`", journal.display()))?;
            replay(dir, &staging, &text).with_context(|| {
                format!("cannot finish the change staged in `{}`", staging.display())
            })?;
            recovered.finished += 1;
        } else {
            recovered.discarded += 1;
        }
        discard_staging(&staging);
    }
    Ok(recovered)
}

/// Deletes a staging folder whose change is done or undone: the journal first,
/// so that whatever cannot be deleted is never replayed.
fn discard_staging(staging: &Path) {
    let _ = fs::remove_file(staging.join(JOURNAL));
    if let Err(e) = fs::remove_dir_all(staging) {
        eprintln!(
            "warning: cannot remove the leftover folder `{}` ({e}); it is safe to delete",
            staging.display()
        );
    }
}

/// The journal of a commit: one visible step a line, in the order they run.
fn journal(resolved: &Resolved, written: &[(usize, &PlannedFile, Action)]) -> String {
    let mut out = String::new();
    for dir in &resolved.new_dirs {
        out.push_str(&format!("dir\t{}\n", dir.display()));
    }
    for path in &resolved.removed {
        out.push_str(&format!("remove\t{}\n", path.display()));
    }
    for (i, file, _) in written {
        out.push_str(&format!("file\t{i}\t{}\n", file.path.display()));
    }
    for (i, append) in resolved.appends.iter().enumerate() {
        out.push_str(&format!(
            "append\t{i}\t{}\t{}\n",
            append.expected_len,
            append.path.display()
        ));
    }
    for path in &resolved.executables {
        out.push_str(&format!("exec\t{}\n", path.display()));
    }
    out
}

/// Carries out a journal again; every step is a no-op when already done.
fn replay(root: &Path, staging: &Path, journal: &str) -> Result<()> {
    for line in journal.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["dir", path] => fs::create_dir_all(root.join(path))?,
            ["remove", path] => {
                let full = root.join(path);
                match fs::symlink_metadata(&full) {
                    Ok(meta) if meta.is_dir() => fs::remove_dir_all(&full)?,
                    Ok(_) => fs::remove_file(&full)?,
                    Err(_) => {}
                }
            }
            ["file", index, path] => {
                let staged = staging.join(index);
                if staged.exists() {
                    fs::rename(staged, root.join(path))?;
                }
            }
            ["append", index, expected_len, path] => {
                let bytes = fs::read(staging.join(format!("append-{index}")))?;
                let full = root.join(path);
                let expected: u64 = expected_len.parse()?;
                let len = fs::metadata(&full)?.len();
                if len == expected {
                    append_to(&full, &bytes)?;
                } else if len != expected + bytes.len() as u64 {
                    anyhow::bail!("`{}` changed since the append was staged", full.display());
                }
            }
            ["exec", path] => {
                let full = root.join(path);
                let old = fs::metadata(&full)?.permissions();
                add_exec_bits(&full, &old)?;
            }
            _ => anyhow::bail!("unreadable journal line {line:?}"),
        }
    }
    Ok(())
}

fn pause_for_tests() {
    if let Some(us) = std::env::var(STEP_DELAY_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
    {
        std::thread::sleep(std::time::Duration::from_micros(us));
    }
}

fn commit_fresh_root(resolved: &Resolved) -> Result<()> {
    let root = &resolved.root;
    let parent = match root.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).with_context(|| format!("cannot create `{}`", parent.display()))?;
    recover(&parent)?;
    let staging = Staging::create(&parent)?;
    let result = (|| -> Result<()> {
        for dir in &resolved.new_dirs {
            fs::create_dir(staging.path.join(dir))
                .with_context(|| format!("cannot create `{}`", root.join(dir).display()))?;
        }
        for (file, _) in &resolved.files {
            write_file(&staging.path.join(&file.path), file)
                .with_context(|| format!("cannot write `{}`", root.join(&file.path).display()))?;
        }
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

/// One step done in an existing project, remembered so it can be undone.
enum Done {
    Dir(PathBuf),
    Created(PathBuf),
    Replaced { path: PathBuf, backup: PathBuf },
    Removed { path: PathBuf, backup: PathBuf },
    Mode { path: PathBuf, old: fs::Permissions },
    Appended { path: PathBuf, old_len: u64 },
}

fn commit_into_existing(resolved: &Resolved) -> Result<()> {
    let root = &resolved.root;
    let staging = Staging::create(root)?;
    let mut done: Vec<Done> = Vec::new();
    let result = stage_and_place(resolved, &staging.path, &mut done);
    if let Err(error) = result {
        if !undo(done) {
            // Backups of replaced or removed files may still be in the staging
            // folder: keep it (without its journal, so it is never replayed).
            let _ = fs::remove_file(staging.path.join(JOURNAL));
            return Err(error.context(format!(
                "the change could not be fully undone; the original files are kept in `{}`",
                staging.path.display()
            )));
        }
        discard_staging(&staging.path);
        return Err(error);
    }
    discard_staging(&staging.path);
    Ok(())
}

fn stage_and_place(resolved: &Resolved, staging: &Path, done: &mut Vec<Done>) -> Result<()> {
    let root = &resolved.root;
    // Stage every file first: a full disk or a read-only folder fails here,
    // before anything visible has changed.
    let written: Vec<(usize, &PlannedFile, Action)> = resolved
        .files
        .iter()
        .filter(|(_, a)| *a != Action::Keep)
        .enumerate()
        .map(|(i, (f, a))| (i, f, *a))
        .collect();
    for (i, file, _) in &written {
        write_file(&staging.join(i.to_string()), file)
            .with_context(|| format!("cannot write `{}`", root.join(&file.path).display()))?;
    }
    for (i, append) in resolved.appends.iter().enumerate() {
        fs::write(staging.join(format!("append-{i}")), &append.bytes)
            .with_context(|| format!("cannot write `{}`", root.join(&append.path).display()))?;
    }
    // From the journal on, a killed run is finished by the next one.
    let journal_text = journal(resolved, &written);
    fs::write(staging.join("journal.tmp"), journal_text)
        .and_then(|()| fs::rename(staging.join("journal.tmp"), staging.join(JOURNAL)))
        .with_context(|| format!("cannot write in `{}`", root.display()))?;
    for dir in &resolved.new_dirs {
        pause_for_tests();
        let full = root.join(dir);
        fs::create_dir(&full).with_context(|| format!("cannot create `{}`", full.display()))?;
        done.push(Done::Dir(full));
    }
    for (i, path) in resolved.removed.iter().enumerate() {
        pause_for_tests();
        let full = root.join(path);
        let backup = staging.join(format!("removed-{i}"));
        fs::rename(&full, &backup)
            .with_context(|| format!("cannot remove `{}`", full.display()))?;
        done.push(Done::Removed { path: full, backup });
    }
    for (i, file, action) in written {
        pause_for_tests();
        let target = root.join(&file.path);
        if action == Action::Replace {
            // The new file keeps the mode the user gave the old one.
            let mode = fs::metadata(&target)
                .with_context(|| format!("cannot read `{}`", target.display()))?
                .permissions();
            fs::set_permissions(staging.join(i.to_string()), mode)
                .with_context(|| format!("cannot write `{}`", target.display()))?;
            let backup = staging.join(format!("{i}.orig"));
            fs::rename(&target, &backup)
                .with_context(|| format!("cannot replace `{}`", target.display()))?;
            done.push(Done::Replaced {
                path: target.clone(),
                backup,
            });
        }
        fs::rename(staging.join(i.to_string()), &target)
            .with_context(|| format!("cannot write `{}`", target.display()))?;
        if action == Action::Create {
            done.push(Done::Created(target));
        }
    }
    for append in &resolved.appends {
        pause_for_tests();
        let full = root.join(&append.path);
        append_to(&full, &append.bytes)
            .with_context(|| format!("cannot write `{}`", full.display()))?;
        done.push(Done::Appended {
            path: full,
            old_len: append.expected_len,
        });
    }
    for path in &resolved.executables {
        pause_for_tests();
        let full = root.join(path);
        let old = fs::metadata(&full)
            .with_context(|| format!("cannot read `{}`", full.display()))?
            .permissions();
        add_exec_bits(&full, &old)
            .with_context(|| format!("cannot make `{}` executable", full.display()))?;
        done.push(Done::Mode { path: full, old });
    }
    Ok(())
}

/// Undoes the steps done so far, last first; false when one of them failed.
fn undo(done: Vec<Done>) -> bool {
    let mut all_undone = true;
    for step in done.into_iter().rev() {
        let undone = match step {
            Done::Dir(dir) => fs::remove_dir(dir),
            Done::Created(path) => fs::remove_file(path),
            Done::Replaced { path, backup } | Done::Removed { path, backup } => {
                fs::rename(backup, path)
            }
            Done::Mode { path, old } => fs::set_permissions(path, old),
            Done::Appended { path, old_len } => fs::OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|file| file.set_len(old_len)),
        };
        all_undone &= undone.is_ok();
    }
    all_undone
}

/// Adds `bytes` at the end of the file in one write.
fn append_to(path: &Path, bytes: &[u8]) -> io::Result<()> {
    fs::OpenOptions::new()
        .append(true)
        .open(path)?
        .write_all(bytes)
}

fn write_file(path: &Path, file: &PlannedFile) -> Result<()> {
    let mut out = fs::File::create(path)?;
    out.write_all(&file.contents)?;
    set_mode(path, file.executable)?;
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, executable: bool) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _executable: bool) -> io::Result<()> {
    Ok(())
}

/// `chmod +x`: whoever may read the file may now run it.
#[cfg(unix)]
fn add_exec_bits(path: &Path, old: &fs::Permissions) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = old.mode();
    fs::set_permissions(
        path,
        fs::Permissions::from_mode(mode | ((mode & 0o444) >> 2)),
    )
}

#[cfg(not(unix))]
fn add_exec_bits(_path: &Path, _old: &fs::Permissions) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(resolved.removed, [PathBuf::from("gone")]);
        commit(&resolved).unwrap();
        assert_eq!(entries(root), ["kept.txt"]);
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
        plan.appends.push(PlannedAppend {
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
        plan.appends.push(PlannedAppend {
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
