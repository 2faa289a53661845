//! What `remove-handler` may delete: the files `add-handler` generated in a
//! handler's two folders and left as they were. Compares what is on disk with
//! the hashes recorded when they were generated, and plans the removal. Pure.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::UserError;
use crate::generated::{self, FileHashes};
use crate::lambdas::Lambda;
use crate::manifest::Manifest;
use crate::plan::{IfExists, Plan};

/// A file of the user's in a handler's folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserFile {
    /// Generated, then changed: its hash differs from the recorded one.
    Edited(String),
    /// Not generated: no hash is recorded for it.
    Added(String),
}

impl UserFile {
    /// Its path from the project root, `/`-separated.
    pub fn path(&self) -> &str {
        match self {
            UserFile::Edited(path) | UserFile::Added(path) => path,
        }
    }
}

impl fmt::Display for UserFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserFile::Edited(path) => write!(f, "`{path}` (edited)"),
            UserFile::Added(path) => write!(f, "`{path}` (added)"),
        }
    }
}

/// The files of `found` (path to hash, `None` when not a regular file) that
/// the user edited or added, in path order.
pub fn user_files(
    recorded: &FileHashes,
    found: &BTreeMap<String, Option<String>>,
) -> Vec<UserFile> {
    found
        .iter()
        .filter_map(|(path, hash)| match recorded.get(path) {
            Some(generated) if hash.as_ref() == Some(&generated.hash) => None,
            Some(_) => Some(UserFile::Edited(path.clone())),
            None => Some(UserFile::Added(path.clone())),
        })
        .collect()
}

/// Removes the handler's two folders whole and its manifest entries (every
/// copy); never the kind's own `__init__.py` nor the shared fixtures, which lie
/// outside them. Refused when the entry cannot be taken out of the manifest.
pub fn plan_removal(manifest: &Manifest, lambda: &Lambda) -> Result<Plan, UserError> {
    let mut plan = Plan::default();
    plan.remove(lambda.source());
    plan.remove(lambda.test());
    plan.remove(generated::record_path(lambda));
    let mut updated = manifest.clone();
    if updated.remove_handler(lambda.kind, &lambda.name)? {
        plan.add(updated.planned_file(IfExists::Replace));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use crate::event_source::EventSource;
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::generated::{Written, file_hash};
    use crate::layout::Kind;
    use crate::names::HandlerName;

    #[test]
    fn generated_files_left_alone_are_not_the_users() {
        let recorded: FileHashes = [
            ("p/a/__init__.py", Written::now(b"")),
            ("p/a/p.py", Written::now(b"code")),
            ("p/a/gone.py", Written::now(b"x")),
        ]
        .into_iter()
        .map(|(p, w)| (p.to_string(), w))
        .collect();
        let found: BTreeMap<String, Option<String>> = [
            ("p/a/__init__.py", Some(file_hash(b""))),
            ("p/a/p.py", Some(file_hash(b"my code"))),
            ("p/a/notes.md", Some(file_hash(b"mine"))),
            ("p/a/link", None),
        ]
        .into_iter()
        .map(|(p, h)| (p.to_string(), h))
        .collect();
        assert_eq!(
            user_files(&recorded, &found),
            [
                UserFile::Added("p/a/link".into()),
                UserFile::Added("p/a/notes.md".into()),
                UserFile::Edited("p/a/p.py".into()),
            ]
        );
    }

    #[test]
    fn removal_takes_both_folders_the_record_and_the_manifest_entry() {
        let mut manifest = Manifest::parse(
            "schema_version = 1\nlayout = \"log-centric\"\n",
            Path::new("lambdas.toml"),
        )
        .unwrap();
        let lambda = Lambda::new(Kind::Producers, HandlerName::parse("a").unwrap().name);
        manifest.record_handler(lambda.kind, &lambda.name, EventSource::Sqs);
        let plan = plan_removal(&manifest, &lambda).unwrap();
        assert_eq!(
            plan.removals().collect::<Vec<_>>(),
            [
                &PathBuf::from("producers/a"),
                &PathBuf::from("test/producers/a"),
                &PathBuf::from(".lambda-scaffold/generated/producers/a.sha256"),
            ]
        );
        let manifest_file = plan.files().next().unwrap();
        let text = String::from_utf8(manifest_file.contents.clone()).unwrap();
        assert_eq!(text, "schema_version = 1\nlayout = \"log-centric\"\n");
    }
}
