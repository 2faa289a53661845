//! `remove-handler KIND NAME`: the inverse of `add-handler`. Removes the
//! handler's two folders and its manifest entry, all or nothing, after making
//! sure that every file in them is one `add-handler` generated and nobody
//! changed since (unless `--force`).

use anyhow::Result;

use crate::event_source::EventSource;
use crate::lambdas::Lambda;
use crate::manifest::Manifest;

use crate::apply;
use crate::cli::RemoveHandlerArgs;
use crate::commands::{handler, locate_for_change};
use crate::error::UserError;
use crate::generate::{PartChange, plan_template_change};
use crate::removal::plan_removal;
use crate::report::{self, file_lines};
use crate::stack::Part;
use crate::survey::{template_facts, user_files_of};

/// How many of the user's files a refusal names before it counts the rest.
const NAMED_FILES: usize = 5;

pub fn run(args: RemoveHandlerArgs) -> Result<()> {
    let located = locate_for_change(&args.project, args.dry_run)?;
    let project = &located.project;
    let (lambda, note) = handler(&args.handler, project)?;
    if let Some(note) = note {
        report::print(&format!("{note}\n"))?;
    }
    if !project.manifest.has_handler(lambda.kind, &lambda.name) {
        let source = lambda.source();
        let hint = if project.root.join(&source).exists() {
            format!(
                "`{}` was not made by lambda-scaffold: remove it by hand, or adopt it with `lambda-scaffold check --fix` first",
                source.display()
            )
        } else {
            "run `lambda-scaffold list` to see the project's handlers".to_string()
        };
        return Err(
            UserError::new(format!("handler `{lambda}` is not in lambdas.toml"))
                .hint(hint)
                .into(),
        );
    }
    if !args.force {
        let theirs = user_files_of(&project.root, &lambda)?;
        if !theirs.is_empty() {
            let mut named: Vec<String> = theirs
                .iter()
                .take(NAMED_FILES)
                .map(ToString::to_string)
                .collect();
            if theirs.len() > NAMED_FILES {
                named.push(format!("and {} more", theirs.len() - NAMED_FILES));
            }
            return Err(UserError::new(format!(
                "handler `{lambda}` has files you edited or added: {}",
                named.join(", ")
            ))
            .hint("nothing was removed; move those files away, or pass --force to remove both folders whole")
            .into());
        }
    }
    let mut plan = plan_removal(&project.manifest, &lambda)?;
    let template_part = plan_template_change(
        &mut plan,
        &template_facts(&project.root)?,
        Part::render(
            &lambda,
            event_source(&project.manifest, &lambda),
            project.manifest.layout,
        )?,
        PartChange::Remove,
        args.force,
    )?;
    let resolved = apply::resolve(&project.root, plan)?;
    let (kind, name, shown) = (lambda.kind, &lambda.name, &located.shown_root);
    if args.dry_run {
        report::print(&format!(
            "would remove {} `{name}` ({}):\n{}{}dry run: nothing was removed\n",
            kind.singular(),
            lambda.handler(),
            file_lines(&resolved, shown, true),
            template_part.note(&lambda, true).unwrap_or_default()
        ))?;
        return Ok(());
    }
    apply::commit(&resolved)?;
    let change = format!("removed {} `{name}`", kind.singular());
    report::print_after_change(
        &format!(
            "{change} ({}):\n{}{}",
            lambda.handler(),
            file_lines(&resolved, shown, false),
            template_part.note(&lambda, false).unwrap_or_default()
        ),
        &change,
    )?;
    Ok(())
}

/// The handler's event source as its manifest entry gives it (the kind's
/// default when the entry names none, or none that exists).
fn event_source(manifest: &Manifest, lambda: &Lambda) -> EventSource {
    manifest
        .handlers()
        .iter()
        .find(|entry| entry.kind == lambda.kind.as_str() && entry.name == lambda.name.as_str())
        .and_then(|entry| entry.event_source(lambda.kind).ok())
        .unwrap_or(EventSource::default_for(lambda.kind))
}
