//! The command line: clap definitions. Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;

use crate::event_source::EventSource;
use crate::invoke::MAX_TIMEOUT;
use crate::layout::{Arch, Ci, Dependencies, Layout};

/// Start and grow serverless Python backends on AWS Lambda.
#[derive(Debug, Parser)]
#[command(name = "lambda-scaffold", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new project folder with tests, build files and CI
    NewProject(NewProjectArgs),
    /// Add a handler (code, test, fixture, manifest entry) to the project
    AddHandler(AddHandlerArgs),
    /// List the project's Lambdas: handler strings, folders, zips and build commands
    List(ListArgs),
    /// Check the tree against lambdas.toml and the conventions; --fix repairs
    Check(CheckArgs),
    /// Remove a handler that add-handler made: its two folders and its manifest entry
    RemoveHandler(RemoveHandlerArgs),
    /// Run a handler locally with python3 from the files its zip holds, as Lambda runs it
    Invoke(InvokeArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
}

/// A handler as the user names it.
#[derive(Debug, Args)]
pub struct HandlerArgs {
    /// Kind of handler: producers or consumers (log-centric), handlers (web-stack); singular accepted
    pub kind: String,

    /// Handler function name; turned into snake_case (`ErrorEvent` -> `error_event`)
    pub name: String,
}

