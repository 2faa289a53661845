//! `completions SHELL`: the shell completion script, generated from the clap
//! definitions by clap_complete, on stdout.

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionsArgs};
use crate::report;

pub fn run(args: CompletionsArgs) -> Result<()> {
    let mut command = Cli::command();
    let name = command.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, &name, &mut script);
    let mut script = String::from_utf8(script)?;
    if args.shell == Shell::Bash {
        script = fix_bash_subcommand_arms(&script, &name);
    }
    report::print(&script)?;
    Ok(())
}

/// clap_complete 4.6 spells the `case` arms of a hyphenated binary's
/// subcommands `lambda__subcmd__scaffold__subcmd__…` but sets `cmd` to
/// `lambda__scaffold__subcmd__…`, so bash never completed past the command
/// name (clap-rs/clap#6421). Spell the arms the way `cmd` is set.
fn fix_bash_subcommand_arms(script: &str, name: &str) -> String {
    let arm = format!("{}__subcmd__", name.replace('-', "__subcmd__"));
    let cmd = format!("{}__subcmd__", name.replace('-', "__"));
    script.replace(&arm, &cmd)
}
