//! The check before any write: each step of a plan against the tree as it is,
//! read only. The first conflict refuses the whole plan.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::change::Change;
use super::journal::RelPath;
use super::{AlreadyExists, Resolved, not_empty};
use crate::error::UserError;
use crate::plan::{IfExists, Plan, PlannedAppend, PlannedFile, Step};

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
        root.to_path_buf()
    } else {
        fs::canonicalize(root)?
    };
    let mut resolver = Resolver {
        root,
        real_root: &real_root,
        fresh_root,
        new_dirs: Vec::new(),
        changes: Vec::new(),
    };
    for step in plan.steps {
        resolver.step(step)?;
    }
    let Resolver {
        mut new_dirs,
        mut changes,
        ..
    } = resolver;
    new_dirs.sort_by_key(|d| d.components().count());
    let mut all: Vec<Change> = new_dirs
        .iter()
        .map(|dir| rel(dir).map(|path| Change::MakeDir { path }))
        .collect::<Result<_>>()?;
    changes.sort_by_key(Change::phase);
    all.append(&mut changes);
    Ok(Resolved {
        root: root.to_path_buf(),
        fresh_root,
        changes: all,
    })
}

/// A plan's path as a change's: plans only hold plain relative paths.
fn rel(path: &Path) -> Result<RelPath> {
    Ok(RelPath::new(path)?)
}

struct Resolver<'a> {
    root: &'a Path,
    /// The root with every symbolic link resolved (the root itself when it
    /// does not exist yet).
    real_root: &'a Path,
    fresh_root: bool,
    new_dirs: Vec<PathBuf>,
    changes: Vec<Change>,
}

impl Resolver<'_> {
    fn step(&mut self, step: Step) -> Result<()> {
        match step {
            Step::Write(file) => self.write(file),
            Step::Append(append) => self.append(append),
            Step::Remove(path) => {
                if self.existing_inside(&path)?.is_some() {
                    self.changes.push(Change::Remove { path: rel(&path)? });
                }
                Ok(())
            }
            Step::MakeExecutable(path) => match self.existing_inside(&path)? {
                Some(meta) if meta.is_file() => {
                    use std::os::unix::fs::PermissionsExt;
                    self.changes.push(Change::MakeExecutable {
                        path: rel(&path)?,
                        mode_before: meta.permissions().mode() & 0o7777,
                    });
                    Ok(())
                }
                _ => Err(
                    UserError::new(format!("`{}` is not a regular file", path.display()))
                        .hint("replace it with a file, then run the command again")
                        .into(),
                ),
            },
        }
    }

    fn write(&mut self, file: PlannedFile) -> Result<()> {
        self.check_ancestors(&file.path)?;
        let replace = if self.fresh_root {
            false
        } else {
            match self.exists(&file)? {
                false => false,
                true => match file.if_exists {
                    IfExists::Keep => return Ok(()),
                    IfExists::Replace => true,
                    IfExists::ReplaceIfUnchanged(sha256) => {
                        self.ensure_unchanged(&file.path, &sha256)?;
                        true
                    }
                    IfExists::Refuse => return Err(AlreadyExists { path: file.path }.into()),
                },
            }
        };
        let path = rel(&file.path)?;
        let (contents, executable) = (file.contents, file.executable);
        self.changes.push(if replace {
            Change::Replace {
                path,
                contents,
                executable,
            }
        } else {
            Change::Create {
                path,
                contents,
                executable,
            }
        });
        Ok(())
    }

    fn append(&mut self, append: PlannedAppend) -> Result<()> {
        let meta = self.existing_inside(&append.path)?;
        if let Some(meta) = meta.as_ref().filter(|m| m.is_symlink() || is_read_only(m)) {
            return Err(unchangeable(self.root, &append.path, meta).into());
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
        self.changes.push(Change::Append {
            path: rel(&append.path)?,
            expected_len: append.expected_len,
            bytes: append.bytes,
        });
        Ok(())
    }

    /// Whether a regular file stands at the planned path (anything else
    /// there is refused, and so is a file to replace that is read-only).
    fn exists(&self, file: &PlannedFile) -> Result<bool> {
        let full = self.root.join(&file.path);
        let replace = file.if_exists.replaces();
        match fs::symlink_metadata(&full) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e).with_context(|| format!("cannot read `{}`", full.display())),
            Ok(meta) if meta.is_symlink() && replace => {
                Err(unchangeable(self.root, &file.path, &meta).into())
            }
            Ok(meta) if !meta.is_file() => Err(UserError::new(format!(
                "`{}` exists and is not a regular file",
                file.path.display()
            ))
            .hint("move or remove it, then run the command again")
            .into()),
            Ok(meta) if replace && is_read_only(&meta) => {
                Err(unchangeable(self.root, &file.path, &meta).into())
            }
            Ok(_) => Ok(true),
        }
    }

    /// Refuses a file the command read and edited when its contents are no
    /// longer those it read.
    fn ensure_unchanged(&self, rel: &Path, sha256: &[u8; 32]) -> Result<()> {
        use sha2::{Digest, Sha256};
        let full = self.root.join(rel);
        let bytes = fs::read(&full).with_context(|| format!("cannot read `{}`", full.display()))?;
        if Sha256::digest(&bytes).as_slice() != sha256 {
            return Err(UserError::new(format!(
                "`{}` changed while this command was reading it",
                rel.display()
            ))
            .hint("run the command again; nothing was changed")
            .into());
        }
        Ok(())
    }

    /// The metadata of `rel` (not following a final symlink) when it exists,
    /// after checking that its folder lies inside the root, even through
    /// symlinks.
    fn existing_inside(&self, rel: &Path) -> Result<Option<fs::Metadata>> {
        if self.fresh_root {
            return Ok(None);
        }
        let full = self.root.join(rel);
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
        let folder = full.parent().unwrap_or(self.root);
        let real_folder = fs::canonicalize(folder)
            .with_context(|| format!("cannot read `{}`", folder.display()))?;
        if !real_folder.starts_with(self.real_root) {
            return Err(UserError::new(format!(
                "`{}` lies behind a symbolic link that leads outside the project",
                rel.display()
            ))
            .hint("replace the link with a folder, or remove it")
            .into());
        }
        Ok(Some(meta))
    }

    /// Every folder between the root and the file must be a folder (or
    /// missing, then it is made) and must stay inside the root, even through
    /// symlinks.
    fn check_ancestors(&mut self, rel: &Path) -> Result<()> {
        let mut dirs: Vec<&Path> = rel
            .ancestors()
            .skip(1)
            .filter(|d| !d.as_os_str().is_empty())
            .collect();
        dirs.reverse();
        for dir in dirs {
            if self.new_dirs.iter().any(|d| d == dir) {
                continue;
            }
            if self.fresh_root {
                self.new_dirs.push(dir.to_path_buf());
                continue;
            }
            let full = self.root.join(dir);
            match fs::symlink_metadata(&full) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    self.new_dirs.push(dir.to_path_buf())
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot read `{}`", full.display()));
                }
                Ok(meta) if meta.file_type().is_symlink() => {
                    let target = fs::canonicalize(&full).ok();
                    if !target
                        .as_deref()
                        .is_some_and(|t| t.starts_with(self.real_root) && t.is_dir())
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
fn is_read_only(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o200 == 0
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
