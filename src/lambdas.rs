//! One Lambda of a project and everything derived from its kind and name: the
//! AWS handler string, its code and test folders, its zip and its build
//! command (its event source, and the sample event that comes with it, is its
//! manifest entry's: [`crate::event_source`]). `list`, `check`, `invoke`, `remove-handler` and the
//! generator all spell these paths through here. Pure.

use std::fmt;
use std::path::{Path, PathBuf};

use heck::ToUpperCamelCase;
use serde::Serialize;

use crate::error::UserError;
use crate::event_source::EventSource;
use crate::layout::{Kind, Layout};
use crate::manifest::{HandlerEntry, MANIFEST_FILE, Manifest};
use crate::names::HandlerName;
use crate::packages::PackageName;
use crate::plan::slash;

/// A handler: `KIND/NAME/KIND.py` defining `NAME(event, context)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lambda {
    pub kind: Kind,
    pub name: HandlerName,
}

/// What `list` shows of a Lambda; with `--json`, one element of `lambdas`.
/// Paths are relative to the project root, `/`-separated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LambdaInfo {
    pub kind: String,
    pub name: String,
    /// The event source: `kinesis`, `http-api`, ...
    pub event: String,
    pub handler: String,
    pub source: String,
    pub test: String,
    pub zip: String,
    pub build: String,
    /// Its function's logical ID in `template.yaml`.
    pub function_resource: String,
    /// The packages its entry lists (`requirements`), as written: in bundle
    /// mode its zip holds only those locked packages and what they require;
    /// `None` without such a list (every locked package).
    pub requirements: Option<Vec<String>>,
}

impl Lambda {
    pub fn new(kind: Kind, name: HandlerName) -> Self {
        Self { kind, name }
    }

    /// The Lambda a manifest entry names, checked against the project's layout.
    pub fn from_entry(entry: &HandlerEntry, layout: Layout) -> Result<Self, BadEntry> {
        let lambda = Self::named_by(entry, layout)?;
        if let Err(event) = entry.event_source(lambda.kind) {
            return Err(BadEntry::of(
                entry,
                format!(
                    "has unknown event source `{event}` (known: {})",
                    EventSource::spellings()
                ),
            ));
        }
        entry
            .packages()
            .map_err(|reason| BadEntry::of(entry, reason))?;
        Ok(lambda)
    }

    /// The Lambda an entry's kind and name name, whatever its other values
    /// are: an entry with a bad `event` still lists its handler.
    pub fn named_by(entry: &HandlerEntry, layout: Layout) -> Result<Self, BadEntry> {
        let kind = match Kind::from_manifest(&entry.kind) {
            Some(kind) if layout.kinds().contains(&kind) => kind,
            Some(kind) => {
                return Err(BadEntry::of(
                    entry,
                    format!("has kind `{kind}`, which is not part of a {layout} project"),
                ));
            }
            None => {
                return Err(BadEntry::of(
                    entry,
                    format!("has unknown kind `{}`", entry.kind),
                ));
            }
        };
        match HandlerName::parse(&entry.name) {
            Ok(parsed) if parsed.renamed_from.is_none() => Ok(Self::new(kind, parsed.name)),
            _ => Err(BadEntry::of(
                entry,
                "has a name that is not a snake_case Python identifier".to_string(),
            )),
        }
    }

    /// The AWS handler string: `producers.log_event`.
    pub fn handler(&self) -> String {
        format!("{}.{}", self.kind, self.name)
    }

    /// The handler folder, the task root of its zip: `producers/log_event`.
    pub fn source(&self) -> PathBuf {
        Path::new(self.kind.as_str()).join(self.name.as_str())
    }

    /// The handler module: `producers/log_event/producers.py`.
    pub fn module(&self) -> PathBuf {
        self.source().join(format!("{}.py", self.kind))
    }

    /// The folder of its tests: `test/producers/log_event`.
    pub fn test(&self) -> PathBuf {
        Path::new("test").join(self.source())
    }

