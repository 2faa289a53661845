//! The record of what was generated for each handler, so that `remove-handler`
//! can tell generated files from the user's: one small file per handler,
//! `.lambda-scaffold/generated/KIND/NAME.sha256`, in `sha256sum` format
//! (`HEX  PATH` a line, paths from the project root), so `sha256sum -c` reads it
//! too. Kept out of `lambdas.toml` so the manifest stays small and quick to
//! read in projects with thousands of handlers (see BENCHMARKS.md); one file
//! per handler so that adding one never rewrites the others'. Pure.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::lambdas::Lambda;

/// Where the records live, relative to the project root.
pub const RECORD_DIR: &str = ".lambda-scaffold/generated";

/// Generated files of one handler: path from the project root (`/`-separated)
/// to the sha256 of the contents written, in hex.
pub type FileHashes = BTreeMap<String, String>;

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

/// The record's text: one `HEX  PATH` line per file, in path order.
pub fn render(hashes: &FileHashes) -> String {
    hashes
        .iter()
        .map(|(path, hash)| format!("{hash}  {path}\n"))
        .collect()
}

/// Reads a record; lines that are not `HEX  PATH` are ignored.
pub fn parse(text: &str) -> FileHashes {
    text.lines()
        .filter_map(|line| {
            let (hash, path) = line.split_once("  ")?;
            let is_hash = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
            is_hash.then(|| (path.to_string(), hash.to_ascii_lowercase()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_what_was_written() {
        let hashes: FileHashes = [
            ("producers/a/__init__.py".to_string(), file_hash(b"")),
            ("producers/a/producers.py".to_string(), file_hash(b"x")),
        ]
        .into();
        let text = render(&hashes);
        assert_eq!(
            text.lines().next(),
            Some(
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  producers/a/__init__.py"
            )
        );
        assert_eq!(parse(&text), hashes);
        assert!(parse("not a record\n").is_empty());
    }
}
