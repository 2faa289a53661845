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
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;

use anyhow::{Context, Result};
use walkdir::WalkDir;

use crate::check::{
    BUILD_SCRIPT, Facts, ModuleFacts, REQUIREMENTS, SETTINGS, is_data_folder, project_name,
    tree_roots,
};
use crate::generate::TemplateFacts;
use crate::generated::{self, FileHashes, file_hash};
use crate::lambdas::Lambda;
use crate::lock::LOCK_FILE;
use crate::manifest::Manifest;
use crate::mapped::{Bytes, Text};
use crate::plan::slash;
use crate::removal::{UserFile, user_files};
use crate::setting_copies;
use crate::stack::TEMPLATE_FILE;

/// Caches, never code. (`target` and `venv` are not skipped: the walk starts at
/// the kind, `utils` and `test` folders, where such a name is a handler's.)
const SKIPPED: &[&str] = &["__pycache__"];

/// Reads the facts `check` judges from the project at `root`. The handler
/// modules are read (and what check judges of them taken) on a second
/// thread while the trees are walked, as the walk finds them: with
/// thousands of handlers, opening files is most of `check`'s time, and the
/// walk and the reads each keep one core busy.
pub fn survey(root: &Path, manifest: &Manifest) -> Result<Facts> {
    let layout = manifest.layout;
    let mut walked = Walked::default();
    let (found, to_read) = std::sync::mpsc::channel::<String>();
    let modules = std::thread::scope(|scope| -> Result<BTreeMap<String, ModuleFacts>> {
        let reader = scope.spawn(move || {
            to_read
                .into_iter()
                .map(|path| {
                    let (path, text) = read_text(root, path)?;
                    let module = ModuleFacts::read(&path, &text);
                    Ok((path, module))
                })
                .collect::<Result<BTreeMap<_, _>>>()
        });
        for tree in tree_roots(layout) {
            if !root.join(&tree).is_dir() {
                continue;
            }
            // `KIND/NAME/KIND.py` in a kind's tree is a handler module.
            let module = layout
                .kinds()
                .iter()
                .find(|kind| Path::new(kind.as_str()) == tree)
                .map(|kind| format!("{kind}.py"));
            walk(root, &slash(&tree), module.as_deref(), &found, &mut walked)?;
        }
        drop(found);
        reader
            .join()
            .map_err(|_| anyhow::anyhow!("the module reader thread panicked"))?
    })?;
    let copies = setting_copies::files()
        .into_iter()
        .filter(|file| *file != TEMPLATE_FILE && root.join(file).is_file())
        .map(|file| read_text(root, file.to_string()).map(|(path, text)| (path, text.into())))
        .collect::<Result<BTreeMap<_, _>>>()?;
    let template = match Bytes::of(&root.join(TEMPLATE_FILE)) {
        Ok(bytes) => Some(
            Text::utf8(bytes)
                .unwrap_or_else(|bytes| String::from_utf8_lossy(&bytes).into_owned().into()),
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read `{TEMPLATE_FILE}`")),
    };
    Ok(Facts {
        layout,
        entries: manifest.handlers().to_vec(),
        lines_build_refuses: manifest.lines_build_refuses(),
        plainly_writable: manifest.plainly_written().is_some(),
        dirs: walked.dirs,
        not_utf8: walked.not_utf8,
        modules,
        build_script: build_script(&root.join(BUILD_SCRIPT)),
        requirements: read_if_file(&root.join(REQUIREMENTS))?,
        lock: read_if_file(&root.join(LOCK_FILE))?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        settings: SETTINGS
            .iter()
            .map(|key| (*key, manifest.setting(key).map(str::to_string)))
            .collect(),
        template,
        copies,
        project: project_name(manifest),
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

/// The most of a module (or a file copying the settings) that is read: no
/// module is near it, and a link to `/dev/zero` must not fill the memory.
const MAX_TEXT_BYTES: u64 = 16 * 1024 * 1024;

/// A file's path (relative to `root`) and its text, read without asking
/// its size first: a module is a few KiB, and with thousands of them every
/// call counts. (`File`'s own `read_to_end` asks the size and the offset,
/// two calls per file; through `Take` it is the plain read loop.) A name is
/// all the walk knows of a module, so it is opened without blocking (a
/// FIFO reads as empty instead of waiting for a writer forever) and read
/// up to [`MAX_TEXT_BYTES`].
fn read_text(root: &Path, path: String) -> Result<(String, String)> {
    let read = || -> std::io::Result<String> {
        let mut bytes = Vec::with_capacity(8 * 1024);
        open_without_blocking(&root.join(&path))?
            .take(MAX_TEXT_BYTES + 1)
            .read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_TEXT_BYTES {
            return Err(std::io::Error::other(format!(
                "it holds more than {} MiB",
                MAX_TEXT_BYTES >> 20
            )));
        }
        Ok(String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    };
    let text = read().with_context(|| format!("cannot read `{path}`"))?;
    Ok((path, text))
}

#[cfg(unix)]
fn open_without_blocking(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_without_blocking(path: &Path) -> std::io::Result<fs::File> {
    fs::File::open(path)
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
    match Bytes::of(&root.join(TEMPLATE_FILE)) {
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

/// What the walk of the trees found: every folder (by its `/`-separated
/// path from the root) with the names of its files, and the names that are
/// not UTF-8.
#[derive(Default)]
struct Walked {
    dirs: BTreeMap<String, BTreeSet<String>>,
    not_utf8: Vec<PathBuf>,
}

/// Walks the folder `tree` (from `root`) as `find` does, one folder at a
/// time, following no symlink, and sends the path of each handler module
/// (`tree/NAME/module`) to the reader as it is found. Each folder's key is
/// its parent's with its name added: no path of the walk is parsed again.
fn walk(
    root: &Path,
    tree: &str,
    module: Option<&str>,
    found: &Sender<String>,
    walked: &mut Walked,
) -> Result<()> {
    let mut pending = vec![(tree.to_string(), 0)];
    while let Some((dir, depth)) = pending.pop() {
        let cannot_read = || format!("cannot read `{dir}`");
        let mut files = BTreeSet::new();
        for entry in fs::read_dir(root.join(&dir)).with_context(cannot_read)? {
            let entry = entry.with_context(cannot_read)?;
            let file_name = entry.file_name();
            let Some(name) = file_name.to_str() else {
                // Named, never looked into: no plan may name what is below.
                walked.not_utf8.push(Path::new(&dir).join(&file_name));
                continue;
            };
            if entry.file_type().with_context(cannot_read)?.is_dir() {
                let path = format!("{dir}/{name}");
                if !skipped(name, &path) {
                    pending.push((path, depth + 1));
                }
                continue;
            }
            if depth == 1 && module == Some(name) {
                // The reader ends early only on an error, which it returns.
                let _ = found.send(format!("{dir}/{name}"));
            }
            files.insert(name.to_string());
        }
        walked.dirs.insert(dir, files);
    }
    Ok(())
}

/// Whether the walk leaves out the folder `name` at `path`.
fn skipped(name: &str, path: &str) -> bool {
    name.starts_with('.') || SKIPPED.contains(&name) || is_data_folder(Path::new(path))
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
