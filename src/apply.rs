//! The only module that writes to the disk: it checks a [`Plan`] against the
//! tree, then writes all of it or none of it.
//!
//! [`resolve`] only reads: it decides, per file, whether it is created, replaced
//! or kept, and refuses the whole plan on the first conflict. [`commit`] writes a
//! resolved plan. A new project is staged in a hidden sibling folder and renamed
//! into place in one step; changes to an existing project are staged in a hidden
//! folder inside it, then renamed file by file, and undone if any step fails.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::UserError;
use crate::plan::{IfExists, Plan, PlannedFile};

/// Prefix of the staging folders; `check` and the next run know them as ours.
pub const STAGING_PREFIX: &str = ".lambda-scaffold-staging-";

/// What will happen to one planned file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Replace,
    Keep,
}

/// A plan checked against the tree: every file's action and the folders to make.
#[derive(Debug)]
pub struct Resolved {
    pub root: PathBuf,
    /// True when the root folder does not exist yet (or is empty) and the whole
    /// tree is staged and renamed into place at once.
    pub fresh_root: bool,
    pub new_dirs: Vec<PathBuf>,
    pub files: Vec<(PlannedFile, Action)>,
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
    Ok(Resolved {
        root: root.to_path_buf(),
        fresh_root,
        new_dirs,
        files,
    })
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
        Ok(meta) if !meta.is_file() => Err(UserError::new(format!(
            "`{}` exists and is not a regular file",
            file.path.display()
        ))
        .hint("move or remove it, then run the command again")
        .into()),
        Ok(_) => match file.if_exists {
            IfExists::Keep => Ok(Action::Keep),
            IfExists::Replace => Ok(Action::Replace),
            IfExists::Refuse => Err(UserError::new(format!(
                "`{}` already exists",
                file.path.display()
            ))
            .hint("pass --force to overwrite the generated files")
            .into()),
        },
    }
}

/// Writes a resolved plan: all of it, or (on any error) none of it.
pub fn commit(resolved: &Resolved) -> Result<()> {
    if resolved.fresh_root {
        commit_fresh_root(resolved)
    } else {
        commit_into_existing(resolved)
    }
}

fn staging_dir(parent: &Path) -> PathBuf {
    parent.join(format!("{STAGING_PREFIX}{}", std::process::id()))
}

fn commit_fresh_root(resolved: &Resolved) -> Result<()> {
    let root = &resolved.root;
    let parent = match root.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).with_context(|| format!("cannot create `{}`", parent.display()))?;
    let staging = staging_dir(&parent);
    let result = (|| -> Result<()> {
        fs::create_dir(&staging)
            .with_context(|| format!("cannot create `{}`", staging.display()))?;
        for dir in &resolved.new_dirs {
            fs::create_dir(staging.join(dir))
                .with_context(|| format!("cannot create `{}`", root.join(dir).display()))?;
        }
        for (file, _) in &resolved.files {
            write_file(&staging.join(&file.path), file)
                .with_context(|| format!("cannot write `{}`", root.join(&file.path).display()))?;
        }
        if root.is_dir() {
            // An empty folder is accepted as the target; rename needs it gone.
            fs::remove_dir(root).with_context(|| format!("cannot replace `{}`", root.display()))?;
        }
        fs::rename(&staging, root).with_context(|| format!("cannot create `{}`", root.display()))
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

/// One step done in an existing project, remembered so it can be undone.
enum Done {
    Dir(PathBuf),
    Created(PathBuf),
    Replaced { path: PathBuf, backup: PathBuf },
}

fn commit_into_existing(resolved: &Resolved) -> Result<()> {
    let root = &resolved.root;
    let staging = staging_dir(root);
    fs::create_dir(&staging).with_context(|| format!("cannot write in `{}`", root.display()))?;
    let mut done: Vec<Done> = Vec::new();
    let result = stage_and_place(resolved, &staging, &mut done);
    if result.is_err() {
        undo(done);
    }
    let _ = fs::remove_dir_all(&staging);
    result
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
    for dir in &resolved.new_dirs {
        let full = root.join(dir);
        fs::create_dir(&full).with_context(|| format!("cannot create `{}`", full.display()))?;
        done.push(Done::Dir(full));
    }
    for (i, file, action) in written {
        let target = root.join(&file.path);
        if action == Action::Replace {
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
    Ok(())
}

fn undo(done: Vec<Done>) {
    for step in done.into_iter().rev() {
        let _ = match step {
            Done::Dir(dir) => fs::remove_dir(dir),
            Done::Created(path) => fs::remove_file(path),
            Done::Replaced { path, backup } => fs::rename(backup, path),
        };
    }
}

fn write_file(path: &Path, file: &PlannedFile) -> Result<()> {
    let mut out = fs::File::create(path)?;
    out.write_all(&file.contents)?;
    out.sync_all()?;
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
