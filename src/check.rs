//! The judge of `check`: turns the facts observed in a project ([`Facts`], read
//! by [`crate::survey`]) into problems, each named by a path, and plans the
//! repairs that are safe. Pure: nothing here reads or writes the disk.
//!
//! What counts as a problem:
//! - a package folder without `__init__.py`, in the code trees (each kind's
//!   folder and `utils/`) and the test tree (`test/`, whose `fixtures/` holds
//!   data, not code); a folder is a package folder when it holds `.py` files or
//!   package folders;
//! - a handler module `KIND/NAME/KIND.py` that binds no `NAME` (see
//!   [`crate::handler_module`]: `def NAME(`, `NAME = …`, `from … import NAME`);
//! - a handler without a test (`test/KIND/NAME/test*.py`);
//! - a manifest entry without its folder or module, or one that names no
//!   Lambda of the project; a handler listed twice; one name used by two kinds
//!   (both would build `target/NAME.zip`); an entry line where `kind`,
//!   `name` or `requirements` is not in the plain one-line form `build.sh`
//!   reads (a multi-line array, an escape, a triple-quoted string), and
//!   likewise a line of a setting it reads (`python`, `arch`,
//!   `dependencies`, `bytecode`), or one where its line reader reads another
//!   value than TOML (a line of a value written over several lines);
//! - a folder that follows the convention (`KIND/NAME/KIND.py`) but is missing
//!   from the manifest; when `add-handler` would refuse its name (it hides what
//!   the module imports, or another kind has it, listed or as such a folder),
//!   it is named as a clash, which needs a person;
//! - a folder shaped like a handler (`KIND/FOLDER/KIND.py`) whose name is no
//!   handler name, so the manifest cannot list it (`producers/MyThing`);
//! - a missing `build.sh` or one without its exec bit, a missing
//!   `requirements.txt`;
//! - a `requirements.lock` that is missing or does not record the hash of
//!   `requirements.txt` and the manifest's `python` and `arch` ([`crate::lock`]);
//! - a handler entry listing a package (`requirements = [...]`) that neither
//!   `requirements.txt` nor the lock names, or listing any in layer mode
//!   (`dependencies = "layer"`: one layer serves every function, so a list
//!   would be ignored; the build refuses it too);
//! - a file that copies a build setting of the manifest (`python`, `arch`)
//!   with another value ([`crate::setting_copies`]; `template.yaml`'s
//!   `Runtime` and `Architectures` among them);
//! - `template.yaml` missing, without a function for a Lambda that has code
//!   (listed, or to adopt), or with a function for a handler of the
//!   project's kinds that has no code (its `Handler:` lines, read by
//!   [`crate::stack`]), or with a handler's marker comment without its pair,
//!   or two parts whose marker comments cross or nest (which `add-handler`
//!   and `remove-handler` refuse);
//! - `template.yaml` disagreeing with the manifest's `dependencies`: no
//!   layer of `target/dependencies.zip` in layer mode, one in bundle mode
//!   (where `build.sh` writes no such zip).
//!
//! Safe to repair: the markers (created empty), the exec bit, the adoption of
//! conventional folders into the manifest (no file hashes are recorded for them,
//! so `remove-handler` treats their files as the user's), an empty
//! `requirements.txt`, a missing `build.sh` (from the template), the copies
//! of the settings (rewritten from the manifest), a missing `template.yaml`
//! (the one `new-project` writes), a handler's missing part of it, and the
//! dependencies' layer part of it, added in layer mode or taken out in bundle
//! mode (when it is the tool's part as written and nothing else refers to
//! it), and the manifest values `build.sh` cannot read, written again plainly
//! when no comment inside them is lost ([`Manifest::plainly_written`]). The
//! rest needs a person.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::event_source::EventSource;
use crate::lambdas::{BadEntry, Lambda, NameClash};
use clap::ValueEnum;

use crate::generate;
use crate::handler_module::defines_handler;
use crate::layout::{Arch, Ci, Dependencies, Kind, Layout, PythonVersion};
use crate::lock::{LOCK_FILE, LockInput, Staleness};
use crate::manifest::{BuildRefusal, HandlerEntry, MANIFEST_FILE, Manifest, Misread};
use crate::mapped::Text;
use crate::names::{HandlerName, ProjectName};
use crate::packages::{self, PackageName};
use crate::plan::{IfExists, Plan, PlannedFile, hex_unless_utf8, slash};
use crate::setting_copies::{self, Disagreement};
use crate::stack::{self, LayerPart, PartState, TEMPLATE_FILE};

pub const BUILD_SCRIPT: &str = "build.sh";
pub const REQUIREMENTS: &str = "requirements.txt";
const MARKER: &str = "__init__.py";

/// What `check` needs to know about a project, as observed on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub layout: Layout,
    pub entries: Vec<HandlerEntry>,
    /// The lines of the manifest's settings and entries that `build.sh`
    /// refuses or misreads ([`Manifest::lines_build_refuses`]).
    pub lines_build_refuses: Vec<BuildRefusal>,
    /// Whether [`Manifest::plainly_written`] can write them all plainly.
    pub plainly_writable: bool,
    /// Every folder of the code and test trees, relative to the project root
    /// and `/`-separated (string keys: a project with thousands of handlers
    /// makes path comparisons the bulk of the work), with the names of the
    /// files directly in it.
    pub dirs: BTreeMap<String, BTreeSet<String>>,
    /// The files and folders of those trees whose name is not UTF-8, relative
    /// to the project root; absent from `dirs`, with all they hold.
    pub not_utf8: Vec<PathBuf>,
    /// What every module found at `KIND/NAME/KIND.py` holds, by its path.
    pub modules: BTreeMap<String, ModuleFacts>,
    /// `build.sh`: `None` when missing, otherwise whether it is executable.
    pub build_script: Option<bool>,
    /// The bytes of `requirements.txt`, `None` when missing.
    pub requirements: Option<Vec<u8>>,
    /// The text of `requirements.lock`, `None` when missing.
    pub lock: Option<String>,
    /// The build settings of the manifest ([`SETTINGS`]), `None` when missing.
    pub settings: BTreeMap<&'static str, Option<String>>,
    /// The text of each file that may copy the build settings
    /// ([`setting_copies::files`]) but `template.yaml` (see `template`), by
    /// its path; missing files are absent.
    pub copies: BTreeMap<String, Text>,
    /// The text of `template.yaml`, `None` when there is none.
    pub template: Option<Text>,
    /// The manifest's project name (its stack's resources are named after it).
    pub project: ProjectName,
}

/// What `check` judges of a handler module, taken from its text as it is
/// read (on the survey's reader thread), so that the texts of thousands of
/// modules are neither kept nor judged after the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleFacts {
    /// It binds its folder's name, when that is a handler name (see
    /// [`defines_handler`]).
    pub defines_handler: bool,
    /// The first part of each module it imports (`import a.b, c` gives `a`
    /// and `c`; `from d.e import f` gives `d`), each once, in order.
    pub imports: Vec<String>,
}

impl ModuleFacts {
    /// The facts of the module at `path` (`KIND/FOLDER/KIND.py`) holding `text`.
    pub fn read(path: &str, text: &str) -> ModuleFacts {
        let folder = path.split('/').nth(1).unwrap_or_default();
        let defines = match HandlerName::parse(folder) {
            Ok(parsed) if parsed.renamed_from.is_none() => defines_handler(text, &parsed.name),
            _ => false,
        };
        ModuleFacts {
            defines_handler: defines,
            imports: imported_modules(text),
        }
    }
}

impl Facts {
    /// The manifest's dependencies mode; `None` for a value it cannot have.
    fn dependencies(&self) -> Option<Dependencies> {
        let value = self
            .settings
            .get(Dependencies::KEY)
            .and_then(Option::as_deref);
        Dependencies::from_manifest(value)
    }
}

/// The manifest settings that build.sh, CI and the template follow.
pub const SETTINGS: [&str; 4] = ["python", "arch", "ci", Dependencies::KEY];

/// Whether a manifest setting holds a value the tool supports (`None`: the
/// manifest has no such key, which only `dependencies` may lack).
fn valid_setting(key: &str, value: Option<&str>) -> bool {
    match (key, value) {
        (Dependencies::KEY, value) => Dependencies::from_manifest(value).is_some(),
        (_, None) => false,
        ("python", Some(value)) => PythonVersion::parse(value).is_ok(),
        ("arch", Some(value)) => Arch::from_str(value, false).is_ok(),
        ("ci", Some(value)) => Ci::from_str(value, false).is_ok(),
        _ => true,
    }
}

/// The folders of the code and test trees of a project of `layout`.
pub fn tree_roots(layout: Layout) -> Vec<PathBuf> {
    layout
        .kinds()
        .iter()
        .map(|k| PathBuf::from(k.as_str()))
        .chain(["utils", "test"].map(PathBuf::from))
        .collect()
}

/// The folder of the test tree that holds sample events, not code.
pub fn is_data_folder(rel: &Path) -> bool {
    rel == Path::new("test/fixtures")
}

