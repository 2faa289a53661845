//! `add-handler KIND NAME`: find the project, validate, plan the handler's files
//! and manifest entry, write them all or none.

use std::fs;
use std::path::Path;

use anyhow::Result;

use crate::apply;
use crate::cli::AddHandlerArgs;
use crate::commands::{handler, locate_for_change, record_writes};
use crate::error::UserError;
use crate::event_source::EventSource;
use crate::generate::{
    KeptFile, PartChange, TemplatePart, keep_replaced, plan_handler, plan_template_change,
};
use crate::plan;
use crate::removal::UserFile;
use crate::report::{self, file_lines};
use crate::stack::{Part, TEMPLATE_FILE};
use crate::survey::{contents_and_exec_bit, template_facts, user_files_of};

pub fn run(args: AddHandlerArgs) -> Result<()> {
    let located = locate_for_change(&args.project, args.dry_run)?;
    let project = &located.project;
    let (lambda, note) = handler(&args.handler, project)?;
    if let Some(note) = note {
        report::print(&format!("{note}\n"))?;
    }
    let (kind, name) = (lambda.kind, &lambda.name);
    let listed = project.manifest.has_handler(kind, name);
    // A listed handler keeps its source: --force rewrites the stub it was made with.
    let recorded = listed.then(|| project.manifest.event_of(kind, name));
    let event = match (args.event, recorded) {
        (Some(asked), Some(recorded)) if asked != recorded => {
            return Err(UserError::new(format!(
                "handler `{lambda}` is recorded in lambdas.toml with event source `{recorded}`, not `{asked}`"
            ))
            .hint(format!(
                "remove it with `lambda-scaffold remove-handler {kind} {name}` and add it again with --event {asked}"
            ))
            .into());
        }
        (Some(asked), _) => asked,
        (None, recorded) => recorded.unwrap_or(EventSource::default_for(kind)),
    };
    if let Some(clash) = lambda.clash(event, |other| {
        project.manifest.has_handler(other.kind, &other.name)
    }) {
        return Err(UserError::new(clash.reason(&lambda))
            .hint(clash.hint(&lambda))
            .into());
    }
    if listed && !args.force {
        return Err(
            UserError::new(format!("handler `{lambda}` already exists in lambdas.toml"))
                .hint("choose another name, or pass --force to rewrite its generated files")
                .into(),
        );
    }
    let mut plan = plan_handler(&project.manifest, kind, name, event, args.force, listed)?;
    record_writes(&mut plan, project);
    let root = &project.root;
    // The template is the user's as much as the tool's: recorded when
    // new-project writes it; each handler's part carries its own hash.
    let template_part = plan_template_change(
        &mut plan,
        &template_facts(root)?,
        Part::render(&lambda, event, project.manifest.layout)?,
        PartChange::Add,
        args.force,
    )?;
    let kept = if args.force {
        let mut theirs = user_files_of(root, &lambda)?;
        if template_part == TemplatePart::ReplacedEdited {
            // Its part was edited: the template is kept whole beside it.
            theirs.push(UserFile::Edited(TEMPLATE_FILE.to_string()));
        }
        keep_replaced(
            &mut plan,
            &theirs,
            |path| fs::symlink_metadata(root.join(path)).is_ok(),
            |path| contents_and_exec_bit(&root.join(path)),
        )?
    } else {
        Vec::new()
    };
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
            "would add {} `{name}` ({handler_string}, event source {event}):\n{}{}{}dry run: nothing was written\n",
            kind.singular(),
            file_lines(&resolved, shown, true),
            kept_lines(&kept, shown, true),
            template_part.note(&lambda, true).unwrap_or_default()
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
            "{change} (AWS handler string `{handler_string}`):\n{}{}{}\
             \nnext steps:\n{cd}  python3 -m unittest\n  ./build.sh --local {name} ./{kind}/{name}\n",
            file_lines(&resolved, shown, false),
            kept_lines(&kept, shown, false),
            template_part.note(&lambda, false).unwrap_or_default()
        ),
        &change,
    )?;
    Ok(())
}

/// What `--force` keeps of the user's files it replaces, one line each.
fn kept_lines(kept: &[KeptFile], shown: &Path, dry_run: bool) -> String {
    if kept.is_empty() {
        return String::new();
    }
    let verb = if dry_run { "would keep" } else { "kept" };
    let lines: String = kept
        .iter()
        .map(|k| {
            let why = match k.file {
                UserFile::Edited(_) => "edited since it was generated",
                UserFile::Added(_) => "not generated by lambda-scaffold",
            };
            format!(
                "  {} ({why}) as {}\n",
                plan::shown(&shown.join(k.file.path())),
                plan::shown(&shown.join(&k.kept_as))
            )
        })
        .collect();
    format!("{verb} your files that --force replaces:\n{lines}")
}
