//! The templates embedded in the binary, and how they become planned files.
//!
//! `templates/` is laid out the way files are written: `project/` is the base of
//! every new project, `layouts/<layout>/` adds what only one layout has (where a
//! layout has anything of its own), `ci/<ci>/` adds one CI configuration,
//! `sources/<stub>/` holds one handler for an event source (any kind), with
//! `{{kind}}`, `{{name}}` and `{{module}}` in the path segments that vary,
//! `fixtures/` one sample event per source and `helpers/<helper>/` the shared
//! `utils/` modules some stubs use.
//! Only files whose text holds template syntax go through Tera (the others are
//! copied as they are), and only the sets a command needs are rendered.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow};
use include_dir::{Dir, File, include_dir};

use crate::plan::{IfExists, Plan, PlannedFile};

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// Templates written with the exec bit (include_dir keeps no file modes).
const EXECUTABLE: &[&str] = &[
    "project/build.sh",
    "project/deploy.sh",
    "ci/gitlab/tools/assume_role.sh",
];

/// The variables a template set is rendered with. Values are strings or lists
/// of strings; path segments may use the string ones as `{{name}}`.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    strings: BTreeMap<&'static str, String>,
    lists: BTreeMap<&'static str, Vec<String>>,
}

impl Vars {
    pub fn set(&mut self, key: &'static str, value: impl Into<String>) -> &mut Self {
        self.strings.insert(key, value.into());
        self
    }

    pub fn set_list(&mut self, key: &'static str, values: Vec<String>) -> &mut Self {
        self.lists.insert(key, values);
        self
    }

    fn context(&self) -> tera::Context {
        let mut context = tera::Context::new();
        for (key, value) in &self.strings {
            context.insert(*key, value);
        }
        for (key, values) in &self.lists {
            context.insert(*key, values);
        }
        context
    }

    /// Replaces each `{{key}}` in a template's path with its value.
    fn render_path(&self, path: &Path) -> Result<PathBuf> {
        let mut out = PathBuf::new();
        for segment in path.iter() {
            let segment = segment
                .to_str()
                .ok_or_else(|| anyhow!("template path {path:?} is not UTF-8"))?;
            match segment
                .strip_prefix("{{")
                .and_then(|s| s.strip_suffix("}}"))
            {
                Some(key) => {
                    let key = key.trim();
                    let value = self.strings.get(key).ok_or_else(|| {
                        anyhow!("template path {path:?} uses unknown variable `{key}`")
                    })?;
                    out.push(value);
                }
                None => out.push(segment),
            }
        }
        Ok(out)
    }
}

/// Whether the binary holds the template set `set` (a folder of `templates/`).
pub fn has_set(set: &str) -> bool {
    TEMPLATES.get_dir(set).is_some()
}

/// Renders every template under `set` (a folder of `templates/`) into `plan`,
/// at paths relative to the project root.
pub fn render_set(set: &str, vars: &Vars, if_exists: IfExists, plan: &mut Plan) -> Result<()> {
    let dir = TEMPLATES
        .get_dir(set)
        .ok_or_else(|| anyhow!("template set `{set}` is missing from the binary"))?;
    let context = vars.context();
    let tera = tera::Tera::new();
    let mut files = Vec::new();
    collect_files(dir, &mut files);
    for file in files {
        let relative = file.path().strip_prefix(set).unwrap_or(file.path());
        let path = vars.render_path(relative)?;
        let contents = render_file(&tera, file, &context)?;
        let executable = EXECUTABLE
            .iter()
            .any(|e| Path::new(e).as_os_str() == file.path().as_os_str());
        plan.add(PlannedFile {
            path,
            contents,
            executable,
            if_exists,
        });
    }
    Ok(())
}

/// Renders one template (its path under `templates/`) into a planned file at
/// `path`, with the exec bit the template set would give it.
pub fn render_one(
    template: &str,
    path: PathBuf,
    vars: &Vars,
    if_exists: IfExists,
) -> Result<PlannedFile> {
    let file = TEMPLATES
        .get_file(template)
        .ok_or_else(|| anyhow!("template `{template}` is missing from the binary"))?;
    Ok(PlannedFile {
        path,
        contents: render_file(&tera::Tera::new(), file, &vars.context())?,
        executable: EXECUTABLE.contains(&template),
        if_exists,
    })
}

/// Renders one template (its path under `templates/`) to text: a piece of a
/// file that the caller places (a handler's part of `template.yaml`).
pub fn render_text(template: &str, vars: &Vars) -> Result<String> {
    let file = TEMPLATES
        .get_file(template)
        .ok_or_else(|| anyhow!("template `{template}` is missing from the binary"))?;
    Ok(String::from_utf8(render_file(
        &tera::Tera::new(),
        file,
        &vars.context(),
    )?)?)
}

fn collect_files<'a>(dir: &'a Dir<'a>, out: &mut Vec<&'a File<'a>>) {
    out.extend(dir.files());
    for sub in dir.dirs() {
        collect_files(sub, out);
    }
}

fn render_file(tera: &tera::Tera, file: &File<'_>, context: &tera::Context) -> Result<Vec<u8>> {
    let text = file
        .contents_utf8()
        .ok_or_else(|| anyhow!("template `{}` is not UTF-8", file.path().display()))?;
    if !text.contains("{{") && !text.contains("{%") {
        return Ok(text.as_bytes().to_vec());
    }
    tera.render_str(text, context, false)
        .map(String::into_bytes)
        .with_context(|| format!("cannot render template `{}`", file.path().display()))
}
