//! What the tool observes on disk, read only and handed to the pure cores.
//!
//! For `check` ([`survey`]): the folders and files of the code and test trees
//! (a name that is not UTF-8 is noted, and nothing below it is read),
//! the text of the handler modules and of the files that copy the build
//! settings (`template.yaml` among them), `build.sh`, `requirements.txt` and `requirements.lock`. Never
//! walked: hidden folders (`.venv`, `.git`, the staging folders of an
//! interrupted run), `__pycache__` and `test/fixtures`.
//!
//! For `remove-handler` ([`handler_files`]): every file in a handler's two
//! folders with its content hash.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use walkdir::{DirEntry, WalkDir};

use crate::check::{BUILD_SCRIPT, Facts, REQUIREMENTS, SETTINGS, is_data_folder, tree_roots};
use crate::generate::TemplateFacts;
use crate::generated::{self, FileHashes, file_hash};
use crate::lambdas::Lambda;
use crate::lock::LOCK_FILE;
use crate::manifest::Manifest;
use crate::plan::slash;
use crate::removal::{UserFile, user_files};
use crate::setting_copies;
use crate::stack::TEMPLATE_FILE;

/// Caches, never code. (`target` and `venv` are not skipped: the walk starts at
/// the kind, `utils` and `test` folders, where such a name is a handler's.)
const SKIPPED: &[&str] = &["__pycache__"];

/// Reads the facts `check` judges from the project at `root`.
pub fn survey(root: &Path, manifest: &Manifest) -> Result<Facts> {
    let layout = manifest.layout;
    let mut dirs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut not_utf8 = Vec::new();
    for tree in tree_roots(layout) {
        if !root.join(&tree).is_dir() {
            continue;
        }
        let mut walk = WalkDir::new(root.join(&tree))
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| !skipped(root, e));
        while let Some(entry) = walk.next() {
            let entry = entry.with_context(|| format!("cannot read `{}`", tree.display()))?;
            let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
            if entry.file_name().to_str().is_none() {
                // Named, never looked into: no plan may name what is below.
                not_utf8.push(rel.to_path_buf());
                if entry.file_type().is_dir() {
                    walk.skip_current_dir();
                }
            } else if entry.file_type().is_dir() {
                dirs.entry(slash(rel)).or_default();
            } else if let Some(parent) = rel.parent() {
                dirs.entry(slash(parent))
                    .or_default()
                    .insert(entry.file_name().to_string_lossy().into_owned());
            }
        }
    }
    let mut module_paths = Vec::new();
    for kind in layout.kinds() {
        let module = format!("{kind}.py");
        for (dir, files) in &dirs {
            let in_kind = dir
                .rsplit_once('/')
                .is_some_and(|(parent, _)| parent == kind.as_str());
            if in_kind && files.contains(&module) {
                module_paths.push(format!("{dir}/{module}"));
            }
        }
    }
    let modules = read_all(root, module_paths)?;
    let copies = read_all(
        root,
        setting_copies::files()
            .into_iter()
            .filter(|file| root.join(file).is_file())
            .map(String::from)
            .collect(),
    )?;
    Ok(Facts {
        layout,
        entries: manifest.handlers().to_vec(),
        dirs,
        not_utf8,
        modules,
        build_script: build_script(&root.join(BUILD_SCRIPT)),
        requirements: read_if_file(&root.join(REQUIREMENTS))?,
        lock: read_if_file(&root.join(LOCK_FILE))?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        settings: SETTINGS
            .iter()
            .map(|key| (*key, manifest.setting(key).map(str::to_string)))
            .collect(),
        layer: manifest.setting("dependencies") == Some("layer"),
        // template.yaml is one of them: read once, judged twice.
        template: copies.get(TEMPLATE_FILE).cloned(),
        copies,
    })
}

/// The bytes of `path` when it is a file, `None` when it is not.
fn read_if_file(path: &Path) -> Result<Option<Vec<u8>>> {
    if !path.is_file() {
        return Ok(None);
    }
    fs::read(path)
        .map(Some)
        .with_context(|| format!("cannot read `{}`", path.display()))
}

