//! Proof that a staging folder and its journal were made by this tool in this
//! very project folder, so that recovery never replays one that came from
//! elsewhere: committed to version control, copied from another checkout,
//! unpacked from an archive, or forged.
//!
//! A new project gets a random token in [`OWNER_FILE`] (which the generated
//! `.gitignore` leaves out of version control); a project made by an older
//! version gets one with its first change. The
//! owner's key is the sha256 of that token and of the identity (device and
//! inode) of the project folder, so neither a copied token nor a copied or
//! cloned folder proves anything. A staging folder's name ends in a tag made
//! with the key, and its journal starts with a checksum made with the key over
//! the folder's name and the journal's bytes. `new-project`, which stages
//! beside the project, keys its staging folders by the folder's identity
//! alone ([`Owner::for_new_projects`]).

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::{Context, Result};

use super::{STAGING_PREFIX, delete_command, one_line};
use crate::error::UserError;
use crate::generated::file_hash;

/// The project's owner token, relative to its root.
pub const OWNER_FILE: &str = ".lambda-scaffold-owner";

/// What a sealed journal file starts with, before the checksum's hex.
const SEAL_PREFIX: &[u8] = b"lambda-scaffold journal sha256=";

/// The key of one project folder on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    key: String,
}

impl Owner {
    /// The owner of the project at `root`, or `None` when it has no token
    /// yet (then no staging folder in it is this tool's).
    pub fn load(root: &Path) -> Result<Option<Self>> {
        let path = root.join(OWNER_FILE);
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", path.display())),
            Ok(meta) if !meta.is_file() => return Err(bad_token(&path).into()),
            Ok(_) => {}
        }
        let token = fs::read(&path).with_context(|| format!("cannot read `{}`", path.display()))?;
        let token = token.strip_suffix(b"\n").unwrap_or(&token);
        if token.len() != 64 || !token.iter().all(u8::is_ascii_hexdigit) {
            return Err(bad_token(&path).into());
        }
        Self::keyed(root, token).map(Some)
    }

    /// The owner of the project at `root`, writing its token first if it has
    /// none (then the flag is true). The caller holds the project's lock.
    pub fn load_or_create(root: &Path) -> Result<(Self, bool)> {
        if let Some(owner) = Self::load(root)? {
            return Ok((owner, false));
        }
        let token = write_token(root)?;
        Ok((Self::keyed(root, token.as_bytes())?, true))
    }

    /// The owner of the staging folders that `new-project` makes in `dir`:
    /// no token (the folder is not a project), only the folder's identity,
    /// enough to tell its own leftovers from folders copied in from
    /// elsewhere. Such a folder is only ever deleted, never replayed.
    pub fn for_new_projects(dir: &Path) -> Result<Self> {
        Self::keyed(dir, b"new-project")
    }

    fn keyed(root: &Path, token: &[u8]) -> Result<Self> {
        let folder =
            fs::metadata(root).with_context(|| format!("cannot read `{}`", root.display()))?;
        let key = file_hash(
            &[
                b"lambda-scaffold owner 1\0".as_slice(),
                token,
                &folder.dev().to_le_bytes(),
                &folder.ino().to_le_bytes(),
            ]
            .concat(),
        );
        Ok(Self { key })
    }

    fn tag(&self, purpose: &[u8], parts: &[&[u8]]) -> String {
        let mut input = [self.key.as_bytes(), b"\0", purpose, b"\0"].concat();
        for part in parts {
            input.extend_from_slice(part);
            input.push(0);
        }
        file_hash(&input)
    }

    /// A new staging folder's name: unique, and tagged as this owner's.
    pub fn staging_name(&self) -> String {
        let stem = unique_stem();
        let tag = self.tag(b"staging", &[stem.as_bytes()]);
        format!("{STAGING_PREFIX}{stem}-{}", &tag[..32])
    }

    /// Whether this owner made the staging folder called `name`.
    pub fn made(&self, name: &OsStr) -> bool {
        name.to_str()
            .and_then(|name| name.strip_prefix(STAGING_PREFIX))
            .and_then(|rest| rest.rsplit_once('-'))
            .is_some_and(|(stem, tag)| {
                tag.len() == 32 && self.tag(b"staging", &[stem.as_bytes()])[..32] == *tag
            })
    }

    /// The journal file of the staging folder `folder`: a checksum line, then
    /// the journal's bytes.
    pub fn seal(&self, folder: &OsStr, journal: &[u8]) -> Vec<u8> {
        let sum = self.tag(b"journal", &[folder.as_bytes(), journal]);
        [SEAL_PREFIX, sum.as_bytes(), b"\n", journal].concat()
    }

    /// The journal inside `file` when this owner sealed it for `folder`.
    pub fn unseal<'a>(&self, folder: &OsStr, file: &'a [u8]) -> Option<&'a [u8]> {
        let rest = file.strip_prefix(SEAL_PREFIX)?;
        let (sum, journal) = (rest.get(..64)?, rest.get(64..)?.strip_prefix(b"\n")?);
        (self
            .tag(b"journal", &[folder.as_bytes(), journal])
            .as_bytes()
            == sum)
            .then_some(journal)
    }
}

