//! The record of every file the tool writes into a project: its hash and the
//! version of lambda-scaffold that wrote it, so that `remove-handler` (and a
//! later `upgrade`) can tell files left as written from the user's.
//!
//! One small record per handler, `.lambda-scaffold/generated/KIND/NAME.sha256`,
//! for the files in its two folders, and one for the rest of the project,
//! `.lambda-scaffold/generated/project.sha256`. Each is in `sha256sum` format
//! (`HEX  PATH` a line, paths from the project root, so `sha256sum -c` reads it
//! too), the files of each tool version under a `# lambda-scaffold VERSION`
//! line (a comment to `sha256sum`). Kept out of `lambdas.toml` so the manifest
//! stays small and quick to read in projects with thousands of handlers (see
//! BENCHMARKS.md); one file per handler so that adding one never rewrites the
//! others'.
//!
//! Not recorded: `lambdas.toml` (yours to edit; the tool appends and removes
//! entries in it and never regenerates it, and hashing it on every
//! `add-handler` would cost as much as the rest of the command in a big
//! project), `template.yaml` (also yours: the tool edits only each handler's
//! part of it, whose begin marker records the part's hash, see
//! [`crate::stack`]), the records themselves and the tool's own bookkeeping
//! files.
//! Pure, apart from what the callers of [`record_writes`] give it to read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::lambdas::Lambda;
use crate::layout::Layout;
use crate::manifest::MANIFEST_FILE;
use crate::plan::{IfExists, Plan, PlannedFile, slash};
use crate::stack::TEMPLATE_FILE;

/// Where the records live, relative to the project root.
pub const RECORD_DIR: &str = ".lambda-scaffold/generated";

/// The record of the files outside every handler's folders.
pub const PROJECT_RECORD: &str = ".lambda-scaffold/generated/project.sha256";

/// The version of lambda-scaffold that writes the records.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the record says of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The sha256 of the contents written, in hex.
    pub hash: String,
    /// The lambda-scaffold version that wrote it; `None` in records written
    /// before versions were recorded.
    pub version: Option<String>,
}

impl Written {
    /// `contents`, written now by this version.
    pub fn now(contents: &[u8]) -> Self {
        Self {
            hash: file_hash(contents),
            version: Some(TOOL_VERSION.to_string()),
        }
    }
}

/// Recorded files: path from the project root (`/`-separated) to what was written.
pub type FileHashes = BTreeMap<String, Written>;

/// The sha256 of `contents` in hex, as `sha256sum` prints it.
pub fn file_hash(contents: &[u8]) -> String {
    Sha256::digest(contents)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The record file of one handler, relative to the project root.
pub fn record_path(lambda: &Lambda) -> PathBuf {
    PathBuf::from(RECORD_DIR)
        .join(lambda.kind.as_str())
        .join(format!("{}.sha256", lambda.name))
}

const VERSION_LINE: &str = "# lambda-scaffold ";

/// The record's text: the files of each version under its version line, in
/// path order (those of records without versions first, under no line).
pub fn render(hashes: &FileHashes) -> String {
    let mut by_version: BTreeMap<Option<&str>, String> = BTreeMap::new();
    for (path, written) in hashes {
        let lines = by_version.entry(written.version.as_deref()).or_default();
        lines.push_str(&line(&written.hash, path));
    }
    by_version
        .into_iter()
        .map(|(version, lines)| match version {
            Some(version) => format!("{VERSION_LINE}{version}\n{lines}"),
            None => lines,
        })
        .collect()
}

/// One `HEX  PATH` line as `sha256sum` writes it: a path holding a newline,
/// a CR or a backslash is escaped (`\n`, `\r`, `\\`) and the line starts
/// with a backslash.
fn line(hash: &str, path: &str) -> String {
    if !path.contains(['\n', '\r', '\\']) {
        return format!("{hash}  {path}\n");
    }
    let escaped = path
        .replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r");
    format!("\\{hash}  {escaped}\n")
}

/// The path of an escaped line, as [`line`] escapes it.
fn unescaped(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next() {
            Some('n') => '\n',
            Some('r') => '\r',
            Some(other) => other,
            None => '\\',
        });
    }
    out
}

/// Reads a record; lines that are neither a version line nor `HEX  PATH` are
/// ignored.
pub fn parse(text: &str) -> FileHashes {
    let mut version = None;
    let mut hashes = FileHashes::new();
    for line in text.lines() {
        if let Some(v) = line.strip_prefix(VERSION_LINE) {
            version = Some(v.trim().to_string());
            continue;
        }
        let (escaped, line) = match line.strip_prefix('\\') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let Some((hash, path)) = line.split_once("  ") else {
            continue;
        };
        let path = if escaped {
            unescaped(path)
        } else {
            path.to_string()
        };
        if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            let written = Written {
                hash: hash.to_ascii_lowercase(),
                version: version.clone(),
            };
            hashes.insert(path, written);
        }
    }
    hashes
}