    /// [`Lambda::source`] spelled with `/`, as `check`'s survey keys folders.
    pub fn source_key(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// [`Lambda::module`] spelled with `/`.
    pub fn module_key(&self) -> String {
        format!("{}/{}/{}.py", self.kind, self.name, self.kind)
    }

    /// [`Lambda::test`] spelled with `/`.
    pub fn test_key(&self) -> String {
        format!("test/{}/{}", self.kind, self.name)
    }

    /// What `./build.sh` writes: `target/log_event.zip`.
    pub fn zip(&self) -> PathBuf {
        Path::new("target").join(format!("{}.zip", self.name))
    }

    /// The command that builds its zip: `./build.sh log_event ./producers/log_event`.
    pub fn build_command(&self) -> String {
        format!("./build.sh {} ./{}", self.name, slash(&self.source()))
    }

    /// Its function's logical ID in `template.yaml`: `LogEventFunction`.
    pub fn function_resource(&self) -> String {
        format!("{}Function", self.name.as_str().to_upper_camel_case())
    }

    /// The handler whose folders (code or tests) hold `path`, if any.
    pub fn owning(path: &Path, layout: Layout) -> Option<Lambda> {
        let mut parts = path.iter().map(|part| part.to_str());
        let mut first = parts.next()??;
        if first == "test" {
            first = parts.next()??;
        }
        let kind = *layout.kinds().iter().find(|k| k.as_str() == first)?;
        let parsed = HandlerName::parse(parts.next()??).ok()?;
        parts.next()?;
        parsed
            .renamed_from
            .is_none()
            .then(|| Lambda::new(kind, parsed.name))
    }

    /// Whether `path` lies in the handler's own folders (code or tests), the
    /// ones `add-handler` makes and `remove-handler` removes.
    pub fn owns(&self, path: &Path) -> bool {
        path.starts_with(self.source()) || path.starts_with(self.test())
    }

    /// What `list` shows of it, invoked by `event`, with the `packages` its
    /// entry lists.
    pub fn info(&self, event: EventSource, packages: Option<&[PackageName]>) -> LambdaInfo {
        LambdaInfo {
            kind: self.kind.as_str().to_string(),
            name: self.name.to_string(),
            event: event.as_str().to_string(),
            handler: self.handler(),
            source: slash(&self.source()),
            test: slash(&self.test()),
            zip: slash(&self.zip()),
            build: self.build_command(),
            function_resource: self.function_resource(),
            requirements: packages
                .map(|names| names.iter().map(|n| n.as_str().to_string()).collect()),
        }
    }
}

/// `producers/log_event`, as messages name a handler.
impl fmt::Display for Lambda {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

/// Why a handler may not join a project, whichever way it comes in: the one
/// rule that `add-handler` and the adoption of `check --fix` both apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NameClash {
    /// The name is one the kind's module binds (`json`): the handler would hide it.
    HidesModuleName,
    /// A handler of another kind has that name: both would build
    /// `target/NAME.zip` and deploy to one function.
    TakenBy(Kind),
}

impl Lambda {
    /// Whether the handler, with a stub for `event`, clashes with its module
    /// or with the project; `taken` says whether a handler is in the project already.
    pub fn clash(&self, event: EventSource, taken: impl Fn(&Lambda) -> bool) -> Option<NameClash> {
        if event.module_names(self.kind).contains(&self.name.as_str()) {
            return Some(NameClash::HidesModuleName);
        }
        Kind::ALL
            .into_iter()
            .filter(|other| *other != self.kind)
            .find(|other| taken(&Lambda::new(*other, self.name.clone())))
            .map(NameClash::TakenBy)
    }
}

impl NameClash {
    /// The reason, as a sentence about the handler name.
    pub fn reason(&self, lambda: &Lambda) -> String {
        let name = &lambda.name;
        match self {
            NameClash::HidesModuleName => format!(
                "handler name `{name}` would hide `{name}`, which the {} module uses",
                lambda.kind
            ),
            NameClash::TakenBy(other) => {
                format!("handler name `{name}` is already used by `{other}/{name}`")
            }
        }
    }

    /// What to do about it.
    pub fn hint(&self, lambda: &Lambda) -> String {
        match self {
            NameClash::HidesModuleName => {
                format!("choose another name, for example `{}_event`", lambda.name)
            }
            NameClash::TakenBy(_) => {
                "Lambdas share target/NAME.zip and function names: choose another name".to_string()
            }
        }
    }
}

/// A `[[handlers]]` entry that names no Lambda of the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadEntry {
    /// `kind/name` as the entry spells them.
    pub handler: String,
    pub reason: String,
}

impl BadEntry {
    fn of(entry: &HandlerEntry, reason: String) -> Self {
        Self {
            handler: format!("{}/{}", entry.kind, entry.name),
            reason,
        }
    }
}

impl fmt::Display for BadEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "handler `{}` {}", self.handler, self.reason)
    }
}

impl From<BadEntry> for UserError {
    fn from(bad: BadEntry) -> Self {
        UserError::new(format!(
            "handler `{}` in `{MANIFEST_FILE}` {}",
            bad.handler, bad.reason
        ))
        .hint("fix that [[handlers]] entry; `lambda-scaffold check` lists every problem")
    }
}

