//! Copies of the manifest's build settings (`python`, `arch`) in files that
//! cannot read `lambdas.toml` themselves: the `Dockerfile`'s default build
//! image, the CI files (YAML cannot include TOML), the README and
//! `template.yaml` (the functions' `Runtime` and `Architectures`, and in
//! layer mode the layer's `CompatibleRuntimes` and
//! `CompatibleArchitectures`, which the `Architectures: [` site finds too). `build.sh`
//! and `tools/package_lambda.py` read the manifest and hold no copy.
//!
//! [`disagreement`] finds the copies in one file that differ from the manifest
//! and the file's text with them rewritten, for `check` and `check --fix`. Pure.

use crate::layout::PYTHON_VERSIONS;

/// A build setting of the manifest that other files copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Setting {
    Python,
    Arch,
}

impl Setting {
    pub fn key(self) -> &'static str {
        match self {
            Setting::Python => "python",
            Setting::Arch => "arch",
        }
    }

    /// Whether `value` is spelled like a value of this setting, so that a
    /// site followed by other text (`python3 -m unittest`) is no copy.
    fn is_value(self, value: &str) -> bool {
        match self {
            Setting::Python => {
                value
                    .split_once('.')
                    .is_some_and(|(major, minor)| major == "3" && digits(minor))
                    || PYTHON_VERSIONS.contains(&value)
            }
            Setting::Arch => matches!(value, "x86_64" | "arm64"),
        }
    }

    fn is_value_char(self, c: char) -> bool {
        match self {
            Setting::Python => c.is_ascii_digit() || c == '.',
            Setting::Arch => c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_',
        }
    }
}

fn digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// One place where a file copies a setting: the value follows text matching
/// `before`, in which `*` stands for a run of letters, digits and dots (an
/// image tag such as `latest` or `1.142.0`); a quote before the value is
/// skipped.
struct Site {
    file: &'static str,
    setting: Setting,
    before: &'static str,
}

const SITES: &[Site] = &[
    // The functions' runtime and architecture, in `Globals` (or any
    // function that sets its own).
    Site {
        file: "template.yaml",
        setting: Setting::Python,
        before: "Runtime: python",
    },
    Site {
        file: "template.yaml",
        setting: Setting::Arch,
        before: "Architectures: [",
    },
    Site {
        file: "template.yaml",
        setting: Setting::Python,
        before: "CompatibleRuntimes: [python",
    },
    Site {
        file: "Dockerfile",
        setting: Setting::Python,
        before: "sam/build-python",
    },
    Site {
        file: "Dockerfile",
        setting: Setting::Arch,
        before: "sam/build-python*:*-",
    },
    // GitLab's jobs run on `python:X.Y`; projects made by earlier versions
    // build in the x86_64 SAM image for either architecture (pip fetches the
    // runtime's wheels), so only its Python is a copy.
    Site {
        file: ".gitlab-ci.yml",
        setting: Setting::Python,
        before: "sam/build-python",
    },
    Site {
        file: ".gitlab-ci.yml",
        setting: Setting::Python,
        before: "python:",
    },
    Site {
        file: ".github/workflows/ci.yml",
        setting: Setting::Python,
        before: "python-version: ",
    },
    Site {
        file: "README.md",
        setting: Setting::Python,
        before: "runtime python",
    },
    Site {
        file: "README.md",
        setting: Setting::Arch,
        before: "architecture ",
    },
    Site {
        file: "README.md",
        setting: Setting::Arch,
        before: "--architectures ",
    },
];

/// The files that may hold copies, relative to the project root.
pub fn files() -> Vec<&'static str> {
    let mut files: Vec<&'static str> = SITES.iter().map(|s| s.file).collect();
    files.dedup();
    files
}

/// A file whose copies of the settings differ from the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    pub file: String,
    /// Each setting that differs, with the first value found for it and the
    /// manifest's.
    pub settings: Vec<(Setting, String, String)>,
    /// The file's text with every copy set to the manifest's value.
    pub rewritten: String,
}

/// The copies in `file` (its `text`) that differ from the manifest's
/// `python` and `arch`; `None` when all agree or the file holds none.
pub fn disagreement(file: &str, text: &str, python: &str, arch: &str) -> Option<Disagreement> {
    let mut edits: Vec<(usize, usize, &str)> = Vec::new();
    let mut settings: Vec<(Setting, String, String)> = Vec::new();
    for site in SITES.iter().filter(|s| s.file == file) {
        let want = match site.setting {
            Setting::Python => python,
            Setting::Arch => arch,
        };
        for (start, end) in values(text, site) {
            let found = &text[start..end];
            if found == want {
                continue;
            }
            edits.push((start, end, want));
            if !settings.iter().any(|(s, ..)| *s == site.setting) {
                settings.push((site.setting, found.to_string(), want.to_string()));
            }
        }
    }
    if edits.is_empty() {
        return None;
    }
    settings.sort();
    edits.sort_unstable();
    edits.dedup_by_key(|(start, ..)| *start);
    let mut rewritten = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, want) in edits {
        rewritten.push_str(&text[at..start]);
        rewritten.push_str(want);
        at = end;
    }
    rewritten.push_str(&text[at..]);
    Some(Disagreement {
        file: file.to_string(),
        settings,
        rewritten,
    })
}