/// The text of each file (paths relative to `root`), read on two threads:
/// with thousands of handlers, `check` spends much of its time opening files.
fn read_all(root: &Path, paths: Vec<String>) -> Result<BTreeMap<String, String>> {
    let read = |path: String| -> Result<(String, String)> {
        let bytes = fs::read(root.join(&path)).with_context(|| format!("cannot read `{path}`"))?;
        Ok((path, String::from_utf8_lossy(&bytes).into_owned()))
    };
    let mut first = paths;
    let second = first.split_off(first.len() / 2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| second.into_iter().map(read).collect::<Result<Vec<_>>>());
        let mut texts: BTreeMap<String, String> =
            first.into_iter().map(read).collect::<Result<_>>()?;
        let rest = other
            .join()
            .map_err(|_| anyhow::anyhow!("a file reader thread panicked"))??;
        texts.extend(rest);
        Ok(texts)
    })
}

/// The files of the handler's two folders that are the user's: not generated
/// by the tool, or changed since (see [`crate::removal::user_files`]). A
/// handler without a generation record (one `check --fix` adopted) has only
/// the user's files.
pub fn user_files_of(root: &Path, lambda: &Lambda) -> Result<Vec<UserFile>> {
    Ok(user_files(
        &recorded_hashes(root, lambda),
        &handler_files(root, lambda)?,
    ))
}

/// The hashes recorded when the handler was generated (none when it was not).
pub fn recorded_hashes(root: &Path, lambda: &Lambda) -> FileHashes {
    fs::read_to_string(root.join(generated::record_path(lambda)))
        .map(|text| generated::parse(&text))
        .unwrap_or_default()
}

/// The bytes of the project's `template.yaml`, `None` when it has none.
pub fn template_facts(root: &Path) -> Result<TemplateFacts> {
    match fs::read(root.join(TEMPLATE_FILE)) {
        Ok(bytes) => Ok(TemplateFacts { bytes: Some(bytes) }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TemplateFacts::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read `{TEMPLATE_FILE}`")),
    }
}

/// Every file under the handler's code and test folders, by its `/`-separated
/// path from the root, with its content hash (`None` for a symlink or other
/// non-regular file). `__pycache__` folders are caches, not files of anyone's.
pub fn handler_files(root: &Path, lambda: &Lambda) -> Result<BTreeMap<String, Option<String>>> {
    let mut found = BTreeMap::new();
    for folder in [lambda.source(), lambda.test()] {
        if fs::symlink_metadata(root.join(&folder)).is_err() {
            continue;
        }
        let walk = WalkDir::new(root.join(&folder))
            .follow_links(false)
            .follow_root_links(false)
            .into_iter()
            .filter_entry(|e| !(e.file_type().is_dir() && e.file_name() == "__pycache__"));
        for entry in walk {
            let entry = entry.with_context(|| format!("cannot read `{}`", folder.display()))?;
            if entry.file_type().is_dir() {
                continue;
            }
            let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
            let hash = if entry.file_type().is_file() {
                let bytes = fs::read(entry.path())
                    .with_context(|| format!("cannot read `{}`", rel.display()))?;
                Some(file_hash(&bytes))
            } else {
                None
            };
            found.insert(slash(rel), hash);
        }
    }
    Ok(found)
}

fn skipped(root: &Path, entry: &DirEntry) -> bool {
    if !entry.file_type().is_dir() || entry.depth() == 0 {
        return false;
    }
    let name = entry.file_name().to_string_lossy();
    name.starts_with('.')
        || SKIPPED.contains(&name.as_ref())
        || entry.path().strip_prefix(root).is_ok_and(is_data_folder)
}

/// `None` when there is no `build.sh` file, otherwise whether its owner may run it.
fn build_script(path: &Path) -> Option<bool> {
    fs::metadata(path)
        .ok()
        .filter(fs::Metadata::is_file)
        .map(|meta| is_executable(&meta))
}

/// The contents of a file and whether its owner may run it.
pub fn contents_and_exec_bit(path: &Path) -> Result<(Vec<u8>, bool)> {
    let read = || format!("cannot read `{}`", path.display());
    let meta = fs::metadata(path).with_context(read)?;
    Ok((fs::read(path).with_context(read)?, is_executable(&meta)))
}

#[cfg(unix)]
fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o100 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &fs::Metadata) -> bool {
    true
}