/// Where the project is.
#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// Project folder [default: the nearest folder upwards holding lambdas.toml]
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct NewProjectArgs {
    /// Name of the project folder to create (letters, digits, `_`, `-`, `.`)
    pub name: String,

    /// Folder to create the project in [default: the current folder]
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,

    /// How the Lambdas talk: through a log (producers/consumers) or as a web stack (handlers).
    /// Asked on a terminal when missing; log-centric otherwise
    #[arg(long, value_enum)]
    pub layout: Option<Layout>,

    /// Python version of the Lambda runtime (3.10 to 3.14)
    #[arg(long, value_name = "X.Y", default_value = crate::layout::DEFAULT_PYTHON)]
    pub python: String,

    /// Lambda architecture the zips are built for
    #[arg(long, value_enum, default_value_t)]
    pub arch: Arch,

    /// Where the locked dependencies ship (`dependencies` in lambdas.toml)
    #[arg(long, value_enum, default_value_t)]
    pub dependencies: Dependencies,

    /// CI configuration to generate
    #[arg(long, value_enum, default_value_t)]
    pub ci: Ci,

    /// Leave out the example handlers
    #[arg(long)]
    pub bare: bool,

    /// Never prompt; use the defaults for anything not given
    #[arg(long)]
    pub no_input: bool,

    /// Print what would be written, and write nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct AddHandlerArgs {
    #[command(flatten)]
    pub handler: HandlerArgs,

    #[command(flatten)]
    pub project: ProjectArgs,

    /// What invokes the handler: shapes its stub, test, sample event and trigger
    /// [default: consumers kinesis, producers eventbridge, handlers http-api]
    #[arg(long, value_enum, value_name = "SOURCE")]
    pub event: Option<EventSource>,

    /// Rewrite this handler's generated files; a file there that you wrote or
    /// edited since it was generated is kept beside it as FILE.orig
    #[arg(long)]
    pub force: bool,

    /// Print what would be written, and write nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub project: ProjectArgs,

    /// Print JSON instead of a table.
    ///
    /// Schema (version 1; paths relative to the project root, `/`-separated):
    /// {"schema_version": 1, "project": NAME, "root": DIR, "layout": LAYOUT,
    /// "python": "X.Y", "arch": ARCH, "ci": CI, "dependencies": "bundle" or
    /// "layer", "lambdas": [{"kind", "name", "event", "handler", "source",
    /// "test", "zip", "build", "function_resource", "requirements"}, ...]};
    /// "event" is the event source (kinesis, sqs, ..., the kind's default
    /// when lambdas.toml names none), "requirements" the packages the
    /// handler's entry lists, null without a list (its zip gets every locked
    /// package). A root that is not UTF-8 is
    /// shown with \xNN for each byte that is not, and "root_hex" gives its
    /// exact bytes in hexadecimal (present only then).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub project: ProjectArgs,

    /// Repair what is safe: create missing __init__.py files and an empty
    /// requirements.txt, restore a missing build.sh and make it executable,
    /// add handler folders that follow the convention (KIND/NAME/KIND.py) to
    /// lambdas.toml, rewrite the python and arch that the Dockerfile, CI file,
    /// README and template.yaml copy from lambdas.toml, add the dependencies'
    /// layer to template.yaml or take it out as `dependencies` says, rewrite
    /// [[handlers]] values build.sh cannot read in the plain one-line form
    #[arg(long)]
    pub fix: bool,

    /// With --fix: print what would be repaired, and write nothing
    #[arg(long, requires = "fix")]
    pub dry_run: bool,

    /// Print JSON instead of text.
    ///
    /// Schema (version 1; paths relative to the project root, `/`-separated):
    /// {"schema_version": 1, "root": DIR, "ok": BOOL, "dry_run": BOOL,
    /// "problems": [PROBLEM, ...], "fixed": [PROBLEM, ...]}, where PROBLEM is
    /// {"code", "path", "message", "fixable"}; "problems" are those left after
    /// --fix, "fixed" those it repaired (or with --dry-run would repair).
    /// Codes: missing-init, missing-function, missing-test, missing-folder,
    /// missing-module, unlisted-handler, bad-entry, not-executable,
    /// missing-requirements, duplicate-entry, shared-name, bad-setting,
    /// clashing-name (a conventional folder that add-handler's rules keep out
    /// of the manifest: not adopted by --fix), misnamed-handler,
    /// missing-build-script, setting-mismatch, not-utf8-name, bare-import (a
    /// handler module importing a module of its own folder by its bare name),
    /// stale-lock (requirements.lock missing, or not resolved from this
    /// requirements.txt and lambdas.toml's python and arch: run
    /// `./build.sh --lock`), unknown-package (a handler's `requirements`
    /// names a package neither requirements.txt nor requirements.lock
    /// holds), packages-in-layer (a handler lists `requirements` with
    /// `dependencies = "layer"`, where every function gets the one layer),
    /// missing-layer (`dependencies = "layer"` and template.yaml deploys no
    /// layer of target/dependencies.zip), extra-layer (template.yaml deploys
    /// that layer, which build.sh only writes in layer mode),
    /// not-plain-entry (a `kind`, `name` or `requirements` line of a
    /// [[handlers]] entry in a TOML form build.sh does not read: write it on
    /// one line with plain strings), not-plain-setting (a `python`, `arch`,
    /// `dependencies` or `bytecode` setting in a TOML form build.sh does not
    /// read, or a line of a value over several lines that it reads as a
    /// setting or a table), unpaired-marker (a `# lambda-scaffold:
    /// begin` or `end` line of a
    /// handler's part of template.yaml without its pair: restore it, or
    /// remove the block by hand), crossed-markers (the parts of two handlers
    /// whose marker lines cross or nest: add-handler and remove-handler
    /// refuse to edit either; move one block out of the other).
    ///
    /// Paths that are not UTF-8: "root" and "path" show each byte that is not
    /// UTF-8 as \xNN; "root_hex" and "path_hex", present only then, give the
    /// exact bytes in hexadecimal. A file or folder whose name is not UTF-8 is
    /// one not-utf8-name problem, which --fix never repairs; nothing in it is
    /// checked or repaired (no second folder with another spelling is made).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RemoveHandlerArgs {
    #[command(flatten)]
    pub handler: HandlerArgs,

    #[command(flatten)]
    pub project: ProjectArgs,

    /// Remove the handler's folders whole, with files you edited or added
    #[arg(long)]
    pub force: bool,

    /// Print what would be removed, and remove nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct InvokeArgs {
    #[command(flatten)]
    pub handler: HandlerArgs,

    /// JSON event to pass, `-` for standard input [default: the sample event
    /// of the handler's event source in test/fixtures/]
    #[arg(long, value_name = "FILE")]
    pub event: Option<PathBuf>,

    /// Seconds the handler may run, as the Lambda's timeout [default: the
    /// one its function gets from template.yaml: the `Timeout` of its part,
    /// else of `Globals: Function:`, else Lambda's 3; 30, the generated
    /// template's, when template.yaml is missing or does not say it plainly
    /// (`!Ref`, flow style)]
    #[arg(long, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT))]
    pub timeout: Option<u64>,

    /// The function's own environment variables: `NAME=VALUE` lines (`#`
    /// comments, one pair of quotes around a value removed). Lambda's own
    /// variables (AWS_REGION, AWS_LAMBDA_FUNCTION_NAME, ...) are always set
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,

    /// Run the handler from its built zip, target/NAME.zip (with the layer
    /// target/dependencies.zip in layer mode), importing only the packages it
    /// holds and those Lambda's runtime provides (boto3, botocore): exactly
    /// what ships. Needs a Linux host of the Lambda's
    /// architecture (`arch` in lambdas.toml) and a zip built from the current
    /// code (`./build.sh --local NAME PATH`)
    #[arg(long)]
    pub zip: bool,

    #[command(flatten)]
    pub project: ProjectArgs,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to complete in
    #[arg(value_enum)]
    pub shell: Shell,
}