/// One thing wrong with the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A package folder (given) without `__init__.py`.
    MissingMarker(PathBuf),
    MissingFunction(Lambda),
    MissingTest(Lambda),
    MissingFolder(Lambda),
    MissingModule(Lambda),
    Unlisted(Lambda),
    /// A folder that follows the convention but may not be adopted: the
    /// rule of `add-handler` refuses its name.
    Clash(Lambda, NameClash),
    BadEntry(BadEntry),
    /// A line (numbered from 1) of a `[[handlers]]` entry where a key
    /// `build.sh` reads is not in the plain one-line form it reads;
    /// `fixable` when all such values can be written plainly
    /// ([`Manifest::plainly_written`]).
    NotPlainEntry {
        line: usize,
        key: &'static str,
        fixable: bool,
    },
    /// A line of a setting `build.sh` reads (`python`, `arch`,
    /// `dependencies`, `bytecode`) that it refuses or reads otherwise than
    /// TOML; `fixable` as for [`Problem::NotPlainEntry`].
    NotPlainSetting {
        refusal: BuildRefusal,
        fixable: bool,
    },
    /// The same handler listed twice in the manifest.
    DuplicateEntry(Lambda),
    /// Two kinds with a handler of the same name: their zips would both be
    /// `target/NAME.zip`, and they would deploy to one function.
    SharedName(Lambda, Kind),
    /// A build setting of the manifest that is missing or not supported.
    BadSetting(&'static str, Option<String>),
    NotExecutable,
    MissingRequirements,
    /// `KIND/FOLDER/KIND.py` where FOLDER is no handler name (given, with
    /// the name it would become, if any).
    MisnamedHandler(PathBuf, Kind, Option<HandlerName>),
    MissingBuildScript,
    /// A file copying `python` or `arch` with another value than the manifest.
    SettingCopy(Disagreement),
    /// A file or folder (given) whose name is not UTF-8.
    NotUtf8(PathBuf),
    /// A handler module importing a module of its own folder by its bare
    /// name (given): no such module exists in the tests, `invoke` or Lambda.
    BareImport(Lambda, String),
    /// No `template.yaml`: nothing deploys the Lambdas.
    MissingTemplate,
    /// A Lambda with code (and its event source) that no function of
    /// `template.yaml` names: it would not be deployed.
    NotInTemplate(Lambda, EventSource),
    /// A function of `template.yaml` whose handler (given as the template
    /// spells it) has no code in the project: its zip is never built.
    TemplateWithoutCode(String),
    /// `dependencies = "layer"`, and `template.yaml` deploys no layer of
    /// `target/dependencies.zip`: its functions would run without them.
    MissingLayer,
    /// `dependencies = "bundle"` (or none), and `template.yaml` deploys
    /// `target/dependencies.zip`, which `build.sh` does not write then.
    /// `removable` when that is the tool's part as it wrote it, which
    /// nothing else in the template refers to.
    ExtraLayer {
        removable: bool,
    },
    /// A marker comment of a handler's part of `template.yaml` (the handler,
    /// and `begin` or `end`) without its pair: `add-handler` and
    /// `remove-handler` refuse to edit that part.
    UnpairedMarker(String, &'static str),
    /// The parts of two handlers (given: the one whose part the other's
    /// begins in, then that other) whose marker comments cross or nest:
    /// `add-handler` and `remove-handler` refuse to edit either part.
    CrossedMarkers(String, String),
    /// A warning, not a problem (see [`warnings`]): the stack nears one of
    /// CloudFormation's limits, its estimated resources or the template's
    /// bytes (given, with the limit).
    NearStackLimit {
        what: &'static str,
        count: usize,
        limit: usize,
    },
    /// `requirements.lock` does not match `requirements.txt` or the runtime:
    /// every build refuses it until `./build.sh --lock` resolves it again.
    /// When `requirements.txt` asks for nothing, no resolver is needed:
    /// `empty` is the input of the lock `--fix` writes.
    StaleLock {
        staleness: Staleness,
        empty: Option<LockInput>,
    },
    /// A package (given) a handler entry lists that neither
    /// `requirements.txt` nor `requirements.lock` names: its build refuses it.
    UnknownPackage(Lambda, PackageName),
    /// A handler entry listing packages in layer mode, where every function
    /// gets the one layer.
    PackagesInLayer(Lambda),
}

/// One problem as `check --json` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProblemReport {
    pub code: &'static str,
    /// `/`-separated; a byte that is not UTF-8 shown as `\xNN`.
    pub path: String,
    /// The path's exact bytes in hexadecimal, only when it is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
    pub message: String,
    pub fixable: bool,
}