/// Every Lambda of the manifest with its event source, in its order; refuses
/// the first invalid entry.
pub fn from_manifest(manifest: &Manifest) -> Result<Vec<(Lambda, EventSource)>, UserError> {
    manifest
        .handlers()
        .iter()
        .map(|entry| {
            let lambda = Lambda::from_entry(entry, manifest.layout)?;
            let event = entry
                .event_source(lambda.kind)
                .unwrap_or(EventSource::default_for(lambda.kind));
            Ok((lambda, event))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, name: &str) -> HandlerEntry {
        HandlerEntry {
            kind: kind.into(),
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn every_path_and_string_is_derived_from_kind_and_name() {
        let lambda =
            Lambda::from_entry(&entry("producers", "log_event"), Layout::LogCentric).unwrap();
        assert_eq!(
            lambda.info(EventSource::Eventbridge, None),
            LambdaInfo {
                kind: "producers".into(),
                name: "log_event".into(),
                event: "eventbridge".into(),
                handler: "producers.log_event".into(),
                source: "producers/log_event".into(),
                test: "test/producers/log_event".into(),
                zip: "target/log_event.zip".into(),
                build: "./build.sh log_event ./producers/log_event".into(),
                function_resource: "LogEventFunction".into(),
                requirements: None,
            }
        );
        assert_eq!(
            lambda.module(),
            Path::new("producers/log_event/producers.py")
        );
        assert_eq!(lambda.to_string(), "producers/log_event");
        // The survey's keys are the same paths, spelled with `/`.
        assert_eq!(lambda.source_key(), slash(&lambda.source()));
        assert_eq!(lambda.module_key(), slash(&lambda.module()));
        assert_eq!(lambda.test_key(), slash(&lambda.test()));
    }

    #[test]
    fn the_owner_of_a_path_is_the_handler_whose_folders_hold_it() {
        let owner =
            |path: &str| Lambda::owning(Path::new(path), Layout::LogCentric).map(|l| l.to_string());
        assert_eq!(
            owner("producers/a/producers.py").as_deref(),
            Some("producers/a")
        );
        assert_eq!(
            owner("test/consumers/b/x/__init__.py").as_deref(),
            Some("consumers/b")
        );
        for none in [
            "producers/__init__.py",
            "producers/a",
            "producers/MyThing/x.py",
            "handlers/a/h.py",
            "utils/a/b.py",
            "test/fixtures/x.json",
        ] {
            assert_eq!(owner(none), None, "{none}");
        }
    }

    #[test]
    fn a_lambda_owns_its_two_folders_and_nothing_beside_them() {
        let lambda = Lambda::from_entry(&entry("handlers", "index"), Layout::WebStack).unwrap();
        assert!(lambda.owns(Path::new("handlers/index/handlers.py")));
        assert!(lambda.owns(Path::new("test/handlers/index/__init__.py")));
        assert!(!lambda.owns(Path::new("handlers/index2/handlers.py")));
        assert!(!lambda.owns(Path::new("handlers/__init__.py")));
        assert!(!lambda.owns(Path::new("test/fixtures/api_gateway_event.json")));
    }

    #[test]
    fn a_name_clashes_with_its_module_or_with_another_kind_only() {
        let lambda = |kind, name: &str| Lambda::new(kind, HandlerName::parse(name).unwrap().name);
        let nothing_taken = |_: &Lambda| false;
        assert_eq!(
            lambda(Kind::Producers, "json").clash(EventSource::Eventbridge, nothing_taken),
            Some(NameClash::HidesModuleName)
        );
        assert_eq!(
            lambda(Kind::Handlers, "os").clash(EventSource::HttpApi, nothing_taken),
            None
        );
        let taken = [lambda(Kind::Producers, "a"), lambda(Kind::Consumers, "b")];
        let is_taken = |l: &Lambda| taken.contains(l);
        assert_eq!(
            lambda(Kind::Consumers, "a").clash(EventSource::Eventbridge, is_taken),
            Some(NameClash::TakenBy(Kind::Producers))
        );
        assert_eq!(
            lambda(Kind::Producers, "a").clash(EventSource::Eventbridge, is_taken),
            None,
            "itself"
        );
        let reason = NameClash::TakenBy(Kind::Producers).reason(&lambda(Kind::Consumers, "a"));
        assert_eq!(reason, "handler name `a` is already used by `producers/a`");
    }

    #[test]
    fn entries_outside_the_layout_or_with_bad_names_are_refused() {
        let cases = [
            (
                entry("handlers", "index"),
                "handler `handlers/index` has kind `handlers`, which is not part of a log-centric project",
            ),
            (
                entry("widgets", "x"),
                "handler `widgets/x` has unknown kind `widgets`",
            ),
            (
                HandlerEntry {
                    event: Some("pigeon".into()),
                    ..entry("producers", "a")
                },
                "handler `producers/a` has unknown event source `pigeon` (known: `kinesis`, `sqs`, `sns`, `s3`, `dynamodb`, `eventbridge`, `schedule`, `http-api`, `rest-api`, `function-url`)",
            ),
            (
                entry("producers", "ErrorEvent"),
                "handler `producers/ErrorEvent` has a name that is not a snake_case Python identifier",
            ),
        ];
        for (entry, want) in cases {
            let err = Lambda::from_entry(&entry, Layout::LogCentric).unwrap_err();
            assert_eq!(err.to_string(), want);
        }
        assert!(Lambda::from_entry(&entry("producers", ""), Layout::LogCentric).is_err());
    }
}