/// The byte ranges of the values `site` finds in `text`.
fn values(text: &str, site: &Site) -> Vec<(usize, usize)> {
    let anchor = site.before.split('*').next().unwrap_or_default();
    let mut found = Vec::new();
    for index in memchr::memmem::find_iter(text.as_bytes(), anchor.as_bytes()) {
        let Some(mut start) = match_before(text, index, site.before) else {
            continue;
        };
        if text[start..].starts_with(['"', '\'']) {
            start += 1;
        }
        let end = text[start..]
            .find(|c: char| !site.setting.is_value_char(c))
            .map_or(text.len(), |n| start + n);
        if site.setting.is_value(&text[start..end]) {
            found.push((start, end));
        }
    }
    found
}

/// Where the text matching `pattern` at `from` ends, if it matches there.
fn match_before(text: &str, from: usize, pattern: &str) -> Option<usize> {
    let mut at = from;
    for (i, literal) in pattern.split('*').enumerate() {
        if i > 0 {
            at += text[at..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
                .unwrap_or(text.len() - at);
        }
        if !text[at..].starts_with(literal) {
            return None;
        }
        at += literal.len();
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_that_agree_are_no_disagreement() {
        let docker = "ARG SAM_IMAGE=public.ecr.aws/sam/build-python3.13:latest-x86_64\n";
        assert_eq!(disagreement("Dockerfile", docker, "3.13", "x86_64"), None);
        assert_eq!(disagreement("other.txt", docker, "3.12", "arm64"), None);
    }

    #[test]
    fn every_copy_is_found_and_rewritten_and_other_text_is_kept() {
        let docker = "# python3 builds\nARG SAM_IMAGE=public.ecr.aws/sam/build-python3.13:1.142.0-x86_64\nFROM ${SAM_IMAGE}\n";
        let found = disagreement("Dockerfile", docker, "3.12", "arm64").unwrap();
        assert_eq!(
            found.settings,
            [
                (Setting::Python, "3.13".into(), "3.12".into()),
                (Setting::Arch, "x86_64".into(), "arm64".into()),
            ]
        );
        assert_eq!(
            found.rewritten,
            "# python3 builds\nARG SAM_IMAGE=public.ecr.aws/sam/build-python3.12:1.142.0-arm64\nFROM ${SAM_IMAGE}\n"
        );
        let github = "      - uses: actions/setup-python@v6\n        with:\n          python-version: \"3.13\"\n          python-version: '3.13'\n";
        let found = disagreement(".github/workflows/ci.yml", github, "3.10", "x86_64").unwrap();
        assert_eq!(found.rewritten, github.replace("3.13", "3.10"));
        let readme = "runtime python3.13, architecture x86_64 and the architecture of it\n\
                      --runtime python3.13 --architectures x86_64\npython3 -m unittest\n";
        let found = disagreement("README.md", readme, "3.14", "arm64").unwrap();
        assert_eq!(
            found.rewritten,
            readme.replace("3.13", "3.14").replace("x86_64", "arm64")
        );
    }

    #[test]
    fn the_layers_runtime_and_architecture_are_copies_too() {
        let layer =
            "      CompatibleRuntimes: [python3.13]\n      CompatibleArchitectures: [x86_64]\n";
        let found = disagreement("template.yaml", layer, "3.12", "arm64").unwrap();
        assert_eq!(
            found.rewritten,
            layer.replace("3.13", "3.12").replace("x86_64", "arm64")
        );
    }

    #[test]
    fn the_gitlab_build_image_keeps_its_architecture() {
        let gitlab = "  SAM_BUILD_IMAGE: \"public.ecr.aws/sam/build-python3.13:latest-x86_64\"\n  image: \"python:3.13\"\n";
        let found = disagreement(".gitlab-ci.yml", gitlab, "3.11", "arm64").unwrap();
        assert_eq!(
            found.settings,
            [(Setting::Python, "3.13".into(), "3.11".into())]
        );
        assert_eq!(found.rewritten, gitlab.replace("3.13", "3.11"));
    }
}
