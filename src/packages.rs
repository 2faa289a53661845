//! Package names, as a handler entry lists them (`requirements = ["requests"]`)
//! and as `requirements.txt` and `requirements.lock` name them. In bundle mode
//! a handler that lists packages gets a zip holding only those and their
//! locked dependencies (the generated `tools/package_lambda.py` picks them);
//! here the names are validated, and `check` compares them with the project's
//! lists. Pure.

use std::collections::BTreeSet;
use std::fmt;

/// A package name as PEP 508 allows it: ASCII letters and digits, with `.`,
/// `_` and `-` inside (`requests`, `typing_extensions`, `zope.interface`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageName(String);

impl PackageName {
    /// The name as written, when it is one.
    pub fn parse(raw: &str) -> Option<Self> {
        let bytes = raw.as_bytes();
        let inner_ok = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-');
        let valid = match (bytes.first(), bytes.last()) {
            (Some(first), Some(last)) => {
                first.is_ascii_alphanumeric()
                    && last.is_ascii_alphanumeric()
                    && bytes.iter().all(inner_ok)
            }
            _ => false,
        };
        valid.then(|| Self(raw.to_string()))
    }

    /// Distinct package names, in their order; `Err` with the reason at the
    /// first one that is not a name or repeats another (as PEP 503 compares
    /// them: `Typing_Extensions` is `typing-extensions`).
    pub fn parse_list(raw: &[String]) -> Result<Vec<Self>, String> {
        let mut seen = BTreeSet::new();
        raw.iter()
            .map(|name| {
                let parsed = Self::parse(name).ok_or_else(|| {
                    format!(
                        "lists `{}` in `requirements`, which is not a package name (letters, \
                         digits, and `.`, `_` or `-` inside)",
                        name.escape_debug()
                    )
                })?;
                if !seen.insert(parsed.normalized()) {
                    return Err(format!("lists `{name}` twice in `requirements`"));
                }
                Ok(parsed)
            })
            .collect()
    }

    /// The name as PEP 503 compares names: lower case, every run of `.`, `_`
    /// and `-` one `-`.
    pub fn normalized(&self) -> String {
        normalize(&self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '.' | '_' | '-') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The normalized names of the packages a requirements file or the lock
/// asks for: the name at the start of each line that is not blank, a
/// comment, an option (`--index-url`, `-r`) or an option's continuation
/// (the lock's `    --hash=...`).
pub fn named_in(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or_default().trim();
            let end = line
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
                .unwrap_or(line.len());
            PackageName::parse(&line[..end]).map(|name| name.normalized())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_pep_508() {
        for good in [
            "requests",
            "a",
            "zope.interface",
            "typing_extensions",
            "A-1",
        ] {
            assert!(PackageName::parse(good).is_some(), "{good}");
        }
        for bad in [
            "", "-a", "a-", ".a", "a b", "a;b", "a==1", "a[x]", "é", "$(id)", "a\n",
        ] {
            assert!(PackageName::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_list_refuses_a_bad_name_or_a_repeated_one_as_pep_503_compares_them() {
        let list = |names: &[&str]| {
            PackageName::parse_list(&names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(list(&["requests", "pydantic"]).unwrap().len(), 2);
        assert_eq!(list(&[]).unwrap(), Vec::new());
        let err = list(&["Typing_Extensions", "typing-extensions"]).unwrap_err();
        assert!(err.contains("`typing-extensions` twice"), "{err}");
        let err = list(&["requests>=2"]).unwrap_err();
        assert!(err.contains("`requests>=2`"), "{err}");
    }

    #[test]
    fn the_names_of_requirements_and_of_the_lock_are_read_normalized() {
        let requirements = "# deps\nRequests>=2  # http\n-r other.txt\n\npydantic[email]\n";
        assert_eq!(
            named_in(requirements),
            BTreeSet::from(["requests".into(), "pydantic".into()])
        );
        let lock = "# lock-input: x\nurllib3==2.0 \\\n    --hash=sha256:ab\n    # via requests\n\
                    zope.interface==6 \\\n    --hash=sha256:cd\n";
        assert_eq!(
            named_in(lock),
            BTreeSet::from(["urllib3".into(), "zope-interface".into()])
        );
    }
}