impl Problem {
    /// A stable identifier of the kind of problem, for scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Problem::MissingMarker(_) => "missing-init",
            Problem::MissingFunction(_) => "missing-function",
            Problem::MissingTest(_) => "missing-test",
            Problem::MissingFolder(_) => "missing-folder",
            Problem::MissingModule(_) => "missing-module",
            Problem::Unlisted(_) => "unlisted-handler",
            Problem::Clash(..) => "clashing-name",
            Problem::BadEntry(_) => "bad-entry",
            Problem::NotPlainEntry { .. } => "not-plain-entry",
            Problem::NotPlainSetting { .. } => "not-plain-setting",
            Problem::DuplicateEntry(_) => "duplicate-entry",
            Problem::SharedName(..) => "shared-name",
            Problem::BadSetting(..) => "bad-setting",
            Problem::NotExecutable => "not-executable",
            Problem::MissingRequirements => "missing-requirements",
            Problem::MisnamedHandler(..) => "misnamed-handler",
            Problem::MissingBuildScript => "missing-build-script",
            Problem::SettingCopy(_) => "setting-mismatch",
            Problem::NotUtf8(_) => "not-utf8-name",
            Problem::BareImport(..) => "bare-import",
            Problem::MissingTemplate => "missing-template",
            Problem::NotInTemplate(..) => "not-in-template",
            Problem::TemplateWithoutCode(_) => "template-without-code",
            Problem::MissingLayer => "missing-layer",
            Problem::ExtraLayer { .. } => "extra-layer",
            Problem::UnpairedMarker(..) => "unpaired-marker",
            Problem::CrossedMarkers(..) => "crossed-markers",
            Problem::NearStackLimit { .. } => "near-stack-limit",
            Problem::StaleLock { .. } => "stale-lock",
            Problem::UnknownPackage(..) => "unknown-package",
            Problem::PackagesInLayer(_) => "packages-in-layer",
        }
    }

    /// The path the problem is about, relative to the project root.
    pub fn path(&self) -> PathBuf {
        match self {
            Problem::MissingMarker(dir) => dir.join(MARKER),
            Problem::MissingFunction(lambda)
            | Problem::MissingModule(lambda)
            | Problem::BareImport(lambda, _) => lambda.module(),
            Problem::MissingTest(lambda) => lambda.test(),
            Problem::MissingFolder(lambda)
            | Problem::Unlisted(lambda)
            | Problem::Clash(lambda, _) => lambda.source(),
            Problem::BadEntry(_)
            | Problem::NotPlainEntry { .. }
            | Problem::NotPlainSetting { .. }
            | Problem::DuplicateEntry(_)
            | Problem::BadSetting(..)
            | Problem::UnknownPackage(..)
            | Problem::PackagesInLayer(_) => MANIFEST_FILE.into(),
            Problem::SharedName(lambda, _) => lambda.source(),
            Problem::NotExecutable | Problem::MissingBuildScript => BUILD_SCRIPT.into(),
            Problem::MissingRequirements => REQUIREMENTS.into(),
            Problem::StaleLock { .. } => LOCK_FILE.into(),
            Problem::MisnamedHandler(folder, ..) | Problem::NotUtf8(folder) => folder.clone(),
            Problem::SettingCopy(copy) => copy.file.clone().into(),
            Problem::MissingTemplate
            | Problem::NotInTemplate(..)
            | Problem::TemplateWithoutCode(_)
            | Problem::MissingLayer
            | Problem::ExtraLayer { .. }
            | Problem::UnpairedMarker(..)
            | Problem::CrossedMarkers(..)
            | Problem::NearStackLimit { .. } => TEMPLATE_FILE.into(),
        }
    }

    /// What is wrong, in words, to follow the path.
    pub fn message(&self) -> String {
        match self {
            Problem::MissingMarker(_) => {
                "missing: its folder holds Python code, so it must be a package".to_string()
            }
            Problem::MissingFunction(l) => format!(
                "has no `def {}(`, so the handler `{}` cannot be found",
                l.name,
                l.handler()
            ),
            Problem::MissingTest(l) => format!(
                "no tests for the handler `{}`: add a `test_{}.py` here",
                l.handler(),
                l.kind
            ),
            Problem::BareImport(l, module) => format!(
                "imports `{module}` by its bare name, which finds nothing in the tests, in \
                 invoke or in Lambda: import it by package path, `from {}.{}.{module} import ...`",
                l.kind, l.name
            ),
            Problem::MissingFolder(l) => format!(
                "the handler `{}` is in {MANIFEST_FILE}, but its folder is missing \
                 (restore it, or drop the entry with `lambda-scaffold remove-handler {} {}`)",
                l.handler(),
                l.kind,
                l.name
            ),
            Problem::MissingModule(l) => format!(
                "the handler `{}` is in {MANIFEST_FILE}, but its module is missing",
                l.handler()
            ),
            Problem::Unlisted(l) => format!(
                "the handler `{}` is not listed in {MANIFEST_FILE}",
                l.handler()
            ),
            Problem::Clash(l, clash) => format!(
                "the handler `{}` is not listed in {MANIFEST_FILE} and cannot be: {} (rename the folder)",
                l.handler(),
                clash.reason(l)
            ),
            Problem::BadEntry(bad) => bad.to_string(),
            Problem::NotPlainEntry { line, key, fixable }
            | Problem::NotPlainSetting {
                refusal:
                    BuildRefusal {
                        line,
                        key,
                        misread: None,
                    },
                fixable,
            } => {
                let form = match *key {
                    "requirements" => "a one-line array of plain strings, \
                                       `requirements = [\"requests\", \"boto3\"]`"
                        .to_string(),
                    "bytecode" => "`bytecode = true` or `bytecode = false`".to_string(),
                    _ => format!(
                        "a plain string on one line (no escapes, no triple quotes), \
                         `{key} = \"...\"`"
                    ),
                };
                let fix = match fixable {
                    true => "; `check --fix` rewrites it",
                    false => "",
                };
                format!(
                    "line {line}: `{key}` is not written in the plain form build.sh reads, \
                     so every build refuses it (write it as {form}{fix})"
                )
            }
            Problem::NotPlainSetting {
                refusal:
                    BuildRefusal {
                        line,
                        key,
                        misread: Some(Misread { build, toml }),
                    },
                ..
            } => {
                let shown = |value: &Option<String>| match value {
                    Some(value) => format!("`{value}`"),
                    None => "nothing".to_string(),
                };
                format!(
                    "line {line}: build.sh's line reader reads {} for `{key}`, where TOML \
                     reads {}: a value written over several lines holds a line that \
                     starts like a setting or a table (write it on one line, or after \
                     the first table)",
                    shown(build),
                    shown(toml)
                )
            }
            Problem::DuplicateEntry(l) => format!("lists the handler `{}` twice", l.handler()),
            Problem::BadSetting(key, None) => format!("has no `{key}` setting"),
            Problem::BadSetting(key, Some(value)) => format!(
                "`{key} = \"{value}\"` is not supported (see `lambda-scaffold new-project --help`)"
            ),
            Problem::SharedName(l, other) => format!(
                "`{other}/{}` has the same name: both would build `target/{}.zip` \
                 (rename one of them)",
                l.name, l.name
            ),
            Problem::NotExecutable => "not executable".to_string(),
            Problem::StaleLock {
                empty: Some(_),
                staleness,
            } => format!(
                "{staleness}: every build refuses it (requirements.txt lists no packages: \
                 `check --fix` rewrites it)"
            ),
            Problem::StaleLock { staleness, .. } => format!(
                "{staleness}: every build refuses it (run `./build.sh --lock`, which needs uv \
                 from requirements-dev.txt)"
            ),
            Problem::UnknownPackage(l, package) => format!(
                "handler `{l}` lists `{package}` in `requirements`, which neither {REQUIREMENTS} \
                 nor {LOCK_FILE} names, so its build refuses it (add it to {REQUIREMENTS} and \
                 run `./build.sh --lock`, or drop it from the entry)"
            ),
            Problem::PackagesInLayer(l) => format!(
                "handler `{l}` lists `requirements`, but with `dependencies = \"layer\"` every \
                 function gets the one layer of all locked packages, so the build refuses it \
                 (drop the entry's `requirements`, or set `dependencies = \"bundle\"`)"
            ),
            Problem::MissingRequirements => {
                "missing: build.sh installs the shared dependencies from it (it may be empty)"
                    .to_string()
            }
            Problem::MisnamedHandler(folder, kind, renamed) => {
                let shown = folder.file_name().unwrap_or_default().to_string_lossy();
                let rename = match renamed {
                    Some(name) => format!("rename the folder to `{name}`"),
                    None => "rename the folder to a snake_case Python identifier".to_string(),
                };
                format!(
                    "holds `{kind}.py` like a handler, but `{shown}` is not a handler name, \
                     so {MANIFEST_FILE} cannot list it and build.sh never builds it \
                     ({rename}, then run `lambda-scaffold check --fix`)"
                )
            }
            Problem::MissingBuildScript => {
                "missing: it builds the Lambdas' zips (`check --fix` restores it)".to_string()
            }
            Problem::MissingTemplate => "missing: it deploys the Lambdas (`sam deploy`); \
                 `check --fix` writes it with a function per handler"
                .to_string(),
            Problem::NotInTemplate(l, _) => format!(
                "has no function for the handler `{}`, so it is never deployed \
                 (`check --fix` adds its part)",
                l.handler()
            ),
            Problem::NearStackLimit { what, count, limit } => format!(
                "the stack would hold {count} {what}, {}% of CloudFormation's limit of {limit}: \
                 split it before it fails to deploy (see the README, \"Big estates\")",
                count * 100 / limit
            ),
            Problem::MissingLayer => format!(
                "declares no layer of `{}`, where {MANIFEST_FILE} puts the dependencies \
                 (`dependencies = \"layer\"`): its functions would run without them \
                 (`check --fix` adds the layer and `Layers` in `Globals: Function:`)",
                stack::LAYER_ZIP
            ),
            Problem::ExtraLayer { removable } => format!(
                "deploys `{}` as a layer, which build.sh does not write when {MANIFEST_FILE} \
                 bundles the dependencies (no `dependencies = \"layer\"`) {}",
                stack::LAYER_ZIP,
                if *removable {
                    "(`check --fix` removes the layer's part)"
                } else {
                    "(it is no part of the tool's as written, or the template refers to it \
                     elsewhere: remove the layer and its uses by hand, or set \
                     `dependencies = \"layer\"`)"
                }
            ),
            Problem::TemplateWithoutCode(handler) => format!(
                "has a function for the handler `{handler}`, which has no code here, \
                 so its zip is never built (add the handler, or remove that function)"
            ),
            Problem::UnpairedMarker(handler, which) => format!(
                "has a `{} {which} {handler}` line without its pair, so add-handler and \
                 remove-handler refuse to edit that part (restore the missing marker line, \
                 or remove the block by hand)",
                stack::MARKER
            ),
            Problem::CrossedMarkers(outer, inner) => format!(
                "has the part of `{inner}` beginning inside the part of `{outer}` (their `{}` \
                 lines cross or nest), so add-handler and remove-handler refuse to edit either \
                 (move the block of `{inner}`, with its two marker lines, out of the other)",
                stack::MARKER
            ),
            Problem::NotUtf8(_) => "the name is not UTF-8, so Python cannot import it; \
                 lambda-scaffold checks and repairs nothing in it (rename it)"
                .to_string(),
            Problem::SettingCopy(copy) => {
                let settings: Vec<String> = copy
                    .settings
                    .iter()
                    .map(|(setting, found, want)| {
                        format!(
                            "`{}` `{found}` where {MANIFEST_FILE} has `{want}`",
                            setting.key()
                        )
                    })
                    .collect();
                format!(
                    "names {} (the build uses {MANIFEST_FILE})",
                    settings.join(" and ")
                )
            }
        }
    }

    /// What `check --fix` does about it, or `None` when it needs a person.
    pub fn fix(&self) -> Option<&'static str> {
        match self {
            Problem::MissingMarker(_) => Some("created the package marker"),
            Problem::Unlisted(_) => Some("added the handler to lambdas.toml"),
            Problem::NotPlainEntry { fixable: true, .. }
            | Problem::NotPlainSetting { fixable: true, .. } => {
                Some("rewrote the value in the plain one-line form, the same value")
            }
            Problem::NotExecutable => Some("made it executable"),
            Problem::MissingRequirements => Some("created it, with no dependencies"),
            Problem::MissingBuildScript => Some("restored it from the template"),
            Problem::SettingCopy(_) => Some("rewrote the settings from lambdas.toml"),
            Problem::MissingTemplate => Some("wrote it, with a function per handler"),
            Problem::NotInTemplate(..) => Some("added the handler's part"),
            Problem::MissingLayer => Some("added the dependencies' layer, used by every function"),
            Problem::ExtraLayer { removable: true } => Some("removed the dependencies' layer"),
            Problem::StaleLock { empty: Some(_), .. } => {
                Some("rewrote it for requirements.txt, which lists no packages")
            }
            _ => None,
        }
    }

    pub fn report(&self) -> ProblemReport {
        ProblemReport {
            code: self.code(),
            path: slash(&self.path()),
            path_hex: hex_unless_utf8(&self.path()),
            message: self.message(),
            fixable: self.fix().is_some(),
        }
    }
}

