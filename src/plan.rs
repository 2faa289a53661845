//! A plan: the changes a command wants to make, computed without touching the disk.
//!
//! Commands render a [`Plan`], a list of [`Step`]s; [`crate::apply`] checks it
//! against the tree and carries it out. A step writes a file, appends to one,
//! removes a file or folder whole, or sets an exec bit. Folders to create are
//! implied by the files' paths, so a plan never lists them.

use std::path::{Component, Path, PathBuf};

/// What to do when a planned file already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfExists {
    /// Leave the existing file as it is (package markers, shared fixtures).
    Keep,
    /// Overwrite it (the manifest, or a handler's files under `--force`).
    Replace,
    /// Refuse the whole plan.
    Refuse,
    /// Overwrite it only if it still has the contents it had when the plan
    /// was made (their sha256): a file the command edited, such as
    /// `template.yaml`, that someone else may change meanwhile.
    ReplaceIfUnchanged([u8; 32]),
}

impl IfExists {
    /// Whether an existing file is overwritten (perhaps after a check).
    pub fn replaces(self) -> bool {
        matches!(self, IfExists::Replace | IfExists::ReplaceIfUnchanged(_))
    }
}

/// One file of a plan, its path relative to the plan's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    pub path: PathBuf,
    pub contents: Vec<u8>,
    pub executable: bool,
    pub if_exists: IfExists,
}

/// Text added at the end of an existing file (a manifest entry): the file is
/// not rewritten, so the cost does not grow with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedAppend {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    /// The file's length when it was read: appending to a file that changed
    /// since then is refused.
    pub expected_len: u64,
}

/// One change a command wants, before it is checked against the tree. The
/// apply module turns each step into the changes it makes (see
/// [`crate::apply::Change`]); a new kind of step is a variant here and its
/// arm in [`crate::apply`]'s resolver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Write a file (and the folders it needs).
    Write(PlannedFile),
    /// Add text at the end of an existing file.
    Append(PlannedAppend),
    /// Remove a file or folder whole (a missing one is nothing to do).
    Remove(PathBuf),
    /// Give an existing file the exec bit, as `chmod +x` does.
    MakeExecutable(PathBuf),
}

/// Everything one command will change, below one root folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// The plan makes its root folder (a new project): refused when the
    /// folder exists and is not empty.
    pub new_root: bool,
}

impl Plan {
    /// Adds a file, replacing an earlier entry for the same path so that the
    /// last writer wins (a handler's module over an example's marker, say).
    pub fn add(&mut self, file: PlannedFile) {
        debug_assert!(is_plain_relative(&file.path), "plan path {:?}", file.path);
        // Plan paths are plain relative paths built by joining names, so
        // equal paths are equal bytes (cheaper than comparing components).
        if let Some(existing) = self
            .files_mut()
            .find(|f| f.path.as_os_str() == file.path.as_os_str())
        {
            *existing = file;
        } else {
            self.steps.push(Step::Write(file));
        }
    }

    /// Adds text at the end of an existing file.
    pub fn append(&mut self, append: PlannedAppend) {
        debug_assert!(
            is_plain_relative(&append.path),
            "plan path {:?}",
            append.path
        );
        self.steps.push(Step::Append(append));
    }

    /// Removes the file or folder at `path`, with everything in it.
    pub fn remove(&mut self, path: PathBuf) {
        debug_assert!(is_plain_relative(&path), "plan path {path:?}");
        if !self.removals().any(|p| *p == path) {
            self.steps.push(Step::Remove(path));
        }
    }

    /// Sets the exec bit of the existing file at `path`.
    pub fn make_executable(&mut self, path: PathBuf) {
        debug_assert!(is_plain_relative(&path), "plan path {path:?}");
        if !self.executables().any(|p| *p == path) {
            self.steps.push(Step::MakeExecutable(path));
        }
    }

    /// Adds an empty `__init__.py` in `dir` unless the plan already has one.
    pub fn add_marker(&mut self, dir: &Path) {
        let path = dir.join("__init__.py");
        if !self.files().any(|f| f.path.as_os_str() == path.as_os_str()) {
            self.steps.push(Step::Write(PlannedFile {
                path,
                contents: Vec::new(),
                executable: false,
                if_exists: IfExists::Keep,
            }));
        }
    }

    /// Gives every folder on the way from `tree_root` down to each planned
    /// Python file an `__init__.py`, so the tree imports as packages.
    pub fn add_package_markers(&mut self, tree_root: &Path) {
        let dirs: Vec<PathBuf> = self
            .files()
            .filter(|f| {
                f.path.starts_with(tree_root) && f.path.extension().is_some_and(|e| e == "py")
            })
            .filter_map(|f| f.path.parent().map(Path::to_path_buf))
            .collect();
        for dir in dirs {
            for ancestor in dir.ancestors().take_while(|a| a.starts_with(tree_root)) {
                self.add_marker(ancestor);
            }
        }
    }

    /// The files the plan writes, in the order they were added.
    pub fn files(&self) -> impl Iterator<Item = &PlannedFile> {
        self.steps.iter().filter_map(|step| match step {
            Step::Write(file) => Some(file),
            _ => None,
        })
    }

