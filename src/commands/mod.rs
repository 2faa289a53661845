//! One module per subcommand: each turns its clap arguments into validated
//! types, asks the core for a plan, and applies or prints it.

pub mod add_handler;
pub mod new_project;