/// Every problem of the project, sorted by path.
pub fn problems(facts: &Facts) -> Vec<Problem> {
    let mut found = Vec::new();
    let mut listed = BTreeSet::new();
    // Handlers whose entry is bad in another value than kind and name: listed
    // all the same, so their folders are not unlisted (nor adopted again).
    let mut listed_by_bad_entries = BTreeSet::new();
    for entry in &facts.entries {
        match Lambda::from_entry(entry, facts.layout) {
            Ok(lambda) => {
                if let Some(again) = listed.replace(lambda) {
                    found.push(Problem::DuplicateEntry(again));
                }
            }
            Err(bad) => {
                listed_by_bad_entries.extend(Lambda::named_by(entry, facts.layout).ok());
                found.push(Problem::BadEntry(bad));
            }
        }
    }
    found.extend(facts.lines_build_refuses.iter().map(|refusal| {
        let fixable = facts.plainly_writable;
        match refusal.is_setting() {
            true => Problem::NotPlainSetting {
                refusal: refusal.clone(),
                fixable,
            },
            false => Problem::NotPlainEntry {
                line: refusal.line,
                key: refusal.key,
                fixable,
            },
        }
    }));
    let mut kinds_by_name: BTreeMap<&HandlerName, Kind> = BTreeMap::new();
    for lambda in &listed {
        if let Some(first) = kinds_by_name.insert(&lambda.name, lambda.kind) {
            found.push(Problem::SharedName(lambda.clone(), first));
        }
    }
    let conventional = conventional_handlers(facts);
    for lambda in &listed {
        match facts.dirs.get(&lambda.source_key()) {
            None => found.push(Problem::MissingFolder(lambda.clone())),
            Some(_) if !facts.modules.contains_key(&lambda.module_key()) => {
                found.push(Problem::MissingModule(lambda.clone()));
            }
            Some(_) => {}
        }
    }
    // Adoption obeys add-handler's rule; a name another kind has as a
    // conventional folder counts as taken too, so two such folders are both
    // named, not adopted in whichever order comes first.
    let taken = |other: &Lambda| listed.contains(other) || conventional.contains(other);
    for lambda in conventional
        .difference(&listed)
        .filter(|lambda| !listed_by_bad_entries.contains(*lambda))
    {
        let event = EventSource::default_for(lambda.kind);
        found.push(match lambda.clash(event, taken) {
            Some(clash) => Problem::Clash(lambda.clone(), clash),
            None => Problem::Unlisted(lambda.clone()),
        });
    }
    // Each handler module is judged on its own: on two threads, half each.
    let all: Vec<&Lambda> = conventional.iter().collect();
    let (first, second) = all.split_at(all.len() / 2);
    let judge = |lambdas: &[&Lambda]| -> Vec<Problem> {
        lambdas
            .iter()
            .flat_map(|lambda| module_problems(facts, lambda))
            .collect()
    };
    let (mut ours, theirs) = std::thread::scope(|scope| {
        let theirs = scope.spawn(|| judge(second));
        (judge(first), theirs.join())
    });
    found.append(&mut ours);
    found.extend(theirs.unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
    for (dir, files) in package_dirs(&facts.dirs) {
        if !files.contains(MARKER) {
            found.push(Problem::MissingMarker(PathBuf::from(dir)));
        }
    }
    found.extend(facts.not_utf8.iter().cloned().map(Problem::NotUtf8));
    for (key, value) in &facts.settings {
        if !valid_setting(key, value.as_deref()) {
            found.push(Problem::BadSetting(key, value.clone()));
        }
    }
    found.extend(misnamed_handlers(facts));
    found.extend(template_problems(facts, &listed, &conventional));
    found.extend(setting_copies(facts).into_iter().map(Problem::SettingCopy));
    match facts.build_script {
        Some(false) => found.push(Problem::NotExecutable),
        None => found.push(Problem::MissingBuildScript),
        Some(true) => {}
    }
    if facts.requirements.is_none() {
        found.push(Problem::MissingRequirements);
    }
    found.extend(stale_lock(facts));
    found.extend(listed_packages(facts));
    found.sort_by_key(|p| (p.path(), p.code()));
    found
}

/// What is wrong with the packages the valid handler entries list: any, in
/// layer mode; otherwise each that neither `requirements.txt` nor the lock
/// names.
fn listed_packages(facts: &Facts) -> Vec<Problem> {
    let text =
        |bytes: Option<&[u8]>| String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned();
    let mut known = packages::named_in(&text(facts.requirements.as_deref()));
    known.extend(packages::named_in(&text(
        facts.lock.as_deref().map(str::as_bytes),
    )));
    let mut found = Vec::new();
    for entry in &facts.entries {
        let Ok(Some(listed)) = entry.packages() else {
            continue;
        };
        let Ok(lambda) = Lambda::from_entry(entry, facts.layout) else {
            continue;
        };
        if facts.dependencies() == Some(Dependencies::Layer) {
            found.push(Problem::PackagesInLayer(lambda));
            continue;
        }
        for package in listed {
            if !known.contains(&package.normalized()) {
                found.push(Problem::UnknownPackage(lambda.clone(), package));
            }
        }
    }
    found
}

/// What is wrong with a conventional handler's module and tests: no
/// function of its name, a bare import of a module beside it, no test.
fn module_problems(facts: &Facts, lambda: &Lambda) -> Vec<Problem> {
    let mut found = Vec::new();
    let source = lambda.source_key();
    let module = facts.modules.get(&lambda.module_key());
    if !module.is_some_and(|module| module.defines_handler) {
        found.push(Problem::MissingFunction(lambda.clone()));
    }
    if let Some(module) = module {
        for sibling in bare_sibling_imports(&module.imports, lambda, &source, &facts.dirs) {
            found.push(Problem::BareImport(lambda.clone(), sibling));
        }
    }
    let has_test = facts.dirs.get(&lambda.test_key()).is_some_and(|files| {
        files
            .iter()
            .any(|f| f.starts_with("test") && f.ends_with(".py"))
    });
    if !has_test {
        found.push(Problem::MissingTest(lambda.clone()));
    }
    found
}

/// Why `requirements.lock` is stale, when the manifest's runtime is valid. A
/// missing `requirements.txt` counts as the one `--fix` creates.
fn stale_lock(facts: &Facts) -> Option<Problem> {
    let setting = |key| {
        facts.settings[key]
            .as_deref()
            .filter(|value| valid_setting(key, Some(value)))
    };
    let created;
    let requirements = match &facts.requirements {
        Some(requirements) => requirements.as_slice(),
        None => {
            created = generate::empty_requirements().ok()?.contents;
            created.as_slice()
        }
    };
    let input = LockInput::new(requirements, setting("python")?, setting("arch")?);
    let staleness = input.staleness(facts.lock.as_deref())?;
    let lists_nothing = String::from_utf8_lossy(requirements).lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#')
    });
    Some(Problem::StaleLock {
        staleness,
        empty: lists_nothing.then_some(input),
    })
}

/// The modules of a handler's own folder that its module imports by a bare
/// name (`import schema` beside `schema.py`), of its `imports`. The zip,
/// `invoke` and the tests all know that module as `KIND.NAME.schema` only.
/// A name the handler module shares with its kind (`import producers`) is
/// the package.
fn bare_sibling_imports(
    imports: &[String],
    lambda: &Lambda,
    source: &str,
    dirs: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let Some(files) = dirs.get(source) else {
        return Vec::new();
    };
    // The folders right below the handler's: one range of the map.
    let prefix = format!("{source}/");
    let folders: Vec<&str> = dirs
        .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
        .map_while(|(dir, _)| dir.strip_prefix(&prefix))
        .filter(|rest| !rest.contains('/'))
        .collect();
    let is_sibling = |name: &str| {
        name != lambda.kind.as_str()
            && (files
                .iter()
                .any(|file| file.strip_suffix(".py") == Some(name))
                || folders.contains(&name))
    };
    imports
        .iter()
        .filter(|name| is_sibling(name))
        .cloned()
        .collect()
}

/// The first part of each module a module's text imports, each once, in
/// order (a line check).
fn imported_modules(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim_start) {
        let modules: Vec<&str> = if let Some(rest) = line.strip_prefix("import ") {
            rest.split(',')
                .filter_map(|item| item.split_whitespace().next())
                .collect()
        } else if let Some(rest) = line.strip_prefix("from ") {
            rest.split_whitespace().next().into_iter().collect()
        } else {
            continue;
        };
        for module in modules {
            let first = module.split('.').next().unwrap_or_default();
            if !found.iter().any(|f| f == first) {
                found.push(first.to_string());
            }
        }
    }
    found
}

/// The repairs of the fixable `problems`, as one plan.
pub fn plan_fixes(problems: &[Problem], manifest: &Manifest) -> Result<Plan> {
    let mut plan = Plan::default();
    let plain_fix = problems.iter().any(|p| {
        p.fix().is_some()
            && matches!(
                p,
                Problem::NotPlainEntry { .. } | Problem::NotPlainSetting { .. }
            )
    });
    let plainly_written = plain_fix.then(|| manifest.plainly_written()).flatten();
    let mut manifest_changed = plainly_written.is_some();
    let mut updated = plainly_written.unwrap_or_else(|| manifest.clone());
    for problem in problems {
        match problem {
            Problem::MissingMarker(dir) => plan.add_marker(dir),
            Problem::Unlisted(lambda) => {
                // The folder says nothing of its source: the kind's default.
                let event = EventSource::default_for(lambda.kind);
                manifest_changed |= updated.record_handler(lambda.kind, &lambda.name, event);
            }
            Problem::NotExecutable => plan.make_executable(BUILD_SCRIPT.into()),
            Problem::MissingRequirements => plan.add(generate::empty_requirements()?),
            Problem::StaleLock {
                empty: Some(input), ..
            } => plan.add(generate::empty_lock(input, IfExists::Replace)?),
            Problem::MissingBuildScript => {
                plan.add(generate::build_script(
                    &project_name(manifest),
                    manifest.layout,
                )?);
            }
            Problem::SettingCopy(copy) => plan.add(PlannedFile {
                path: copy.file.clone().into(),
                contents: copy.rewritten.clone().into_bytes(),
                executable: false,
                if_exists: IfExists::Replace,
            }),
            _ => {}
        }
    }
    if manifest_changed {
        plan.add(updated.planned_file(IfExists::Replace));
    }
    Ok(plan)
}

