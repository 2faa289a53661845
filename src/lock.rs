//! `requirements.lock`, the project's dependencies resolved for Lambda, as the
//! tool sees it: the header line that records what the lock was resolved from
//! (the sha256 of `requirements.txt`, the manifest's `python` and `arch`), and
//! whether a lock is stale. The generated `tools/requirements_lock.py` writes
//! and checks the same line: `./build.sh --lock` rewrites the lock `new-project`
//! writes byte for byte (a test holds them together).

use std::fmt;

use crate::generated::file_hash;

pub const LOCK_FILE: &str = "requirements.lock";
const INPUT_PREFIX: &str = "# lock-input: ";

/// What a lock is resolved from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockInput {
    /// sha256 of `requirements.txt`, in hex.
    pub sha256: String,
    pub python: String,
    pub arch: String,
}

impl LockInput {
    pub fn new(requirements: &[u8], python: &str, arch: &str) -> Self {
        LockInput {
            sha256: file_hash(requirements),
            python: python.to_string(),
            arch: arch.to_string(),
        }
    }

    /// The input recorded in a lock's text, if it has the line.
    pub fn recorded_in(lock: &str) -> Option<Self> {
        lock.lines().find_map(|line| {
            let fields = line.strip_prefix(INPUT_PREFIX)?;
            let mut values = fields.split(' ').map(|field| field.split_once('='));
            match (values.next(), values.next(), values.next(), values.next()) {
                (
                    Some(Some(("sha256", sha256))),
                    Some(Some(("python", python))),
                    Some(Some(("arch", arch))),
                    None,
                ) => Some(LockInput {
                    sha256: sha256.to_string(),
                    python: python.to_string(),
                    arch: arch.to_string(),
                }),
                _ => None,
            }
        })
    }

    /// Why a lock recording `recorded` (from `lock_text`, `None` when there
    /// is no lock) is stale for this input, or `None` when it is fresh.
    pub fn staleness(&self, lock_text: Option<&str>) -> Option<Staleness> {
        let Some(text) = lock_text else {
            return Some(Staleness::Missing);
        };
        match LockInput::recorded_in(text) {
            None => Some(Staleness::NoInputLine),
            Some(found) if found == *self => None,
            Some(found) if (&found.python, &found.arch) != (&self.python, &self.arch) => {
                Some(Staleness::OtherPlatform {
                    python: found.python,
                    arch: found.arch,
                })
            }
            Some(_) => Some(Staleness::OtherRequirements),
        }
    }
}

impl fmt::Display for LockInput {
    /// The header line, as the lock holds it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{INPUT_PREFIX}sha256={} python={} arch={}",
            self.sha256, self.python, self.arch
        )
    }
}

/// Why a lock does not match what it should be resolved from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Staleness {
    Missing,
    NoInputLine,
    /// Resolved for another runtime than the manifest's (given).
    OtherPlatform {
        python: String,
        arch: String,
    },
    OtherRequirements,
}

impl fmt::Display for Staleness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Staleness::Missing => write!(f, "missing"),
            Staleness::NoInputLine => write!(f, "has no `{}` line", INPUT_PREFIX.trim_end()),
            Staleness::OtherPlatform { python, arch } => {
                write!(
                    f,
                    "is resolved for python{python} {arch}, not lambdas.toml's"
                )
            }
            Staleness::OtherRequirements => {
                write!(
                    f,
                    "is older than requirements.txt (resolved from another version of it)"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_is_fresh_only_for_the_input_it_records() {
        let input = LockInput::new(b"requests\n", "3.12", "x86_64");
        let lock = format!("# header\n{input}\nrequests==2.0 \\\n    --hash=sha256:00\n");
        assert_eq!(input.staleness(Some(&lock)), None);
        assert_eq!(input.staleness(None), Some(Staleness::Missing));
        assert_eq!(
            input.staleness(Some("requests==2.0\n")),
            Some(Staleness::NoInputLine)
        );
        let edited = LockInput::new(b"requests\npydantic\n", "3.12", "x86_64");
        assert_eq!(
            edited.staleness(Some(&lock)),
            Some(Staleness::OtherRequirements)
        );
        let other = LockInput::new(b"requests\n", "3.13", "arm64");
        assert_eq!(
            other.staleness(Some(&lock)),
            Some(Staleness::OtherPlatform {
                python: "3.12".into(),
                arch: "x86_64".into()
            })
        );
    }
}
