//! `check [--fix]`: survey the tree, judge it, repair what is safe, report.
//!
//! With `--json`, prints a document of a stable schema (version 1; paths
//! relative to the project root, `/`-separated):
//!
//! ```json
//! {"schema_version": 1, "root": "/abs/svc", "ok": false, "dry_run": false,
//!  "problems": [{"code": "missing-test", "path": "test/producers/x",
//!                "message": "no tests for the handler `producers.x`: add a `test_producers.py` here",
//!                "fixable": false}],
//!  "fixed": [{"code": "missing-init", "path": "test/producers/__init__.py", "message": "…",
//!             "fixable": true}]}
//! ```
//!
//! `warnings` (same fields) name what nears a limit without being a problem:
//! a stack at 80% of CloudFormation's 500 resources or 1 MB of template
//! (`near-stack-limit`).
//! `problems` are the problems the tree has when the command ends (after
//! `--fix`, those left); `fixed` are those `--fix` repaired, or with
//! `--dry-run` would repair. The exit code is 1 when `problems` is not empty.
//!
//! Paths that are not UTF-8 (which a JSON string cannot hold): `root` and
//! `path` show each byte that is not UTF-8 as `\xNN`, and `root_hex` and
//! `path_hex`, present only then, give the exact bytes in hexadecimal. A
//! file or folder with such a name is one `not-utf8-name` problem; nothing in
//! it is checked or repaired.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use crate::apply;
use crate::check::{Problem, ProblemReport, plan_fixes, plan_template_fixes, problems, warnings};
use crate::cli::CheckArgs;
use crate::commands::{locate_for_change, record_writes};
use crate::error::UserError;
use crate::plan::{self, escaped, hex_unless_utf8};
use crate::project::Project;
use crate::report;
use crate::survey::survey;

/// Bumped only when a field changes meaning or disappears; fields may be added.
const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct CheckReport {
    schema_version: u32,
    root: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    root_hex: Option<String>,
    ok: bool,
    dry_run: bool,
    problems: Vec<ProblemReport>,
    fixed: Vec<ProblemReport>,
    /// What nears a limit without being a problem (`ok` stays true).
    warnings: Vec<ProblemReport>,
}

pub fn run(args: CheckArgs) -> Result<()> {
    // Only a real --fix writes, so only it takes the project's lock.
    let located = locate_for_change(&args.project, !args.fix || args.dry_run)?;
    let project = &located.project;
    let facts = survey(&project.root, &project.manifest)?;
    let found = problems(&facts);
    let warned = warnings(&facts);
    let fixable: Vec<Problem> = found
        .iter()
        .filter(|p| p.fix().is_some())
        .cloned()
        .collect();
    let (fixed, left) = if args.fix && !fixable.is_empty() {
        let mut plan = plan_fixes(&fixable, &project.manifest)?;
        plan_template_fixes(&mut plan, &fixable, &facts, &project.manifest)?;
        record_writes(&mut plan, project);
        let resolved = apply::resolve(&project.root, plan)?;
        if args.dry_run {
            (fixable, found)
        } else {
            apply::commit(&resolved)?;
            // Surveyed again: an adopted handler is now judged as a listed one.
            let fixed_project = Project::locate(Some(&project.root), &project.root)?;
            let left = problems(&survey(&fixed_project.root, &fixed_project.manifest)?);
            (fixable, left)
        }
    } else {
        (Vec::new(), found)
    };

    let text = if args.json {
        let report = CheckReport {
            schema_version: SCHEMA_VERSION,
            root: escaped(&project.root.canonicalize()?),
            root_hex: hex_unless_utf8(&project.root.canonicalize()?),
            ok: left.is_empty(),
            dry_run: args.dry_run,
            problems: left.iter().map(Problem::report).collect(),
            fixed: fixed.iter().map(Problem::report).collect(),
            warnings: warned.iter().map(Problem::report).collect(),
        };
        format!("{}\n", serde_json::to_string_pretty(&report)?)
    } else {
        let mut text = text_report(&fixed, &left, args.dry_run, &located.shown_root);
        for warning in &warned {
            let path = escaped(&located.shown_root.join(warning.path()));
            text.push_str(&format!("warning: {path}: {}\n", warning.message()));
        }
        if left.is_empty() {
            let left = if fixed.is_empty() { "" } else { " left" };
            text.push_str(&format!("no problems{left}\n"));
        }
        text
    };
    if args.fix && !args.dry_run && !fixed.is_empty() {
        let n = fixed.len();
        let change = format!("fixed {n} problem{}", if n == 1 { "" } else { "s" });
        report::print_after_change(&text, &change)?;
    } else {
        report::print(&text)?;
    }
    // Freed by the exit: dropping the texts and names of thousands of
    // handlers one by one is a few percent of a big project's check.
    std::mem::forget(facts);
    verdict(&left, &args)
}

/// One line per repair, then one per problem, each naming its path.
fn text_report(fixed: &[Problem], left: &[Problem], dry_run: bool, shown: &Path) -> String {
    let verb = if dry_run { "would fix" } else { "fixed" };
    let fixes = fixed.iter().map(|p| {
        let fix = p.fix().unwrap_or_default();
        format!("{verb} {}: {fix}\n", plan::shown(&shown.join(p.path())))
    });
    let problems = left
        .iter()
        .filter(|p| !(dry_run && p.fix().is_some()))
        .map(|p| format!("{}: {}\n", plan::shown(&shown.join(p.path())), p.message()));
    fixes.chain(problems).collect()
}

/// Nothing when all is well, otherwise a [`UserError`] counting what is wrong.
fn verdict(left: &[Problem], args: &CheckArgs) -> Result<()> {
    if left.is_empty() {
        return Ok(());
    }
    let n = left.len();
    let problems = format!("{n} problem{}", if n == 1 { "" } else { "s" });
    let fixable = left.iter().filter(|p| p.fix().is_some()).count();
    let them = if n == 1 { "it" } else { "them" };
    let by_hand = format!("fix {them} by hand (see above), then run `lambda-scaffold check` again");
    let error = if args.fix && !args.dry_run {
        UserError::new(format!("{problems} left")).hint(by_hand.clone())
    } else if fixable == 0 {
        UserError::new(format!("{problems} found")).hint(by_hand)
    } else if args.dry_run {
        UserError::new(format!("{problems} found")).hint(format!(
            "`lambda-scaffold check --fix` would repair {fixable} of them"
        ))
    } else if fixable == n {
        UserError::new(format!("{problems} found")).hint("run `lambda-scaffold check --fix`")
    } else {
        UserError::new(format!("{problems} found")).hint(format!(
            "run `lambda-scaffold check --fix` to repair {fixable} of them"
        ))
    };
    Err(error.into())
}
