//! `lambda-scaffold`: generate and grow serverless Python backends on AWS Lambda.
//!
//! The binary is a thin shell over this library: commands validate their
//! arguments into types ([`names`], [`layout`]), render a [`plan::Plan`]
//! ([`generate`], [`templates`], [`manifest`], [`removal`], [`check`]) and hand
//! it to [`apply`], the only module that writes to the disk. [`lambdas`] derives
//! every path and string of one Lambda; [`survey`] reads what `check` and
//! `remove-handler` judge; [`invoke`] runs a handler with python3 ([`env_file`] reads its variables).

// Standard output and error are written in one place, `report`, which survives
// a closed or full one (tests may print their counts).
#![deny(clippy::print_stdout)]
#![cfg_attr(not(test), deny(clippy::print_stderr))]

pub mod apply;
pub mod check;
pub mod cli;
pub mod commands;
pub mod env_file;
pub mod error;
pub mod event_source;
pub mod generate;
pub mod generated;
pub mod handler_module;
pub mod invoke;
pub mod lambdas;
pub mod layout;
pub mod lock;
pub mod manifest;
pub mod mapped;
pub mod names;
pub mod packages;
pub mod plan;
pub mod project;
pub mod prompt;
pub mod removal;
pub mod report;
pub mod setting_copies;
pub mod stack;
pub mod survey;
pub mod templates;
