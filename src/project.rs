//! Finding a project on disk and reading its manifest.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::UserError;
use crate::manifest::{MANIFEST_FILE, Manifest};

/// A project found on disk: its root folder and parsed manifest.
#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    pub manifest: Manifest,
}

impl Project {
    /// Opens the project at `explicit`, or the nearest folder at or above `start`
    /// that holds `lambdas.toml`.
    pub fn locate(explicit: Option<&Path>, start: &Path) -> Result<Self> {
        let root = match explicit {
            Some(dir) => {
                if !dir.join(MANIFEST_FILE).is_file() {
                    return Err(UserError::new(format!(
                        "`{}` is not a lambda-scaffold project (no {MANIFEST_FILE})",
                        dir.display()
                    ))
                    .hint("pass the folder that holds lambdas.toml to --project")
                    .into());
                }
                dir.to_path_buf()
            }
            None => find_root(start).ok_or_else(|| {
                UserError::new(format!(
                    "`{}` is not inside a lambda-scaffold project (no {MANIFEST_FILE} here or above)",
                    start.display()
                ))
                .hint("run the command inside a project, or pass --project DIR")
            })?,
        };
        let path = root.join(MANIFEST_FILE);
        let text = fs::read_to_string(&path)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        let manifest = Manifest::parse(&text, &path)?;
        Ok(Self { root, manifest })
    }
}

fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(MANIFEST_FILE).is_file())
        .map(Path::to_path_buf)
}
