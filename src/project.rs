//! Finding a project on disk and reading its manifest.
//!
//! Commands that change a project open it with [`Project::locate_for_change`]:
//! it locks the project folder for the rest of the run (so parallel runs take
//! turns and no manifest edit is lost) and finishes any change that a killed
//! run left staged, before the manifest is read.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::apply;
use crate::error::UserError;
use crate::manifest::{MANIFEST_FILE, Manifest};
use crate::mapped::Text;
use crate::report;

/// A project found on disk: its root folder and parsed manifest.
#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    pub manifest: Manifest,
    /// Held by a project opened for a change: the lock on its folder,
    /// released when the project is dropped at the end of the command.
    _lock: Option<fs::File>,
}

impl Project {
    /// Opens the project at `explicit`, or the nearest folder at or above `start`
    /// that holds `lambdas.toml`.
    pub fn locate(explicit: Option<&Path>, start: &Path) -> Result<Self> {
        let root = find(explicit, start)?;
        Self::open(root, None)
    }

    /// Like [`Project::locate`], for a command that will write: waits for the
    /// project's lock, then finishes changes that a killed run left staged.
    pub fn locate_for_change(explicit: Option<&Path>, start: &Path) -> Result<Self> {
        let root = find(explicit, start)?;
        let lock = apply::lock_folder(&root)?;
        let recovered = apply::recover(&root)?;
        if recovered.finished > 0 {
            report::eprint(&format!(
                "note: finished {} change(s) that an interrupted run had started\n",
                recovered.finished
            ));
        }
        if recovered.discarded > 0 {
            report::eprint(&format!(
                "note: discarded {} change(s) that an interrupted run had only staged\n",
                recovered.discarded
            ));
        }
        Self::open(root, Some(lock))
    }

    fn open(root: PathBuf, lock: Option<fs::File>) -> Result<Self> {
        let path = root.join(MANIFEST_FILE);
        let text = Text::of(&path).with_context(|| format!("cannot read `{}`", path.display()))?;
        let manifest = Manifest::parse(text, &path)?;
        Ok(Self {
            root,
            manifest,
            _lock: lock,
        })
    }
}

/// The project folder: `explicit`, or the nearest folder at or above `start`
/// that holds `lambdas.toml`.
fn find(explicit: Option<&Path>, start: &Path) -> Result<PathBuf> {
    match explicit {
        Some(dir) if dir.join(MANIFEST_FILE).is_file() => Ok(dir.to_path_buf()),
        Some(dir) if !dir.is_dir() => Err(UserError::new(format!(
            "folder `{}` does not exist",
            dir.display()
        ))
        .hint("pass the folder that holds lambdas.toml to --project")
        .into()),
        Some(dir) => Err(UserError::new(format!(
            "`{}` is not a lambda-scaffold project (no {MANIFEST_FILE})",
            dir.display()
        ))
        .hint("pass the folder that holds lambdas.toml to --project")
        .into()),
        None => start
            .ancestors()
            .find(|dir| dir.join(MANIFEST_FILE).is_file())
            .map(Path::to_path_buf)
            .ok_or_else(|| {
                UserError::new(format!(
                    "`{}` is not inside a lambda-scaffold project (no {MANIFEST_FILE} here or above)",
                    start.display()
                ))
                .hint("run the command inside a project, or pass --project DIR")
                .into()
            }),
    }
}