/// Adds to `plan` the records of the files it writes: each file goes into
/// the record of the handler whose folders hold it when that record exists,
/// otherwise into the project's (a folder `check --fix` adopts, or one that
/// is no handler yet, gets no record of its own). A handler's record that the
/// plan writes already (add-handler makes it whole) is left as planned; other
/// records are read through `read_record` (`None` when missing) and updated.
/// A file the plan keeps when it exists (`exists` says whether it does) is
/// not written, so not recorded.
pub fn record_writes(
    plan: &mut Plan,
    layout: Layout,
    read_record: impl Fn(&Path) -> Option<String>,
    exists: impl Fn(&Path) -> bool,
) {
    let planned: Vec<PathBuf> = plan
        .files()
        .filter(|f| f.path.starts_with(RECORD_DIR))
        .map(|f| f.path.clone())
        .collect();
    let mut read: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
    let mut read_once = |record: PathBuf| {
        let text = read
            .entry(record.clone())
            .or_insert_with(|| read_record(&record));
        text.is_some().then_some(record)
    };
    let mut records: BTreeMap<PathBuf, Vec<(String, Written)>> = BTreeMap::new();
    for file in plan.files() {
        let not_recorded = file.path == Path::new(MANIFEST_FILE)
            || file.path == Path::new(TEMPLATE_FILE)
            || file.path.starts_with(".lambda-scaffold")
            || (file.if_exists == IfExists::Keep && exists(&file.path));
        if not_recorded {
            continue;
        }
        let record = Lambda::owning(&file.path, layout)
            .map(|lambda| record_path(&lambda))
            .and_then(|record| {
                if planned.contains(&record) {
                    Some(record)
                } else {
                    read_once(record)
                }
            })
            .unwrap_or_else(|| PathBuf::from(PROJECT_RECORD));
        if !planned.contains(&record) {
            let entry = (slash(&file.path), Written::now(&file.contents));
            records.entry(record).or_default().push(entry);
        }
    }
    for (record, written) in records {
        let text = match read.remove(&record) {
            Some(text) => text,
            None => read_record(&record),
        };
        let mut hashes = text.map(|text| parse(&text)).unwrap_or_default();
        hashes.extend(written);
        plan.add(PlannedFile {
            path: record,
            contents: render(&hashes).into_bytes(),
            executable: false,
            if_exists: IfExists::Replace,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(contents: &[u8], version: Option<&str>) -> Written {
        Written {
            hash: file_hash(contents),
            version: version.map(str::to_string),
        }
    }

    #[test]
    fn a_record_reads_back_what_was_written_with_each_files_version() {
        let hashes: FileHashes = [
            (
                "producers/a/__init__.py".to_string(),
                written(b"", Some("0.1.0")),
            ),
            (
                "producers/a/producers.py".to_string(),
                written(b"x", Some("0.2.0")),
            ),
            ("producers/a/old.py".to_string(), written(b"y", None)),
        ]
        .into();
        let text = render(&hashes);
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            [
                "a1fce4363854ff888cff4b8e7875d600c2682390412a8cf79b37d0b11148b0fa  producers/a/old.py",
                "# lambda-scaffold 0.1.0",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  producers/a/__init__.py",
                "# lambda-scaffold 0.2.0",
                "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881  producers/a/producers.py",
            ]
        );
        assert_eq!(parse(&text), hashes);
        assert!(parse("not a record\n").is_empty());
    }

    #[test]
    fn paths_with_newlines_and_backslashes_are_escaped_as_sha256sum_escapes_them() {
        let hashes: FileHashes = [
            ("utils/a\nb/__init__.py".to_string(), written(b"", None)),
            ("utils/c\\d/x\r.py".to_string(), written(b"", None)),
        ]
        .into();
        let text = render(&hashes);
        let empty = file_hash(b"");
        assert_eq!(
            text,
            format!("\\{empty}  utils/a\\nb/__init__.py\n\\{empty}  utils/c\\\\d/x\\r.py\n")
        );
        assert_eq!(parse(&text), hashes);
    }

    #[test]
    fn writes_are_recorded_in_their_handlers_record_or_the_projects() {
        let file = |path: &str, if_exists| PlannedFile {
            path: path.into(),
            contents: path.as_bytes().to_vec(),
            executable: false,
            if_exists,
        };
        let mut plan = Plan::default();
        plan.add(file("producers/a/__init__.py", IfExists::Keep));
        plan.add(file("test/producers/b/__init__.py", IfExists::Keep));
        plan.add(file("utils/__init__.py", IfExists::Keep));
        plan.add(file("producers/__init__.py", IfExists::Keep));
        plan.add(file("requirements.txt", IfExists::Keep));
        plan.add(file(MANIFEST_FILE, IfExists::Replace));
        let old_project = format!("{VERSION_LINE}0.0.1\n{}  build.sh\n", file_hash(b"b"));
        record_writes(
            &mut plan,
            Layout::LogCentric,
            |record| match record.to_str() {
                Some(PROJECT_RECORD) => Some(old_project.clone()),
                Some(".lambda-scaffold/generated/producers/a.sha256") => Some(String::new()),
                _ => None,
            },
            |path| path == Path::new("requirements.txt"),
        );
        let records: BTreeMap<String, FileHashes> = plan
            .files()
            .filter(|f| f.path.starts_with(RECORD_DIR))
            .map(|f| {
                (
                    slash(&f.path),
                    parse(std::str::from_utf8(&f.contents).unwrap()),
                )
            })
            .collect();
        let paths = |record: &str| records[record].keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            paths(".lambda-scaffold/generated/producers/a.sha256"),
            ["producers/a/__init__.py"]
        );
        assert!(
            !records.contains_key(".lambda-scaffold/generated/producers/b.sha256"),
            "a handler without a record gets none"
        );
        assert_eq!(
            paths(PROJECT_RECORD),
            [
                "build.sh",
                "producers/__init__.py",
                "test/producers/b/__init__.py",
                "utils/__init__.py"
            ],
            "kept requirements.txt and the manifest are not recorded; older entries stay"
        );
        let project = &records[PROJECT_RECORD];
        assert_eq!(project["build.sh"].version.as_deref(), Some("0.0.1"));
        assert_eq!(
            project["utils/__init__.py"].version.as_deref(),
            Some(TOOL_VERSION)
        );
    }
}
