//! The user-facing error: one sentence, values in backticks, an optional hint.
//!
//! `main` prints it as `error: …` and `hint: …` and exits with code 1. Other
//! errors (IO and the like) reach `main` through anyhow with context attached.

use std::fmt;

/// A refusal or failure explained to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct UserError {
    pub message: String,
    pub hint: Option<String>,
}

impl UserError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