/// The Lambdas `template.yaml` should have a function for: those with code
/// (a conventional folder) that are listed, or that `check --fix` adopts (no
/// clash), each with its event source (the kind's default when the manifest
/// names none). `listed` are the Lambdas of the manifest's valid entries,
/// `conventional` the [`conventional_handlers`].
fn deployable(
    facts: &Facts,
    listed: &BTreeSet<Lambda>,
    conventional: &BTreeSet<Lambda>,
) -> Vec<(Lambda, EventSource)> {
    let taken = |other: &Lambda| listed.contains(other) || conventional.contains(other);
    // The first entry of each handler, by kind and name: one lookup each.
    let mut entries: HashMap<(&str, &str), &HandlerEntry> = HashMap::new();
    for entry in &facts.entries {
        entries.entry((&entry.kind, &entry.name)).or_insert(entry);
    }
    conventional
        .iter()
        .filter(|lambda| {
            listed.contains(lambda)
                || lambda
                    .clash(EventSource::default_for(lambda.kind), taken)
                    .is_none()
        })
        .map(|lambda| {
            let event = entries
                .get(&(lambda.kind.as_str(), lambda.name.as_str()))
                .and_then(|entry| entry.event_source(lambda.kind).ok())
                .unwrap_or(EventSource::default_for(lambda.kind));
            (lambda.clone(), event)
        })
        .collect()
}

/// The Lambdas of the manifest's valid entries.
fn listed_lambdas(facts: &Facts) -> BTreeSet<Lambda> {
    facts
        .entries
        .iter()
        .filter_map(|entry| Lambda::from_entry(entry, facts.layout).ok())
        .collect()
}

/// Whether the template names each [`deployable`] Lambda, and whether each
/// function it names for a handler of this project's kinds has code (a
/// listed handler without code is named by `missing-folder` or
/// `missing-module` already).
fn template_problems(
    facts: &Facts,
    listed: &BTreeSet<Lambda>,
    conventional: &BTreeSet<Lambda>,
) -> Vec<Problem> {
    let Some(text) = &facts.template else {
        return vec![Problem::MissingTemplate];
    };
    // In the template's order (the problems come out in it), and as a set.
    let in_order: Vec<&str> = stack::handlers(text).collect();
    let named: HashSet<&str> = in_order.iter().copied().collect();
    let markers = stack::broken_markers(text);
    let unpaired = markers
        .unpaired
        .into_iter()
        .map(|(handler, which)| Problem::UnpairedMarker(handler, which));
    let crossed = markers
        .crossed
        .into_iter()
        .map(|(outer, inner)| Problem::CrossedMarkers(outer, inner));
    let mut found: Vec<Problem> = unpaired
        .chain(crossed)
        .chain(
            deployable(facts, listed, conventional)
                .into_iter()
                .filter(|(lambda, _)| !named.contains(lambda.handler().as_str()))
                .map(|(lambda, event)| Problem::NotInTemplate(lambda, event)),
        )
        .collect();
    let mut seen = HashSet::new();
    for handler in in_order.into_iter().filter(|handler| seen.insert(*handler)) {
        let Some((kind, name)) = handler.split_once('.') else {
            continue;
        };
        let Some(kind) = facts.layout.kinds().iter().find(|k| k.as_str() == kind) else {
            continue;
        };
        let lambda = match HandlerName::parse(name) {
            Ok(parsed) if parsed.renamed_from.is_none() => Lambda::new(*kind, parsed.name),
            _ => continue,
        };
        if !conventional.contains(&lambda) && !listed.contains(&lambda) {
            found.push(Problem::TemplateWithoutCode(handler.to_string()));
        }
    }
    found.extend(layer_problem(facts, text));
    found
}

/// Whether the template's layer disagrees with the manifest's `dependencies`
/// (a value it cannot read is named by `bad-setting` alone).
fn layer_problem(facts: &Facts, text: &str) -> Option<Problem> {
    let mode = facts.dependencies()?;
    let deploys_zip = stack::names_layer_zip(text);
    // A part that cannot be read (a marker without its pair) counts as
    // edited: only a person can tell what it was.
    let state = expected_layer_part(facts)?
        .state(text)
        .unwrap_or(PartState::Edited);
    match mode {
        Dependencies::Layer if !deploys_zip && state == PartState::Missing => {
            Some(Problem::MissingLayer)
        }
        Dependencies::Bundle if deploys_zip || state != PartState::Missing => {
            let removable = state == PartState::Generated
                && stack::without_layer(text).is_ok_and(|without| {
                    !stack::names_layer_zip(&without) && !stack::layer_referenced(&without)
                });
            Some(Problem::ExtraLayer { removable })
        }
        _ => None,
    }
}

/// The layer's part as the tool writes it for the manifest's settings.
fn expected_layer_part(facts: &Facts) -> Option<LayerPart> {
    let setting = |key| facts.settings[key].as_deref().unwrap_or_default();
    generate::layer_part(&facts.project, setting("python"), setting("arch")).ok()
}

/// CloudFormation's limits on a stack: resources, and bytes of a template
/// uploaded to S3 (as `sam deploy` does).
const STACK_LIMITS: [(&str, usize); 2] = [("resources", 500), ("bytes of template", 1_048_576)];

/// What `check` warns about without failing: a stack at 80% or more of one
/// of CloudFormation's limits ([`stack::estimated_resources`] counts the
/// resources as the SAM transform makes them).
pub fn warnings(facts: &Facts) -> Vec<Problem> {
    let Some(text) = &facts.template else {
        return Vec::new();
    };
    let counts = [stack::estimated_resources(text), text.len()];
    STACK_LIMITS
        .iter()
        .zip(counts)
        .filter(|((_, limit), count)| count * 5 >= limit * 4)
        .map(|((what, limit), count)| Problem::NearStackLimit {
            what,
            count,
            limit: *limit,
        })
        .collect()
}

/// The repairs of `template.yaml` among the fixable `problems`, added to
/// `plan` after [`plan_fixes`] (a rewrite of the template's settings that
/// it planned is built on): a missing template written whole, with the part
/// of every [`deployable`] Lambda; missing parts added; the dependencies'
/// layer added or taken out.
pub fn plan_template_fixes(
    plan: &mut Plan,
    problems: &[Problem],
    facts: &Facts,
    manifest: &Manifest,
) -> Result<()> {
    if problems.contains(&Problem::MissingTemplate) {
        let name = project_name(manifest);
        plan.add(generate::template_file(
            manifest,
            &name,
            &deployable(facts, &listed_lambdas(facts), &conventional_handlers(facts)),
        )?);
        return Ok(());
    }
    let missing: Vec<(Lambda, EventSource)> = problems
        .iter()
        .filter_map(|problem| match problem {
            Problem::NotInTemplate(lambda, event) => Some((lambda.clone(), *event)),
            _ => None,
        })
        .collect();
    let layer = problems
        .iter()
        .find(|p| matches!(p, Problem::MissingLayer | Problem::ExtraLayer { .. }));
    let Some(read) = facts
        .template
        .as_ref()
        .filter(|_| !missing.is_empty() || layer.is_some())
    else {
        return Ok(());
    };
    let base = plan
        .files()
        .find(|f| f.path == Path::new(TEMPLATE_FILE))
        .map_or_else(
            || read.to_string(),
            |f| String::from_utf8_lossy(&f.contents).into_owned(),
        );
    let mut text = generate::stack_template(&base, &missing, manifest.layout)?;
    match layer {
        Some(Problem::MissingLayer) => {
            let part = expected_layer_part(facts).context("the layer's part renders")?;
            text = stack::with_layer(&text, &part)?;
        }
        Some(_) => text = stack::without_layer(&text)?,
        None => {}
    }
    plan.add(PlannedFile {
        path: TEMPLATE_FILE.into(),
        contents: text.into_bytes(),
        executable: false,
        if_exists: IfExists::ReplaceIfUnchanged(stack::sha256(read.as_bytes())),
    });
    Ok(())
}

/// The manifest's project name, as `new-project` validated it; a name that
/// is missing or could not be a project's is replaced by a neutral one (it
/// only names the build's Docker image).
pub fn project_name(manifest: &Manifest) -> ProjectName {
    manifest
        .setting("name")
        .and_then(|name| ProjectName::parse(name).ok())
        .unwrap_or_else(|| ProjectName::parse("project").expect("a valid project name"))
}

