//! The `lambda-scaffold` binary: parse, dispatch, turn errors into exit codes.

#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use lambda_scaffold::cli::{Cli, Command};
use lambda_scaffold::commands;
use lambda_scaffold::error::UserError;
use lambda_scaffold::report::{eprint, print};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(clap_says) => return clap_output(&clap_says),
    };
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

/// What clap says instead of running a command. Help and version go to
/// standard output through `report` when it is not a terminal, so that a full
/// one is an error rather than a silent exit 0; on a terminal, and for usage
/// errors (stderr, exit 2), clap prints them itself, in colour where it may.
fn clap_output(said: &clap::Error) -> ExitCode {
    if said.use_stderr() || std::io::stdout().is_terminal() {
        let _ = said.print();
        return ExitCode::from(u8::try_from(said.exit_code()).unwrap_or(2));
    }
    match print(&said.render().to_string()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report(&error.into());
            ExitCode::FAILURE
        }
    }
}

fn report(err: &anyhow::Error) {
    let mut text = String::new();
    if let Some(user) = err.downcast_ref::<UserError>() {
        text.push_str(&format!("error: {}\n", user.message));
        if let Some(hint) = &user.hint {
            text.push_str(&format!("hint: {hint}\n"));
        }
    } else {
        // Context first, then its causes, cargo style.
        text.push_str(&format!("error: {err}\n"));
        for cause in err.chain().skip(1) {
            text.push_str(&format!("  caused by: {cause}\n"));
        }
    }
    eprint(&text);
}