    fn files_mut(&mut self) -> impl Iterator<Item = &mut PlannedFile> {
        self.steps.iter_mut().filter_map(|step| match step {
            Step::Write(file) => Some(file),
            _ => None,
        })
    }

    /// The files the plan writes, taken out of it.
    pub fn into_files(self) -> impl Iterator<Item = PlannedFile> {
        self.steps.into_iter().filter_map(|step| match step {
            Step::Write(file) => Some(file),
            _ => None,
        })
    }

    /// The paths the plan removes.
    pub fn removals(&self) -> impl Iterator<Item = &PathBuf> {
        self.steps.iter().filter_map(|step| match step {
            Step::Remove(path) => Some(path),
            _ => None,
        })
    }

    /// The files the plan makes executable.
    pub fn executables(&self) -> impl Iterator<Item = &PathBuf> {
        self.steps.iter().filter_map(|step| match step {
            Step::MakeExecutable(path) => Some(path),
            _ => None,
        })
    }
}

/// A path with only normal components: no root, no `..`, no `.`.
pub fn is_plain_relative(path: &Path) -> bool {
    path.components().next().is_some()
        && path.components().all(|c| matches!(c, Component::Normal(_)))
}

/// A relative path spelled with `/`, as the manifest and the JSON output spell
/// paths; a name that is not UTF-8 is spelled as [`escaped`] spells it.
pub fn slash(path: &Path) -> String {
    path.iter()
        .map(|part| match part.to_str() {
            Some(text) => std::borrow::Cow::Borrowed(text),
            None => std::borrow::Cow::Owned(escaped(part.as_ref())),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A path as text, for people: as it is when it is UTF-8, otherwise with each
/// byte that is not part of a UTF-8 character written `\xNN`. Never turned
/// back into a path to write: `check` keeps such names out of its plans
/// (a lossy U+FFFD would name another file).
pub fn escaped(path: &Path) -> String {
    let mut text = String::new();
    for chunk in path.as_os_str().as_encoded_bytes().utf8_chunks() {
        text.push_str(chunk.valid());
        for byte in chunk.invalid() {
            text.push_str(&format!("\\x{byte:02X}"));
        }
    }
    text
}

/// A path as a line of text output shows it: [`escaped`], and a control
/// character (a newline, a tab) written as an escape, so that one path stays
/// on one line.
pub fn shown(path: &Path) -> String {
    crate::names::shown(&escaped(path))
}

/// The bytes of a path that is not UTF-8, in hexadecimal, for the JSON output
/// (whose strings cannot hold them); `None` for a UTF-8 path.
pub fn hex_unless_utf8(path: &Path) -> Option<String> {
    let bytes = path.as_os_str().as_encoded_bytes();
    std::str::from_utf8(bytes)
        .is_err()
        .then(|| bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> PlannedFile {
        PlannedFile {
            path: PathBuf::from(path),
            contents: b"x".to_vec(),
            executable: false,
            if_exists: IfExists::Refuse,
        }
    }

    #[test]
    fn markers_are_added_at_every_level_of_a_tree() {
        let mut plan = Plan::default();
        plan.add(file("test/producers/a/test_producers.py"));
        plan.add(file("test/fixtures/kinesis_event.json"));
        plan.add_package_markers(Path::new("test"));
        let mut paths: Vec<_> = plan
            .files()
            .map(|f| f.path.to_string_lossy().into_owned())
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "test/__init__.py",
                "test/fixtures/kinesis_event.json",
                "test/producers/__init__.py",
                "test/producers/a/__init__.py",
                "test/producers/a/test_producers.py",
            ]
        );
    }

    #[test]
    fn a_later_file_replaces_an_earlier_one_with_the_same_path() {
        let mut plan = Plan::default();
        plan.add(file("a.py"));
        plan.add(PlannedFile {
            contents: b"y".to_vec(),
            ..file("a.py")
        });
        let files: Vec<_> = plan.files().collect();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].contents, b"y");
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_are_shown_escaped_and_given_in_hex() {
        use std::os::unix::ffi::OsStrExt;
        let path = Path::new(std::ffi::OsStr::from_bytes(b"utils/caf\xe9/x.py"));
        assert_eq!(slash(path), "utils/caf\\xE9/x.py");
        assert_eq!(escaped(path), "utils/caf\\xE9/x.py");
        assert_eq!(
            hex_unless_utf8(path).as_deref(),
            Some("7574696c732f636166e92f782e7079")
        );
        assert_eq!(hex_unless_utf8(Path::new("utils/café")), None);
        assert_eq!(escaped(Path::new("utils/café")), "utils/café");
    }

    #[test]
    fn only_plain_relative_paths_are_accepted() {
        assert!(is_plain_relative(Path::new("a/b.py")));
        assert!(!is_plain_relative(Path::new("../a")));
        assert!(!is_plain_relative(Path::new("/a")));
        assert!(!is_plain_relative(Path::new("./a")));
        assert!(!is_plain_relative(Path::new("")));
    }
}
