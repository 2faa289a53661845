//! `new-project NAME`: validate the choices, plan the whole tree, write it at once.

use std::path::PathBuf;

use anyhow::Result;

use crate::apply;
use crate::cli::NewProjectArgs;
use crate::generate::{ProjectSpec, plan_project};
use crate::layout::{Ci, Dependencies, PythonVersion};
use crate::names::ProjectName;
use crate::prompt::choose_layout;
use crate::report::{self, file_lines};

pub fn run(args: NewProjectArgs) -> Result<()> {
    let name = ProjectName::parse(&args.name)?;
    let python = PythonVersion::parse(&args.python)?;
    let root = args.output_dir.as_ref().map_or_else(
        || PathBuf::from(name.as_str()),
        |dir| dir.join(name.as_str()),
    );
    // Checked again when the plan is applied; here so that nothing is asked
    // before a refusal.
    if root.is_dir()
        && root
            .read_dir()
            .is_ok_and(|mut entries| entries.next().is_some())
    {
        return Err(apply::not_empty(&root).into());
    }
    let (layout, note) = choose_layout(args.layout, args.no_input)?;
    if let Some(note) = note {
        report::print(&format!("note: {note}\n"))?;
    }
    let spec = ProjectSpec {
        name,
        layout,
        python,
        arch: args.arch,
        ci: args.ci,
        dependencies: args.dependencies,
        bare: args.bare,
    };
    let resolved = apply::resolve(&root, plan_project(&spec)?)?;

    let summary = format!(
        "project `{}` ({}, Python {}, {}, CI: {}{}{})",
        spec.name,
        spec.layout,
        spec.python.as_str(),
        spec.arch.as_str(),
        spec.ci.as_str(),
        match spec.dependencies {
            Dependencies::Layer => ", dependencies in a layer",
            Dependencies::Bundle => "",
        },
        if spec.bare { ", bare" } else { "" }
    );
    if args.dry_run {
        report::print(&format!(
            "would create {summary} in `{}`:\n{}dry run: nothing was written\n",
            root.display(),
            file_lines(&resolved, &root, true)
        ))?;
        return Ok(());
    }
    apply::commit(&resolved)?;
    report::print_after_change(
        &format!(
            "created {summary}:\n{}{}",
            file_lines(&resolved, &root, false),
            next_steps(&spec, &root)
        ),
        &format!("created project `{}` in `{}`", spec.name, root.display()),
    )?;
    Ok(())
}

fn next_steps(spec: &ProjectSpec, root: &std::path::Path) -> String {
    let first_kind = spec.layout.kinds()[0];
    let mut out = format!(
        "\nnext steps:\n  cd {}\n  python3 -m unittest\n",
        root.display()
    );
    match spec.layout.examples().first().filter(|_| !spec.bare) {
        Some((kind, name)) => {
            out.push_str(&format!("  ./build.sh --local {name} ./{kind}/{name}\n"))
        }
        None => out.push_str(&format!(
            "  lambda-scaffold add-handler {first_kind} my_handler\n"
        )),
    }
    if spec.ci == Ci::None {
        out.push_str("  (no CI file was written: --ci none)\n");
    }
    out
}
