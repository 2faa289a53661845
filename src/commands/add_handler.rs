//! `add-handler KIND NAME`: find the project, validate, plan the handler's files
//! and manifest entry, write them all or none.

use anyhow::Result;

use crate::apply;
use crate::cli::AddHandlerArgs;
use crate::commands::{handler, locate_for_change};
use crate::error::UserError;
use crate::generate::plan_handler;
use crate::report::{self, file_lines};

pub fn run(args: AddHandlerArgs) -> Result<()> {
    let located = locate_for_change(&args.project, args.dry_run)?;
    let project = &located.project;
    let (lambda, note) = handler(&args.handler, project)?;
    if let Some(note) = note {
        report::print(&format!("{note}\n"))?;
    }
    let (kind, name) = (lambda.kind, &lambda.name);
    if let Some(clash) = lambda.clash(|other| project.manifest.has_handler(other.kind, &other.name))
    {
        return Err(UserError::new(clash.reason(&lambda))
            .hint(clash.hint(&lambda))
            .into());
    }
    let listed = project.manifest.has_handler(kind, name);
    if listed && !args.force {
        return Err(
            UserError::new(format!("handler `{lambda}` already exists in lambdas.toml"))
                .hint("choose another name, or pass --force to rewrite its generated files")
                .into(),
        );
    }
    let plan = plan_handler(&project.manifest, kind, name, args.force, listed)?;
    let resolved = apply::resolve(&project.root, plan).map_err(|e| {
        match e.downcast::<apply::AlreadyExists>() {
            Ok(exists) => UserError::new(format!(
                "handler `{lambda}` already exists (`{}` is there)",
                exists.path.display()
            ))
            .hint("choose another name, or pass --force to rewrite its generated files")
            .into(),
            Err(other) => other,
        }
    })?;

    let shown = &located.shown_root;
    let handler_string = lambda.handler();
    if args.dry_run {
        report::print(&format!(
            "would add {} `{name}` ({handler_string}):\n{}dry run: nothing was written\n",
            kind.singular(),
            file_lines(&resolved, shown, true)
        ))?;
        return Ok(());
    }
    apply::commit(&resolved)?;
    let verb = if listed { "rewrote" } else { "added" };
    let change = format!("{verb} {} `{name}`", kind.singular());
    // The commands run from the project root: say how to get there.
    let cd = if shown.as_os_str().is_empty() {
        String::new()
    } else {
        format!("  cd {}\n", shown.display())
    };
    report::print_after_change(
        &format!(
            "{change} (AWS handler string `{handler_string}`):\n{}\
             \nnext steps:\n{cd}  python3 -m unittest\n  ./build.sh --local {name} ./{kind}/{name}\n",
            file_lines(&resolved, shown, false)
        ),
        &change,
    )?;
    Ok(())
}
