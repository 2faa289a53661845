//! The journal of a commit: the [`Change`]s it makes, in the order they run,
//! serialized with serde as JSON. The owner seals it (see [`super::owner`]);
//! this module only encodes and decodes.
//!
//! Paths are bytes ([`RelPath`]): a path that is valid UTF-8 is written as a
//! JSON string (a person can read the journal), any other as an array of
//! bytes; either way newline, tab and non-UTF-8 bytes round-trip. Decoding
//! refuses every path that is not plain relative, so a journal can never name
//! a file outside the folder it is replayed in.

use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::change::Change;

/// Bumped when the meaning of a journal changes; an older or newer one is
/// refused, never guessed at.
const VERSION: u32 = 1;

/// A path relative to the project root made only of plain names: not empty,
/// no leading `/`, no empty, `.` or `..` segment, no NUL byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelPath(PathBuf);

/// Why a path is not a [`RelPath`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("path `{}` is not a plain relative path", String::from_utf8_lossy(.0).escape_debug())]
pub struct NotPlain(pub Vec<u8>);

impl RelPath {
    /// The path spelled by `bytes` (segments split at `/`), if it is plain.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, NotPlain> {
        let plain = !bytes.is_empty()
            && !bytes.contains(&0)
            && bytes
                .split(|b| *b == b'/')
                .all(|segment| !matches!(segment, b"" | b"." | b".."));
        if plain {
            Ok(Self(PathBuf::from(OsStr::from_bytes(bytes))))
        } else {
            Err(NotPlain(bytes.to_vec()))
        }
    }

    /// A plan's path, checked.
    pub fn new(path: &Path) -> Result<Self, NotPlain> {
        Self::from_bytes(path.as_os_str().as_bytes())
    }

    pub fn as_path(&self) -> &Path {
        &self.0
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_os_str().as_bytes()
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.display())
    }
}

/// How a path is spelled in JSON.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Spelling {
    Text(String),
    Bytes(Vec<u8>),
}

impl Serialize for RelPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(self.as_bytes()) {
            Ok(text) => Spelling::Text(text.to_string()),
            Err(_) => Spelling::Bytes(self.as_bytes().to_vec()),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RelPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = match Spelling::deserialize(deserializer)? {
            Spelling::Text(text) => text.into_bytes(),
            Spelling::Bytes(bytes) => bytes,
        };
        Self::from_bytes(&bytes).map_err(serde::de::Error::custom)
    }
}

#[derive(Serialize)]
struct Written<'a> {
    version: u32,
    changes: &'a [Change],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Read {
    version: u32,
    changes: Vec<Change>,
}

/// The journal of `changes` as JSON.
pub fn encode(changes: &[Change]) -> Vec<u8> {
    serde_json::to_vec(&Written {
        version: VERSION,
        changes,
    })
    .expect("changes always serialize")
}

/// The changes of a journal, or why it cannot be read (a path that is not
/// plain relative among them).
pub fn decode(json: &[u8]) -> Result<Vec<Change>, String> {
    let read: Read = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    if read.version != VERSION {
        return Err(format!(
            "journal version {} is not {VERSION}, the one this lambda-scaffold writes",
            read.version
        ));
    }
    Ok(read.changes)
}

/// Examples; the properties over arbitrary byte paths (round trip, and
/// every path that is not plain refused) are in `tests/recovery.rs`.
#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn paths_are_text_when_they_can_be_and_bytes_otherwise() {
        let text = RelPath::from_bytes(b"utils/a\nb/__init__.py").unwrap();
        assert_eq!(
            serde_json::to_string(&text).unwrap(),
            r#""utils/a\nb/__init__.py""#
        );
        let bytes = RelPath::from_bytes(b"u/\xff").unwrap();
        assert_eq!(serde_json::to_string(&bytes).unwrap(), "[117,47,255]");
    }

    #[test]
    fn a_journal_of_another_version_or_shape_is_refused() {
        assert!(decode(br#"{"version":2,"changes":[]}"#).is_err());
        assert!(decode(br#"{"version":1,"changes":[{"step":"launch"}]}"#).is_err());
        assert!(decode(br#"{"version":1,"changes":[],"extra":1}"#).is_err());
        assert!(decode(b"remove\t../outside\n").is_err());
    }
}
