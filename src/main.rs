//! The `lambda-scaffold` binary: parse, dispatch, turn errors into exit codes.

use std::process::ExitCode;

use clap::Parser;

use lambda_scaffold::cli::{Cli, Command};
use lambda_scaffold::commands;
use lambda_scaffold::error::UserError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::NewProject(args) => commands::new_project::run(args),
        Command::AddHandler(args) => commands::add_handler::run(args),
        Command::List(args) => commands::list::run(args),
        Command::Check(args) => commands::check::run(args),
        Command::RemoveHandler(args) => commands::remove_handler::run(args),
        Command::Invoke(args) => commands::invoke::run(args),
        Command::Completions(args) => commands::completions::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            report(&err);
            ExitCode::FAILURE
        }
    }
}

fn report(err: &anyhow::Error) {
    if let Some(user) = err.downcast_ref::<UserError>() {
        eprintln!("error: {}", user.message);
        if let Some(hint) = &user.hint {
            eprintln!("hint: {hint}");
        }
    } else {
        // Context first, then its causes, cargo style.
        eprintln!("error: {err}");
        for cause in err.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
    }
}
