//! The project's shape: its layout, the kinds of handler each layout holds, and
//! the build settings (Python version, architecture, CI) chosen at creation.
//!
//! Pure values and their spellings; nothing here touches the file system.

use std::fmt;

use clap::ValueEnum;

use crate::error::UserError;

/// How Lambdas talk to each other, which decides the top-level folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Layout {
    /// Lambdas talk through a log (Kinesis): `producers/` and `consumers/`.
    LogCentric,
    /// A web backend behind API Gateway: one `handlers/` folder.
    WebStack,
}

impl Layout {
    pub const DEFAULT: Layout = Layout::LogCentric;

    pub fn as_str(self) -> &'static str {
        match self {
            Layout::LogCentric => "log-centric",
            Layout::WebStack => "web-stack",
        }
    }

    pub fn from_manifest(value: &str) -> Option<Self> {
        Self::value_variants()
            .iter()
            .copied()
            .find(|l| l.as_str() == value)
    }

    pub fn kinds(self) -> &'static [Kind] {
        match self {
            Layout::LogCentric => &[Kind::Producers, Kind::Consumers],
            Layout::WebStack => &[Kind::Handlers],
        }
    }

    /// The handlers `new-project` writes unless `--bare`.
    pub fn examples(self) -> &'static [(Kind, &'static str)] {
        match self {
            Layout::LogCentric => &[
                (Kind::Producers, "log_event"),
                (Kind::Consumers, "log_sink"),
            ],
            Layout::WebStack => &[(Kind::Handlers, "index")],
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind of handler: its top-level folder and the name of the module in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Producers,
    Consumers,
    Handlers,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Producers, Kind::Consumers, Kind::Handlers];

    /// The folder name, which is also the module name (`producers.py`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Producers => "producers",
            Kind::Consumers => "consumers",
            Kind::Handlers => "handlers",
        }
    }

    /// The kind spelled exactly as the manifest and the folders spell it.
    pub fn from_manifest(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }

    /// One handler of the kind, in messages: "producer", "consumer", "handler".
    pub fn singular(self) -> &'static str {
        self.as_str().trim_end_matches('s')
    }

    /// Parses a kind as typed by the user (plural or singular) for `layout`.
    pub fn parse(raw: &str, layout: Layout) -> Result<Self, UserError> {
        let allowed = layout.kinds();
        let names: Vec<String> = allowed
            .iter()
            .map(|k| format!("`{}`", k.as_str()))
            .collect();
        let found = Kind::ALL
            .into_iter()
            .find(|k| raw == k.as_str() || raw == k.as_str().trim_end_matches('s'));
        match found {
            Some(kind) if allowed.contains(&kind) => Ok(kind),
            Some(kind) => Err(UserError::new(format!(
                "kind `{}` is not part of a {layout} project",
                kind.as_str()
            ))
            .hint(format!("this project's kinds are {}", names.join(" and ")))),
            None => Err(
                UserError::new(format!("unknown kind `{}`", crate::names::shown(raw)))
                    .hint(format!("this project's kinds are {}", names.join(" and "))),
            ),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Python versions with a Lambda runtime that the tool supports.
pub const PYTHON_VERSIONS: &[&str] = &["3.10", "3.11", "3.12", "3.13", "3.14"];
pub const DEFAULT_PYTHON: &str = "3.13";

/// A validated Lambda Python runtime version (`3.13`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonVersion(&'static str);

impl PythonVersion {
    pub fn parse(raw: &str) -> Result<Self, UserError> {
        let raw = raw.strip_prefix("python").unwrap_or(raw);
        PYTHON_VERSIONS
            .iter()
            .find(|v| **v == raw)
            .map(|v| Self(v))
            .ok_or_else(|| {
                UserError::new(format!("python version `{raw}` is not supported"))
                    .hint(format!("choose one of {}", PYTHON_VERSIONS.join(", ")))
            })
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl Default for PythonVersion {
    fn default() -> Self {
        Self(DEFAULT_PYTHON)
    }
}

/// The Lambda instruction set architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Arch {
    #[default]
    #[value(name = "x86_64")]
    X86_64,
    Arm64,
}

impl Arch {
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The machine's name for it, as `uname -m` and Rust's target spell it.
    pub fn machine(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "aarch64",
        }
    }
}

/// Where the locked dependencies ship: `dependencies` in `lambdas.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Dependencies {
    /// In every function's zip
    #[default]
    Bundle,
    /// In one Lambda layer, target/dependencies.zip, that template.yaml declares and every
    /// function uses
    Layer,
}

impl Dependencies {
    /// The manifest's key; a manifest without it bundles.
    pub const KEY: &'static str = "dependencies";

    pub fn as_str(self) -> &'static str {
        match self {
            Dependencies::Bundle => "bundle",
            Dependencies::Layer => "layer",
        }
    }

    /// The mode of a manifest's `dependencies` value (`None`: no such key).
    pub fn from_manifest(value: Option<&str>) -> Option<Self> {
        match value {
            None => Some(Dependencies::Bundle),
            Some(value) => Self::from_str(value, false).ok(),
        }
    }
}

/// Which CI configuration the project gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Ci {
    #[default]
    Gitlab,
    Github,
    None,
}

impl Ci {
    pub fn as_str(self) -> &'static str {
        match self {
            Ci::Gitlab => "gitlab",
            Ci::Github => "github",
            Ci::None => "none",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_accept_singular_and_plural_within_their_layout() {
        assert_eq!(
            Kind::parse("producer", Layout::LogCentric),
            Ok(Kind::Producers)
        );
        assert_eq!(
            Kind::parse("consumers", Layout::LogCentric),
            Ok(Kind::Consumers)
        );
        assert_eq!(Kind::parse("handler", Layout::WebStack), Ok(Kind::Handlers));
    }

    #[test]
    fn kinds_outside_the_layout_are_refused_with_the_allowed_ones() {
        let err = Kind::parse("handlers", Layout::LogCentric).unwrap_err();
        assert_eq!(
            err.message,
            "kind `handlers` is not part of a log-centric project"
        );
        assert_eq!(
            err.hint.as_deref(),
            Some("this project's kinds are `producers` and `consumers`")
        );
        assert!(Kind::parse("producers", Layout::WebStack).is_err());
        assert!(
            Kind::parse("widgets", Layout::WebStack)
                .unwrap_err()
                .message
                .contains("unknown kind")
        );
    }

    #[test]
    fn python_versions_are_the_supported_runtimes() {
        assert_eq!(PythonVersion::parse("3.12").map(|v| v.as_str()), Ok("3.12"));
        assert_eq!(
            PythonVersion::parse("python3.14").map(|v| v.as_str()),
            Ok("3.14")
        );
        for bad in ["3.9", "3", "2.7", "3.15", ""] {
            assert!(PythonVersion::parse(bad).is_err(), "{bad}");
        }
    }
}