/// Handler-shaped folders whose name is no handler name: not Lambdas, though
/// they look like one.
fn misnamed_handlers(facts: &Facts) -> Vec<Problem> {
    handler_shaped(facts)
        .filter_map(|(kind, folder)| {
            let renamed = match HandlerName::parse(folder) {
                Ok(parsed) if parsed.renamed_from.is_none() => return None,
                Ok(parsed) => Some(parsed.name),
                Err(_) => None,
            };
            Some(Problem::MisnamedHandler(
                Path::new(kind.as_str()).join(folder),
                kind,
                renamed,
            ))
        })
        .collect()
}

/// The files whose copies of the build settings differ from the manifest's,
/// when the manifest's own are valid (otherwise `bad-setting` says so).
fn setting_copies(facts: &Facts) -> Vec<Disagreement> {
    let valid = |key: &str| {
        facts
            .settings
            .get(key)
            .cloned()
            .flatten()
            .filter(|value| valid_setting(key, Some(value)))
    };
    let (Some(python), Some(arch)) = (valid("python"), valid("arch")) else {
        return Vec::new();
    };
    facts
        .copies
        .iter()
        .map(|(file, text)| (file.as_str(), text))
        .chain(facts.template.as_ref().map(|text| (TEMPLATE_FILE, text)))
        .filter_map(|(file, text)| setting_copies::disagreement(file, text, &python, &arch))
        .collect()
}

/// The handler folders that follow the convention: `KIND/NAME/KIND.py`, with
/// `NAME` a handler name as `add-handler` would write it.
fn conventional_handlers(facts: &Facts) -> BTreeSet<Lambda> {
    handler_shaped(facts)
        .filter_map(|(kind, folder)| {
            let parsed = HandlerName::parse(folder).ok()?;
            parsed
                .renamed_from
                .is_none()
                .then(|| Lambda::new(kind, parsed.name))
        })
        .collect()
}

/// The kind and folder name of every module at `KIND/FOLDER/KIND.py`. The
/// survey read exactly those modules, so their paths are the list.
fn handler_shaped(facts: &Facts) -> impl Iterator<Item = (Kind, &str)> {
    facts.modules.keys().filter_map(|path| {
        let mut parts = path.split('/');
        let (kind, folder, module) = (parts.next()?, parts.next()?, parts.next()?);
        let kind = *facts.layout.kinds().iter().find(|k| k.as_str() == kind)?;
        let is_module = module.strip_suffix(".py") == Some(kind.as_str());
        (parts.next().is_none() && is_module).then_some((kind, folder))
    })
}

