//! `add-handler KIND NAME`: find the project, validate, plan the handler's files
//! and manifest entry, write them all or none.

use anyhow::{Context, Result};

use crate::apply;
use crate::cli::AddHandlerArgs;
use crate::error::UserError;
use crate::generate::plan_handler;
use crate::layout::Kind;
use crate::names::HandlerName;
use crate::project::Project;
use crate::report::file_lines;

pub fn run(args: AddHandlerArgs) -> Result<()> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let project = Project::locate(args.project.as_deref(), &cwd)?;
    let kind = Kind::parse(&args.kind, project.manifest.layout)?;
    let parsed = HandlerName::parse(&args.name)?;
    let name = &parsed.name;
    if let Some(raw) = &parsed.renamed_from {
        println!("note: handler name `{raw}` becomes `{name}` (snake_case)");
    }
    if !args.force && project.manifest.has_handler(kind, name) {
        return Err(UserError::new(format!(
            "handler `{kind}/{name}` already exists in lambdas.toml"
        ))
        .hint("choose another name, or pass --force to rewrite its generated files")
        .into());
    }
    let plan = plan_handler(&project.manifest, kind, name, args.force)?;
    let resolved =
        apply::resolve(&project.root, plan).map_err(|e| match e.downcast::<UserError>() {
            Ok(user) if user.message.ends_with("already exists") => UserError::new(format!(
                "handler `{kind}/{name}` already exists ({})",
                user.message.trim_end_matches(" already exists")
            ))
            .hint("choose another name, or pass --force to rewrite its generated files")
            .into(),
            Ok(user) => user.into(),
            Err(other) => other,
        })?;

    let shown = relative_root(&project.root, &cwd);
    let handler_string = format!("{kind}.{name}");
    if args.dry_run {
        print!(
            "would add {kind} handler `{name}` ({handler_string}):\n{}",
            file_lines(&resolved, &shown, true)
        );
        println!("dry run: nothing was written");
        return Ok(());
    }
    apply::commit(&resolved)?;
    let verb = if project.manifest.has_handler(kind, name) {
        "rewrote"
    } else {
        "added"
    };
    print!(
        "{verb} {kind} handler `{name}` (AWS handler string `{handler_string}`):\n{}",
        file_lines(&resolved, &shown, false)
    );
    println!("\nnext steps:\n  python3 -m unittest\n  ./build.sh --local {name} ./{kind}/{name}");
    Ok(())
}

/// The project root as the user would type it from `cwd`.
fn relative_root(root: &std::path::Path, cwd: &std::path::Path) -> std::path::PathBuf {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    match cwd.strip_prefix(&root) {
        Ok(inner) if inner.as_os_str().is_empty() => std::path::PathBuf::new(),
        Ok(inner) => inner.components().map(|_| "..").collect(),
        Err(_) => root,
    }
}
