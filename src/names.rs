//! Names as types: every name a user types is validated here, before any IO.
//!
//! A [`HandlerName`] is always an ASCII Python identifier in snake_case, not a
//! keyword, at most 64 characters; a [`ProjectName`] is always one safe folder
//! name. Nothing in this module touches the file system.

use std::fmt;

use heck::ToSnakeCase;

use crate::error::UserError;

/// Longest handler or project name accepted (Lambda function names allow 64).
pub const MAX_NAME_LEN: usize = 64;

/// Python's hard keywords and soft keywords (`match`, `case`, `type`, `_`).
const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "match", "case", "type", "_",
];

/// A handler's name: the Python function, its folder and its Lambda's name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HandlerName(String);

/// The result of parsing what the user typed as a handler name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedHandlerName {
    pub name: HandlerName,
    /// The user's spelling when it differs from the snake_case name.
    pub renamed_from: Option<String>,
}

impl HandlerName {
    /// Normalises `raw` to snake_case and validates the result.
    ///
    /// Only letters, digits, `_` and `-` are accepted before normalisation, so
    /// that separators, dots and shell characters are refused rather than
    /// silently dropped by the case conversion.
    pub fn parse(raw: &str) -> Result<ParsedHandlerName, UserError> {
        if raw.is_empty() {
            return Err(
                UserError::new("handler name is empty").hint("give a name such as `error_event`")
            );
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        {
            return Err(UserError::new(format!(
                "handler name `{}` contains {}, which is not allowed",
                shown(raw),
                quote_char(bad)
            ))
            .hint("use letters, digits, `_` and `-` only (it becomes a Python identifier)"));
        }
        let snake = normalise(raw);
        validate_identifier(raw, &snake)?;
        let renamed_from = (snake != raw).then(|| raw.to_string());
        Ok(ParsedHandlerName {
            name: HandlerName(snake),
            renamed_from,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A value as typed, for an error message: as it is, but with control
/// characters (a newline, an escape) written as escapes so the message stays
/// one line.
pub fn shown(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A character in backticks, as the error messages show values.
fn quote_char(c: char) -> String {
    match c {
        '`' => "`` ` ``".to_string(),
        c if c.is_control() => format!("`{}`", c.escape_debug()),
        c => format!("`{c}`"),
    }
}

/// snake_case as heck spells it, keeping a leading underscore that heck drops.
fn normalise(raw: &str) -> String {
    if is_plain_snake_case(raw) {
        return raw.to_string();
    }
    let snake = raw.to_snake_case();
    if raw.starts_with('_') && !snake.starts_with('_') {
        format!("_{snake}")
    } else {
        snake
    }
}

/// Whether heck gives `raw` back as it is: lower-case words of letters and
/// digits joined by single underscores. Every name the tool wrote has this
/// shape, so `check` and `list` skip heck's word splitting for thousands of
/// them (a property test holds the two to the same answers).
fn is_plain_snake_case(raw: &str) -> bool {
    !raw.is_empty()
        && raw.split('_').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn validate_identifier(raw: &str, snake: &str) -> Result<(), UserError> {
    let shown = if raw == snake || snake.is_empty() {
        format!("`{raw}`")
    } else {
        format!("`{raw}` (`{snake}`)")
    };
    let first = snake.chars().next();
    if first.is_none() {
        return Err(
            UserError::new(format!("handler name {shown} has no letters"))
                .hint("give a name such as `error_event`"),
        );
    }
    if first.is_some_and(|c| c.is_ascii_digit()) {
        return Err(
            UserError::new(format!("handler name {shown} starts with a digit"))
                .hint("Python identifiers start with a letter or `_`"),
        );
    }
    if snake.len() > MAX_NAME_LEN {
        return Err(UserError::new(format!(
            "handler name {shown} is {} characters long, more than {MAX_NAME_LEN}",
            snake.len()
        ))
        .hint("Lambda function names are at most 64 characters"));
    }
    if PYTHON_KEYWORDS.contains(&snake) {
        return Err(
            UserError::new(format!("handler name {shown} is a Python keyword"))
                .hint(format!("choose another name, for example `on_{snake}`")),
        );
    }
    Ok(())
}

impl fmt::Display for HandlerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A project's name: one folder name, safe to write into shell and YAML files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectName(String);

impl ProjectName {
    pub fn parse(raw: &str) -> Result<Self, UserError> {
        let hint = "use one folder name of letters, digits, `_`, `-` and `.`, such as `my-service`";
        if raw.is_empty() {
            return Err(UserError::new("project name is empty").hint(hint));
        }
        if raw.contains(['/', '\\']) || raw == "." || raw == ".." {
            return Err(UserError::new(format!(
                "project name `{}` is not one folder name",
                shown(raw)
            ))
            .hint("pass the parent folder with --output-dir and NAME alone"));
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        {
            return Err(UserError::new(format!(
                "project name `{}` contains {}, which is not allowed",
                shown(raw),
                quote_char(bad)
            ))
            .hint(hint));
        }
        if raw.starts_with(['-', '.']) {
            return Err(UserError::new(format!(
                "project name `{raw}` starts with `{}`",
                &raw[..1]
            ))
            .hint(hint));
        }
        if raw.len() > MAX_NAME_LEN {
            return Err(UserError::new(format!(
                "project name `{raw}` is {} characters long, more than {MAX_NAME_LEN}",
                raw.len()
            ))
            .hint(hint));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ProjectName {
    /// The name as AWS names of stacks, streams and queues may spell it:
    /// `_` and `.` become `-`, and a leading digit gets a `p-` before it
    /// (a stack name starts with a letter).
    pub fn stack_name(&self) -> String {
        let dashed = self.0.replace(['_', '.'], "-");
        if dashed.starts_with(|c: char| c.is_ascii_digit()) {
            format!("p-{dashed}")
        } else {
            dashed
        }
    }
}

impl fmt::Display for ProjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_names_are_normalised_to_snake_case() {
        let cases = [
            ("error_event", "error_event", false),
            ("ErrorEvent", "error_event", true),
            ("error-event", "error_event", true),
            ("HTTPServer", "http_server", true),
            ("_private", "_private", false),
            ("index2", "index2", false),
        ];
        for (raw, want, renamed) in cases {
            let parsed = HandlerName::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(parsed.name.as_str(), want, "{raw}");
            assert_eq!(parsed.renamed_from.is_some(), renamed, "{raw}");
        }
    }

    #[test]
    fn handler_names_that_are_not_identifiers_are_refused() {
        let long = "a".repeat(65);
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("../etc", "contains `.`"),
            ("a/b", "contains `/`"),
            ("a\\b", "contains `\\`"),
            ("x;rm", "contains `;`"),
            ("$(id)", "contains `$`"),
            ("café", "contains `é`"),
            ("1st", "starts with a digit"),
            ("class", "Python keyword"),
            ("Match", "Python keyword"),
            ("type", "Python keyword"),
            ("---", "no letters"),
            (&long, "more than 64"),
        ];
        for (raw, want) in cases {
            let err = HandlerName::parse(raw).expect_err(raw).to_string();
            assert!(err.contains(want), "{raw:?}: {err}");
        }
    }

    #[test]
    fn refusals_show_the_name_as_typed_and_hints_are_filled_in() {
        let err = HandlerName::parse("Class").unwrap_err();
        assert_eq!(
            err.message,
            "handler name `Class` (`class`) is a Python keyword"
        );
        assert_eq!(
            err.hint.as_deref(),
            Some("choose another name, for example `on_class`")
        );
        let err = HandlerName::parse("--").unwrap_err();
        assert_eq!(err.message, "handler name `--` has no letters");
    }

    proptest::proptest! {
        /// The shortcut for names already in snake_case gives heck's answer.
        #[test]
        fn plain_snake_case_is_what_heck_gives_back(raw in "[a-zA-Z0-9_-]{1,12}") {
            if is_plain_snake_case(&raw) {
                proptest::prop_assert_eq!(raw.to_snake_case(), raw);
            }
        }

        #[test]
        fn snake_case_words_take_the_shortcut(raw in "[a-z0-9]{1,5}(_[a-z0-9]{1,5}){0,3}") {
            proptest::prop_assert!(is_plain_snake_case(&raw));
            proptest::prop_assert_eq!(raw.to_snake_case(), raw);
        }
    }

    #[test]
    fn sixty_four_characters_is_the_longest_accepted_name() {
        assert!(HandlerName::parse(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn a_stack_name_is_the_project_name_as_aws_spells_names() {
        let stack = |raw: &str| ProjectName::parse(raw).unwrap().stack_name();
        assert_eq!(stack("my-service"), "my-service");
        assert_eq!(stack("svc_2.api"), "svc-2-api");
        assert_eq!(stack("2fa"), "p-2fa");
    }

    #[test]
    fn project_names_must_be_one_safe_folder_name() {
        for ok in ["demo", "my-service", "svc_2", "a.b"] {
            assert!(ProjectName::parse(ok).is_ok(), "{ok}");
        }
        let long = "p".repeat(65);
        for bad in [
            "", ".", "..", "a/b", "../x", "-rf", ".hidden", "a b", "x;y", "$(id)", &long,
        ] {
            assert!(ProjectName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