/// Writes a new random token into the folder `dir` (a project, or a new
/// project's tree before it is renamed into place); returns it.
pub fn write_token(dir: &Path) -> Result<String> {
    let path = dir.join(OWNER_FILE);
    let mut random = [0u8; 32];
    fs::File::open("/dev/urandom")
        .and_then(|mut source| source.read_exact(&mut random))
        .context("cannot read `/dev/urandom`")?;
    let token = file_hash(&random);
    // Written whole under another name, then renamed: a kill leaves either
    // no token or a complete one.
    let partial = dir.join(format!("{OWNER_FILE}.partial"));
    fs::write(&partial, format!("{token}\n"))
        .and_then(|()| fs::rename(&partial, &path))
        .inspect_err(|_| {
            let _ = fs::remove_file(&partial);
        })
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(token)
}

/// A name part no other staging folder has: this process, and the time.
fn unique_stem() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{nanos}", std::process::id())
}

fn bad_token(path: &Path) -> UserError {
    UserError::new(format!(
        "`{}` is not an owner token that lambda-scaffold wrote",
        one_line(path)
    ))
    .hint(format!(
        "delete it ({}) and run the command again; a new token is written",
        delete_command(path)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_proves_its_own_folders_and_journals_only() {
        let dir = tempfile::tempdir().unwrap();
        let (owner, created) = Owner::load_or_create(dir.path()).unwrap();
        assert!(created);
        assert_eq!(Owner::load(dir.path()).unwrap(), Some(owner.clone()));
        let name = owner.staging_name();
        assert!(owner.made(OsStr::new(&name)));
        assert!(!owner.made(OsStr::new(".lambda-scaffold-staging-1-1")));
        let last = if name.ends_with('0') { '1' } else { '0' };
        let forged = format!("{}{last}", &name[..name.len() - 1]);
        assert!(!owner.made(OsStr::new(&forged)));

        let sealed = owner.seal(OsStr::new(&name), b"{}");
        assert_eq!(owner.unseal(OsStr::new(&name), &sealed), Some(&b"{}"[..]));
        assert_eq!(owner.unseal(OsStr::new("other"), &sealed), None);
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() = b']';
        assert_eq!(owner.unseal(OsStr::new(&name), &tampered), None);

        // The same token in another folder is another owner.
        let other = tempfile::tempdir().unwrap();
        fs::copy(dir.path().join(OWNER_FILE), other.path().join(OWNER_FILE)).unwrap();
        let copy = Owner::load(other.path()).unwrap().unwrap();
        assert!(!copy.made(OsStr::new(&name)));
        assert_eq!(copy.unseal(OsStr::new(&name), &sealed), None);
    }

    #[test]
    fn a_token_this_tool_did_not_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(OWNER_FILE), "guess\n").unwrap();
        let err = Owner::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("is not an owner token"), "{err}");
    }
}
