//! The command line: clap definitions. Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::layout::{Arch, Ci, Layout};

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
    /// Kind of handler: producers or consumers (log-centric), handlers (web-stack); singular accepted
    pub kind: String,

    /// Handler function name; turned into snake_case (`ErrorEvent` -> `error_event`)
    pub name: String,

    /// Project folder [default: the nearest folder upwards holding lambdas.toml]
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,

    /// Rewrite this handler's generated files if they exist
    #[arg(long)]
    pub force: bool,

    /// Print what would be written, and write nothing
    #[arg(long)]
    pub dry_run: bool,
}
