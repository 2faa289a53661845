//! `invoke --env-file FILE`: the function's own environment variables, as
//! `NAME=VALUE` lines. Pure: parses text that the command has read.
//!
//! The format: one `NAME=VALUE` a line (an `export ` before it is allowed);
//! blank lines and lines starting with `#` are skipped; VALUE is the rest of
//! the line, taken as it is, except that one pair of matching quotes around it
//! (`"..."` or `'...'`) is removed. NAME follows Lambda's rule (a letter, then
//! letters, digits or `_`) and is none of the names Lambda reserves for itself.

use std::collections::BTreeSet;

use crate::error::UserError;

/// The variables Lambda sets itself; a function cannot set them.
pub const RESERVED: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_REGION",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "LAMBDA_RUNTIME_DIR",
    "LAMBDA_TASK_ROOT",
];

/// The variables of an env file, in its order; `shown` names the file in errors.
pub fn parse(bytes: &[u8], shown: &str) -> Result<Vec<(String, String)>, UserError> {
    let hint = "write one `NAME=VALUE` a line; `#` starts a comment line";
    let text = std::str::from_utf8(bytes)
        .map_err(|_| UserError::new(format!("env file `{shown}` is not UTF-8 text")).hint(hint))?;
    let mut seen = BTreeSet::new();
    let mut variables = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let at = format!("line {} of env file `{shown}`", index + 1);
        let assignment = trimmed.strip_prefix("export ").unwrap_or(trimmed);
        let Some((name, value)) = assignment.split_once('=') else {
            return Err(UserError::new(format!("{at} is not `NAME=VALUE`")).hint(hint));
        };
        if !is_variable_name(name) {
            return Err(UserError::new(format!(
                "{at} sets `{name}`, which is not a Lambda variable name"
            ))
            .hint("a name starts with a letter, then letters, digits or `_`"));
        }
        if RESERVED.contains(&name) {
            return Err(UserError::new(format!(
                "{at} sets `{name}`, which Lambda reserves for itself"
            ))
            .hint("remove it: invoke sets Lambda's own variables as Lambda does"));
        }
        if !seen.insert(name) {
            return Err(UserError::new(format!("{at} sets `{name}` a second time"))
                .hint("keep one of the two lines"));
        }
        let value = unquote(value);
        if value.contains('\0') {
            return Err(
                UserError::new(format!("{at} has a NUL character in its value")).hint(hint),
            );
        }
        variables.push((name.to_string(), value.to_string()));
    }
    Ok(variables)
}

/// Lambda's rule for a variable name: `[a-zA-Z][a-zA-Z0-9_]+`.
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(text: &str) -> Vec<(String, String)> {
        parse(text.as_bytes(), "f.env").unwrap()
    }

    fn refusal(text: &[u8]) -> String {
        parse(text, "f.env").unwrap_err().message
    }

    #[test]
    fn reads_names_and_values_as_written() {
        let text = "# the function's settings\n\nSTREAM_NAME=orders\r\nexport TABLE=\"a b\"\n\
                    EMPTY=\nEQUALS=a=b\nQUOTE='x'\nHALF=\"x\n  INDENTED=1\n";
        assert_eq!(
            vars(text),
            [
                ("STREAM_NAME", "orders"),
                ("TABLE", "a b"),
                ("EMPTY", ""),
                ("EQUALS", "a=b"),
                ("QUOTE", "x"),
                ("HALF", "\"x"),
                ("INDENTED", "1"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        assert!(vars("").is_empty());
    }

    #[test]
    fn refuses_malformed_lines_naming_the_line() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"A1=1\nnot an assignment\n",
                "line 2 of env file `f.env` is not `NAME=VALUE`",
            ),
            (
                b"1X=1",
                "line 1 of env file `f.env` sets `1X`, which is not a Lambda variable name",
            ),
            (b"X=1", "sets `X`, which is not a Lambda variable name"),
            (b"MY VAR=1", "sets `MY VAR`, which is not"),
            (b"_PRIVATE=1", "sets `_PRIVATE`, which is not"),
            (
                b"AWS_REGION=eu-west-1",
                "sets `AWS_REGION`, which Lambda reserves for itself",
            ),
            (
                b"A1=1\nA1=2",
                "line 2 of env file `f.env` sets `A1` a second time",
            ),
            (b"A1=x\0y", "has a NUL character in its value"),
            (b"A1=\xff", "env file `f.env` is not UTF-8 text"),
        ];
        for (text, want) in cases {
            let got = refusal(text);
            assert!(got.contains(want), "{text:?}: {got}");
        }
    }
}
