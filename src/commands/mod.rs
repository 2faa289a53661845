//! One module per subcommand: each turns its clap arguments into validated
//! types, asks the core for a plan or a report, and applies or prints it. The
//! helpers here are the steps several commands share.

pub mod add_handler;
pub mod check;
pub mod completions;
pub mod invoke;
pub mod list;
pub mod new_project;
pub mod remove_handler;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cli::{HandlerArgs, ProjectArgs};
use crate::generated;
use crate::lambdas::Lambda;
use crate::layout::Kind;
use crate::names::HandlerName;
use crate::plan::Plan;
use crate::project::Project;

/// A project found from where the user is.
pub struct Located {
    pub project: Project,
    /// The project root as the user would type it from the current folder,
    /// to show paths the user can copy.
    pub shown_root: PathBuf,
}

/// Finds the project: `--project DIR`, or the nearest folder upwards.
pub fn locate(args: &ProjectArgs) -> Result<Located> {
    locate_with(args, Project::locate)
}

/// Finds the project for a command that writes: locked, interrupted changes
/// finished (see [`Project::locate_for_change`]). A dry run only reads: no
/// lock, and nothing a dead run left is touched.
pub fn locate_for_change(args: &ProjectArgs, dry_run: bool) -> Result<Located> {
    if dry_run {
        locate(args)
    } else {
        locate_with(args, Project::locate_for_change)
    }
}

fn locate_with(
    args: &ProjectArgs,
    open: fn(Option<&Path>, &Path) -> Result<Project>,
) -> Result<Located> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let project = open(args.project.as_deref(), &cwd)?;
    let shown_root = relative_root(&project.root, &cwd);
    Ok(Located {
        project,
        shown_root,
    })
}

/// Adds to `plan` the records of what it writes (see
/// [`generated::record_writes`]), reading the project's records and files.
pub fn record_writes(plan: &mut Plan, project: &Project) {
    let root = &project.root;
    generated::record_writes(
        plan,
        project.manifest.layout,
        |record| fs::read_to_string(root.join(record)).ok(),
        |path| fs::symlink_metadata(root.join(path)).is_ok(),
    );
}

/// The handler the user named, validated against the project's layout, and a
/// note to show when its name was turned into snake_case.
pub fn handler(args: &HandlerArgs, project: &Project) -> Result<(Lambda, Option<String>)> {
    let kind = Kind::parse(&args.kind, project.manifest.layout)?;
    let parsed = HandlerName::parse(&args.name)?;
    let note = parsed.renamed_from.map(|raw| {
        format!(
            "note: handler name `{raw}` becomes `{}` (snake_case)",
            parsed.name
        )
    });
    Ok((Lambda::new(kind, parsed.name), note))
}

/// The project root as the user would type it from `cwd`: `..` steps from
/// inside the project, the path as given from outside it.
fn relative_root(root: &Path, cwd: &Path) -> PathBuf {
    let real_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    match cwd.strip_prefix(&real_root) {
        Ok(inner) => inner.components().map(|_| "..").collect(),
        Err(_) => root.to_path_buf(),
    }
}