/// The folders that hold `.py` files or package folders, with their files.
/// In reverse order of their paths every folder comes after all the folders
/// below it (`a/b/c` > `a/b` > `a`), so whether one has a package below is
/// known when it is reached.
fn package_dirs(dirs: &BTreeMap<String, BTreeSet<String>>) -> Vec<(&str, &BTreeSet<String>)> {
    let mut packages = Vec::new();
    let mut with_package_child: HashSet<&str> = HashSet::new();
    for (dir, files) in dirs.iter().rev() {
        let has_code = files.iter().any(|f| f.ends_with(".py"));
        if has_code || with_package_child.contains(dir.as_str()) {
            packages.push((dir.as_str(), files));
            if let Some((parent, _)) = dir.rsplit_once('/') {
                with_package_child.insert(parent);
            }
        }
    }
    packages
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Requirements;

    /// Records the module at `path` holding `text`, as the survey does.
    fn insert_module(facts: &mut Facts, path: String, text: String) {
        let module = ModuleFacts::read(&path, &text);
        facts.modules.insert(path, module);
    }

    fn name(raw: &str) -> HandlerName {
        HandlerName::parse(raw).unwrap().name
    }

    fn lambda(kind: Kind, raw: &str) -> Lambda {
        Lambda::new(kind, name(raw))
    }

    /// A healthy log-centric project with one producer, `log_event`.
    fn healthy() -> Facts {
        let dirs: &[(&str, &[&str])] = &[
            ("producers", &["__init__.py"]),
            ("producers/log_event", &["__init__.py", "producers.py"]),
            ("consumers", &["__init__.py"]),
            ("utils", &["__init__.py"]),
            ("test", &["__init__.py", "lambda_context.py"]),
            ("test/producers", &["__init__.py"]),
            (
                "test/producers/log_event",
                &["__init__.py", "test_producers.py"],
            ),
        ];
        Facts {
            layout: Layout::LogCentric,
            lines_build_refuses: Vec::new(),
            plainly_writable: false,
            entries: vec![HandlerEntry {
                kind: "producers".into(),
                name: "log_event".into(),
                ..Default::default()
            }],
            dirs: dirs
                .iter()
                .map(|(dir, files)| {
                    (
                        dir.to_string(),
                        files.iter().map(|f| f.to_string()).collect(),
                    )
                })
                .collect(),
            not_utf8: Vec::new(),
            modules: BTreeMap::from([(
                "producers/log_event/producers.py".into(),
                ModuleFacts::read(
                    "producers/log_event/producers.py",
                    "import json\n\n\ndef log_event(event, context):\n    return {}\n",
                ),
            )]),
            build_script: Some(true),
            requirements: Some(b"requests\n".to_vec()),
            lock: Some(format!(
                "# lock\n{}\n",
                LockInput::new(b"requests\n", "3.13", "x86_64")
            )),
            settings: SETTINGS
                .iter()
                .zip([Some("3.13"), Some("x86_64"), Some("gitlab"), None])
                .map(|(key, value)| (*key, value.map(str::to_string)))
                .collect(),
            copies: BTreeMap::new(),
            template: Some(HEALTHY_TEMPLATE.into()),
            project: ProjectName::parse("svc").unwrap(),
        }
    }

    /// The template of [`healthy`]: a function for its one handler.
    const HEALTHY_TEMPLATE: &str =
        "Resources:\n  LogEventFunction:\n    Properties:\n      Handler: producers.log_event\n";

    #[test]
    fn the_templates_layer_follows_the_dependencies_setting() {
        let layer = |facts: &Facts| {
            problems(facts)
                .into_iter()
                .find(|p| p.code().contains("layer"))
        };
        let mut facts = healthy();
        let without = format!("Globals:\n  Function:\n    Timeout: 3\n{HEALTHY_TEMPLATE}");
        facts.template = Some(without.clone().into());
        assert_eq!(layer(&facts), None, "bundle mode, no layer");
        facts
            .settings
            .insert(Dependencies::KEY, Some("layer".into()));
        assert_eq!(layer(&facts), Some(Problem::MissingLayer));
        assert!(Problem::MissingLayer.fix().is_some());
        let part = expected_layer_part(&facts).unwrap();
        let with = stack::with_layer(facts.template.as_ref().unwrap(), &part).unwrap();
        facts.template = Some(with.clone().into());
        assert_eq!(layer(&facts), None, "layer mode, the tool's layer");
        // A layer of the user's own, without markers, is one too.
        let theirs = with.replace("# lambda-scaffold:", "# mine:");
        facts.template = Some(theirs.clone().into());
        assert_eq!(layer(&facts), None);

        facts
            .settings
            .insert(Dependencies::KEY, Some("bundle".into()));
        for (template, removable) in [
            (with.clone(), true),
            (theirs, false),
            (
                with.replace("RetentionPolicy: Delete", "RetentionPolicy: Retain"),
                false,
            ),
            (
                format!("{with}  Mine:\n    Properties:\n      Layers: [!Ref DependenciesLayer]\n"),
                false,
            ),
        ] {
            facts.template = Some(template.into());
            let found = layer(&facts);
            assert_eq!(found, Some(Problem::ExtraLayer { removable }));
            assert_eq!(found.unwrap().fix().is_some(), removable);
        }
        // Written for another runtime, then the manifest changed: still
        // the tool's part as written.
        let older = generate::layer_part(&facts.project, "3.11", "arm64").unwrap();
        facts.template = Some(stack::with_layer(&without, &older).unwrap().into());
        assert_eq!(layer(&facts), Some(Problem::ExtraLayer { removable: true }));
        facts
            .settings
            .insert(Dependencies::KEY, Some("layers".into()));
        assert_eq!(
            layer(&facts),
            None,
            "bad-setting names a value it cannot read"
        );
        assert!(problems(&facts).contains(&Problem::BadSetting(
            Dependencies::KEY,
            Some("layers".into())
        )));
        facts.settings.insert(Dependencies::KEY, None);
        assert_eq!(
            layer(&facts),
            Some(Problem::ExtraLayer { removable: true }),
            "no setting: bundle"
        );
    }

    /// The `template.yaml` that `check --fix` would write for `found`.
    fn planned_template(found: &[Problem], facts: &Facts, manifest: &Manifest) -> String {
        let mut plan = plan_fixes(found, manifest).unwrap();
        plan_template_fixes(&mut plan, found, facts, manifest).unwrap();
        let template = plan
            .files()
            .find(|f| f.path == Path::new("template.yaml"))
            .unwrap();
        String::from_utf8(template.contents.clone()).unwrap()
    }

    #[test]
    fn the_template_must_name_each_lambda_with_code_and_only_those() {
        let mut facts = healthy();
        facts.template = Some(
            format!(
                "{HEALTHY_TEMPLATE}  Gone:\n    Properties:\n      Handler: producers.gone\n  Theirs:\n    Properties:\n      Handler: app.handler\n"
            )
            .into(),
        );
        // An unlisted handler folder, which check --fix adopts.
        files(&mut facts, "producers/extra").insert("producers.py".into());
        insert_module(
            &mut facts,
            "producers/extra/producers.py".into(),
            "def extra(event, context):\n    return {}\n".into(),
        );
        files(&mut facts, "test/producers/extra").insert("test_producers.py".into());
        files(&mut facts, "producers/extra").insert("__init__.py".into());
        files(&mut facts, "test/producers/extra").insert("__init__.py".into());
        let found = problems(&facts);
        let extra = lambda(Kind::Producers, "extra");
        assert_eq!(
            found,
            [
                Problem::Unlisted(extra.clone()),
                Problem::NotInTemplate(extra, EventSource::Eventbridge),
                Problem::TemplateWithoutCode("producers.gone".into()),
            ]
        );
        assert_eq!(found[2].path(), Path::new("template.yaml"));
        assert!(found[1].fix().is_some() && found[2].fix().is_none());

        let manifest = Manifest::parse(
            "schema_version = 1\nname = \"svc\"\nlayout = \"log-centric\"\npython = \"3.13\"\narch = \"x86_64\"\n",
            Path::new("lambdas.toml"),
        )
        .unwrap();
        let text = planned_template(&found, &facts, &manifest);
        assert!(
            text.starts_with(facts.template.as_deref().unwrap()),
            "{text}"
        );
        assert!(text.contains("      Handler: producers.extra\n"), "{text}");

        facts.template = None;
        let found = problems(&facts);
        assert!(found.contains(&Problem::MissingTemplate), "{found:?}");
        assert!(!found.iter().any(|p| p.code() == "not-in-template"));
        let text = planned_template(&found, &facts, &manifest);
        for handler in ["producers.log_event", "producers.extra"] {
            assert!(text.contains(&format!("Handler: {handler}\n")), "{text}");
        }
        assert!(text.contains("Runtime: python3.13\n"), "{text}");
    }

    fn files<'a>(facts: &'a mut Facts, dir: &str) -> &'a mut BTreeSet<String> {
        facts.dirs.entry(dir.into()).or_default()
    }

    #[test]
    fn a_handler_listed_twice_and_a_name_two_kinds_share_are_named() {
        let mut facts = healthy();
        facts.entries.push(facts.entries[0].clone());
        facts.entries.push(HandlerEntry {
            kind: "consumers".into(),
            name: "log_event".into(),
            ..Default::default()
        });
        let codes: Vec<&str> = problems(&facts).iter().map(Problem::code).collect();
        assert!(codes.contains(&"duplicate-entry"), "{codes:?}");
        assert!(codes.contains(&"shared-name"), "{codes:?}");
        let shared = problems(&facts)
            .into_iter()
            .find(|p| p.code() == "shared-name")
            .unwrap();
        assert!(
            shared.message().contains("target/log_event.zip"),
            "{}",
            shared.message()
        );
        assert!(shared.fix().is_none(), "a person must choose the new name");
    }

    #[test]
    fn unsupported_or_missing_build_settings_are_named() {
        let mut facts = healthy();
        facts.settings.insert("python", Some("2.7".into()));
        facts.settings.insert("ci", None);
        let found = problems(&facts);
        assert_eq!(
            found,
            [
                Problem::BadSetting("ci", None),
                Problem::BadSetting("python", Some("2.7".into())),
            ]
        );
        assert_eq!(
            found[1].message(),
            "`python = \"2.7\"` is not supported (see `lambda-scaffold new-project --help`)"
        );
    }

    #[test]
    fn a_healthy_project_has_no_problems() {
        assert_eq!(problems(&healthy()), []);
    }

    #[test]
    fn listed_packages_must_be_named_by_requirements_or_the_lock_and_never_in_layer_mode() {
        let mut facts = healthy();
        let lists = |names: &[&str]| {
            Some(Requirements::Names(
                names.iter().map(|n| n.to_string()).collect(),
            ))
        };
        facts.lock = facts
            .lock
            .map(|lock| format!("{lock}urllib3==2.2.0 \\\n    --hash=sha256:00\n"));
        facts.entries[0].requirements = lists(&["Requests", "urllib3", "pydantic"]);
        let log_event = lambda(Kind::Producers, "log_event");
        let found = problems(&facts);
        assert_eq!(
            found,
            [Problem::UnknownPackage(
                log_event.clone(),
                PackageName::parse("pydantic").unwrap()
            )]
        );
        assert!(
            found[0]
                .message()
                .starts_with("handler `producers/log_event` lists `pydantic` in `requirements`, which neither requirements.txt nor requirements.lock names"),
            "{}",
            found[0].message()
        );
        facts
            .settings
            .insert(Dependencies::KEY, Some("layer".into()));
        // The template of `healthy` declares no layer either.
        assert_eq!(
            problems(&facts),
            [Problem::PackagesInLayer(log_event), Problem::MissingLayer]
        );
        facts.settings.insert(Dependencies::KEY, None);
        for (value, reason) in [
            (
                lists(&["a b"]),
                "lists `a b` in `requirements`, which is not a package name",
            ),
            (lists(&["a", "A"]), "lists `A` twice in `requirements`"),
            (
                Some(Requirements::Other("\"requests\"".into())),
                "has `requirements = \"requests\"`, which is not an array of package names",
            ),
        ] {
            facts.entries[0].requirements = value;
            let found = problems(&facts);
            // The handler is listed all the same: its folder is not unlisted.
            assert!(
                matches!(&found[..], [Problem::BadEntry(bad)] if bad.reason.starts_with(reason)),
                "{found:?}"
            );
        }
    }

    #[test]
    fn a_missing_marker_is_named_at_every_level_of_code_and_test_trees() {
        let mut facts = healthy();
        files(&mut facts, "test/producers").remove("__init__.py");
        files(&mut facts, "producers/log_event").remove("__init__.py");
        let found = problems(&facts);
        assert_eq!(
            found,
            [
                Problem::MissingMarker("producers/log_event".into()),
                Problem::MissingMarker("test/producers".into()),
            ]
        );
        assert_eq!(
            found[0].path(),
            Path::new("producers/log_event/__init__.py")
        );
    }

    #[test]
    fn only_folders_with_code_or_packages_below_need_a_marker() {
        let mut facts = healthy();
        files(&mut facts, "consumers").remove("__init__.py");
        files(&mut facts, "producers/log_event/data").insert("sample.json".into());
        files(&mut facts, "utils/deep");
        files(&mut facts, "utils/deep/er").insert("helpers.py".into());
        assert_eq!(
            problems(&facts),
            [
                Problem::MissingMarker("utils/deep".into()),
                Problem::MissingMarker("utils/deep/er".into()),
            ]
        );
    }

    #[test]
    fn a_bare_import_of_a_module_beside_the_handler_is_named_and_package_paths_are_not() {
        let mut facts = healthy();
        files(&mut facts, "producers/log_event").insert("schema.py".into());
        files(&mut facts, "producers/log_event/rules");
        insert_module(
            &mut facts,
            "producers/log_event/producers.py".into(),
            "import json, schema as s\nfrom rules.limits import LIMIT\n\
             from producers.log_event.schema import X\nfrom .schema import Y\n\
             import producers\nfrom json import dumps\n\n\
             def log_event(event, context):\n    import schema\n    return {}\n"
                .into(),
        );
        let bare =
            |module: &str| Problem::BareImport(lambda(Kind::Producers, "log_event"), module.into());
        assert_eq!(problems(&facts), [bare("schema"), bare("rules")]);
        assert_eq!(
            bare("schema").message(),
            "imports `schema` by its bare name, which finds nothing in the tests, in invoke or \
             in Lambda: import it by package path, `from producers.log_event.schema import ...`"
        );
    }

    #[test]
    fn a_module_without_its_function_and_a_handler_without_tests_are_named() {
        let mut facts = healthy();
        insert_module(&mut facts,
            "producers/log_event/producers.py".into(),
            "def log_events(event, context):\n    pass\n\nclass X:\n    def log_event(self):\n        pass\n"
                .into(),
        );
        files(&mut facts, "test/producers/log_event").remove("test_producers.py");
        assert_eq!(
            problems(&facts),
            [
                Problem::MissingFunction(lambda(Kind::Producers, "log_event")),
                Problem::MissingTest(lambda(Kind::Producers, "log_event")),
            ]
        );
    }

    #[test]
    fn a_handler_bound_by_assignment_is_found_and_a_comparison_is_not_one() {
        let mut facts = healthy();
        let module = "producers/log_event/producers.py".to_string();
        insert_module(
            &mut facts,
            module.clone(),
            "from mangum import Mangum\nlog_event = Mangum(app)\n".into(),
        );
        assert_eq!(problems(&facts), []);
        insert_module(
            &mut facts,
            module,
            "log_event == 1\n    log_event = 2\n".into(),
        );
        assert_eq!(
            problems(&facts),
            [Problem::MissingFunction(lambda(
                Kind::Producers,
                "log_event"
            ))]
        );
    }

    #[test]
    fn manifest_and_folders_must_agree() {
        let mut facts = healthy();
        facts.entries.push(HandlerEntry {
            kind: "consumers".into(),
            name: "gone".into(),
            ..Default::default()
        });
        facts.entries.push(HandlerEntry {
            kind: "handlers".into(),
            name: "index".into(),
            ..Default::default()
        });
        files(&mut facts, "consumers/by_hand")
            .extend(["__init__.py".into(), "consumers.py".into()]);
        insert_module(
            &mut facts,
            "consumers/by_hand/consumers.py".into(),
            "def by_hand(event, context):\n    return None\n".into(),
        );
        files(&mut facts, "test/consumers/by_hand")
            .extend(["__init__.py".into(), "test_x.py".into()]);
        files(&mut facts, "test/consumers").insert("__init__.py".into());
        // Not the convention: the module is not named after the kind, or the
        // folder is not a handler name.
        files(&mut facts, "consumers/notes").insert("readme.md".into());
        files(&mut facts, "consumers/Bad-Name").insert("consumers.py".into());
        let found = problems(&facts);
        assert_eq!(
            found.iter().map(Problem::code).collect::<Vec<_>>(),
            [
                "missing-init",
                "unlisted-handler",
                "missing-folder",
                "bad-entry",
                // The handler to adopt has no function in the template yet.
                "not-in-template"
            ],
            "{found:#?}"
        );
        assert_eq!(found[0].path(), Path::new("consumers/Bad-Name/__init__.py"));
    }

    #[test]
    fn a_lock_that_does_not_match_requirements_or_the_runtime_is_stale() {
        let mut facts = healthy();
        assert_eq!(problems(&facts), []);
        facts.requirements = Some(b"requests\npydantic\n".to_vec());
        let found = problems(&facts);
        assert_eq!(
            found,
            [Problem::StaleLock {
                staleness: Staleness::OtherRequirements,
                empty: None
            }]
        );
        assert_eq!(found[0].code(), "stale-lock");
        assert_eq!(found[0].path(), Path::new(LOCK_FILE));
        assert!(found[0].fix().is_none());
        facts.requirements = Some(b"requests\n".to_vec());
        facts.settings.insert("arch", Some("arm64".into()));
        assert!(matches!(
            problems(&facts)[..],
            [Problem::StaleLock {
                staleness: Staleness::OtherPlatform { .. },
                empty: None
            }]
        ));
        // A runtime the tool does not know is reported once, as a bad setting.
        facts.settings.insert("arch", Some("sparc".into()));
        assert_eq!(problems(&facts).len(), 1);
        assert_eq!(problems(&facts)[0].code(), "bad-setting");
        facts.settings.insert("arch", Some("x86_64".into()));
        facts.lock = None;
        assert_eq!(
            problems(&facts),
            [Problem::StaleLock {
                staleness: Staleness::Missing,
                empty: None
            }]
        );
        // With no packages to resolve, --fix writes the lock.
        facts.requirements = Some(b"# nothing yet\n\n".to_vec());
        let found = problems(&facts);
        let input = LockInput::new(b"# nothing yet\n\n", "3.13", "x86_64");
        assert_eq!(
            found,
            [Problem::StaleLock {
                staleness: Staleness::Missing,
                empty: Some(input.clone())
            }]
        );
        let manifest = Manifest::parse(
            "schema_version = 1\nname = \"svc\"\nlayout = \"log-centric\"\n",
            Path::new(MANIFEST_FILE),
        )
        .unwrap();
        let plan = plan_fixes(&found, &manifest).unwrap();
        let files: Vec<_> = plan.files().collect();
        let text = String::from_utf8(files[0].contents.clone()).unwrap();
        assert_eq!(LockInput::recorded_in(&text), Some(input));
    }

    #[test]
    fn build_script_and_requirements_are_checked() {
        let mut facts = healthy();
        facts.build_script = Some(false);
        facts.requirements = None;
        facts.lock = Some(format!(
            "{}\n",
            LockInput::new(
                &generate::empty_requirements().unwrap().contents,
                "3.13",
                "x86_64"
            )
        ));
        assert_eq!(
            problems(&facts),
            [Problem::NotExecutable, Problem::MissingRequirements]
        );
        facts.build_script = None;
        assert_eq!(
            problems(&facts),
            [Problem::MissingBuildScript, Problem::MissingRequirements]
        );
        let manifest = Manifest::parse(
            "schema_version = 1\nname = \"svc\"\nlayout = \"web-stack\"\n",
            Path::new(MANIFEST_FILE),
        )
        .unwrap();
        let plan = plan_fixes(&[Problem::MissingBuildScript], &manifest).unwrap();
        let files: Vec<_> = plan.files().collect();
        assert_eq!(files.len(), 1);
        let script = String::from_utf8(files[0].contents.clone()).unwrap();
        assert!(files[0].executable);
        assert!(script.contains("KINDS=(handlers)\n"), "{script}");
        assert!(script.contains("svc's Lambdas"), "{script}");
    }

    #[test]
    fn a_handler_shaped_folder_with_no_handler_name_is_named() {
        let mut facts = healthy();
        for folder in ["MyThing", "9lives"] {
            files(&mut facts, &format!("producers/{folder}"))
                .extend(["__init__.py".into(), "producers.py".into()]);
            insert_module(
                &mut facts,
                format!("producers/{folder}/producers.py"),
                "def x(event, context):\n    return 1\n".into(),
            );
        }
        let found = problems(&facts);
        assert_eq!(
            found,
            [
                Problem::MisnamedHandler("producers/9lives".into(), Kind::Producers, None),
                Problem::MisnamedHandler(
                    "producers/MyThing".into(),
                    Kind::Producers,
                    Some(name("my_thing"))
                ),
            ]
        );
        assert!(
            found[1]
                .message()
                .contains("rename the folder to `my_thing`")
        );
        assert!(found[1].fix().is_none());
    }

    #[test]
    fn a_file_copying_another_python_or_arch_is_named_and_rewritten_by_the_fix() {
        let mut facts = healthy();
        let docker = "ARG SAM_IMAGE=public.ecr.aws/sam/build-python3.12:latest-arm64\n";
        facts.copies.insert("Dockerfile".into(), docker.into());
        facts.copies.insert(
            "README.md".into(),
            "runtime python3.13, architecture x86_64\n".into(),
        );
        let found = problems(&facts);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code(), "setting-mismatch");
        assert_eq!(found[0].path(), Path::new("Dockerfile"));
        assert_eq!(
            found[0].message(),
            "names `python` `3.12` where lambdas.toml has `3.13` and `arch` `arm64` where \
             lambdas.toml has `x86_64` (the build uses lambdas.toml)"
        );
        let manifest = Manifest::parse(
            "schema_version = 1\nlayout = \"log-centric\"\n",
            Path::new(MANIFEST_FILE),
        )
        .unwrap();
        let plan = plan_fixes(&found, &manifest).unwrap();
        assert_eq!(
            plan.files().next().unwrap().contents,
            b"ARG SAM_IMAGE=public.ecr.aws/sam/build-python3.13:latest-x86_64\n"
        );
        // With an unsupported setting, bad-setting alone is reported.
        facts.settings.insert("python", Some("2.7".into()));
        let codes: Vec<&str> = problems(&facts).iter().map(Problem::code).collect();
        assert_eq!(codes, ["bad-setting"]);
    }

    #[test]
    fn fixes_create_markers_set_the_exec_bit_and_adopt_handlers() {
        let manifest = Manifest::parse(
            "schema_version = 1\nlayout = \"log-centric\"\n",
            Path::new(MANIFEST_FILE),
        )
        .unwrap();
        let adopted = lambda(Kind::Consumers, "by_hand");
        let plan = plan_fixes(
            &[
                Problem::MissingMarker("test/producers".into()),
                Problem::Unlisted(adopted.clone()),
                Problem::NotExecutable,
                Problem::MissingTest(adopted.clone()),
            ],
            &manifest,
        )
        .unwrap();
        let files: Vec<_> = plan.files().collect();
        let paths: Vec<_> = files.iter().map(|f| slash(&f.path)).collect();
        assert_eq!(paths, ["test/producers/__init__.py", MANIFEST_FILE]);
        assert_eq!(
            plan.executables().collect::<Vec<_>>(),
            [&PathBuf::from(BUILD_SCRIPT)]
        );
        let text = String::from_utf8(files[1].contents.clone()).unwrap();
        assert!(
            text.ends_with("[[handlers]]\nkind = \"consumers\"\nname = \"by_hand\"\n"),
            "{text}"
        );
    }

    #[test]
    fn every_problem_has_a_stable_code_and_a_slash_path_in_its_report() {
        let report = Problem::MissingMarker("test/producers".into()).report();
        assert_eq!(
            report,
            ProblemReport {
                code: "missing-init",
                path: "test/producers/__init__.py".into(),
                path_hex: None,
                message: "missing: its folder holds Python code, so it must be a package".into(),
                fixable: true,
            }
        );
    }
}
