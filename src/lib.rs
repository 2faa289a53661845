//! `lambda-scaffold`: generate and grow serverless Python backends on AWS Lambda.
//!
//! The binary is a thin shell over this library: commands validate their
//! arguments into types ([`names`], [`layout`]), render a [`plan::Plan`]
//! ([`generate`], [`templates`], [`manifest`]) and hand it to [`apply`], the only
//! module that writes to the disk.

pub mod apply;
pub mod cli;
pub mod commands;
pub mod error;
pub mod generate;
pub mod layout;
pub mod manifest;
pub mod names;
pub mod plan;
pub mod project;
pub mod prompt;
pub mod report;
pub mod templates;
