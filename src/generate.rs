//! The generator core: turns validated choices into a [`Plan`].
//!
//! `new-project` and `add-handler` run the same renderer: a project is the
//! `project/`, `layouts/<layout>/` and `ci/<ci>/` template sets plus one handler
//! per example, and a handler is its event source's stub (`sources/<stub>/`,
//! with the kind as a variable), that source's sample event (`fixtures/`) and
//! the shared `utils/` modules the stub uses (`helpers/<helper>/`), plus package
//! markers, the manifest entry and the record of what was generated
//! ([`crate::generated`]).
//! Pure apart from reading the embedded templates.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::check::{BUILD_SCRIPT, REQUIREMENTS};
use crate::error::UserError;
use crate::event_source::EventSource;
use crate::generated::{self, FileHashes, Written};
use crate::lambdas::Lambda;
use crate::layout::{Arch, Ci, Dependencies, Kind, Layout, PYTHON_VERSIONS, PythonVersion};
use crate::lock::{LOCK_FILE, LockInput};
use crate::manifest::{MANIFEST_FILE, Manifest};
use crate::mapped::Bytes;
use crate::names::{HandlerName, ProjectName};
use crate::plan::{IfExists, Plan, PlannedAppend, PlannedFile, slash};
use crate::removal::UserFile;
use crate::stack::{self, LayerPart, Part, PartState, TEMPLATE_FILE};
use crate::templates::{Vars, has_set, render_one, render_set};

/// Everything `new-project` needs, already validated.
#[derive(Debug, Clone)]
pub struct ProjectSpec {
    pub name: ProjectName,
    pub layout: Layout,
    pub python: PythonVersion,
    pub arch: Arch,
    pub ci: Ci,
    pub dependencies: Dependencies,
    pub bare: bool,
}

/// The files of a new project, relative to its root folder.
pub fn plan_project(spec: &ProjectSpec) -> Result<Plan> {
    let mut vars = project_vars(&spec.name, spec.layout);
    vars.set("python_version", spec.python.as_str())
        .set("arch", spec.arch.as_str())
        .set("ci", spec.ci.as_str())
        .set("dependencies", spec.dependencies.as_str());
    // The lock of the empty requirements.txt: a new project builds offline.
    let lock_input = LockInput::new(
        &empty_requirements()?.contents,
        spec.python.as_str(),
        spec.arch.as_str(),
    );
    vars.set("lock_input", lock_input.to_string());

    let mut plan = Plan {
        new_root: true,
        ..Plan::default()
    };
    render_set("project", &vars, IfExists::Refuse, &mut plan)?;
    let layout_set = format!("layouts/{}", spec.layout.as_str());
    if has_set(&layout_set) {
        render_set(&layout_set, &vars, IfExists::Refuse, &mut plan)?;
    }
    if spec.ci != Ci::None {
        render_set(
            &format!("ci/{}", spec.ci.as_str()),
            &vars,
            IfExists::Refuse,
            &mut plan,
        )?;
    }

    let manifest_text = planned_text(&plan, MANIFEST_FILE)?;
    let mut manifest = Manifest::parse(manifest_text, Path::new(MANIFEST_FILE))?;
    for kind in spec.layout.kinds() {
        // Kind folders exist even in a bare project, ready for add-handler,
        // and so do the shared modules of the kind's default source.
        plan.add_marker(Path::new(kind.as_str()));
        plan.add_marker(&Path::new("test").join(kind.as_str()));
        for helper in EventSource::default_for(*kind).helpers() {
            render_set(
                &format!("helpers/{helper}"),
                &vars,
                IfExists::Refuse,
                &mut plan,
            )?;
        }
    }
    if !spec.bare {
        for (kind, name) in spec.layout.examples() {
            let name = HandlerName::parse(name)?.name;
            let event = EventSource::default_for(*kind);
            add_handler_files(&mut plan, *kind, &name, event, IfExists::Refuse)?;
            manifest.record_handler(*kind, &name, event);
        }
    }
    plan.add(manifest.planned_file(IfExists::Refuse));
    plan.add_package_markers(Path::new("utils"));
    let lambdas = crate::lambdas::from_manifest(&manifest)?;
    let template = with_dependencies(
        stack_template(&planned_text(&plan, TEMPLATE_FILE)?, &lambdas, spec.layout)?,
        spec.dependencies,
        &spec.name,
        spec.python.as_str(),
        spec.arch.as_str(),
    )?;
    plan.add(PlannedFile {
        path: TEMPLATE_FILE.into(),
        contents: template.into_bytes(),
        executable: false,
        if_exists: IfExists::Refuse,
    });
    // A new folder: no record to read, no file to keep.
    generated::record_writes(&mut plan, spec.layout, |_| None, |_| false);
    Ok(plan)
}

/// `skeleton` (the project's `template.yaml` without handlers) with the part
/// of each of `lambdas` (with its event source): the one way a template gets
/// its functions, whether `new-project` or `check --fix` writes it whole.
pub fn stack_template(
    skeleton: &str,
    lambdas: &[(Lambda, EventSource)],
    layout: Layout,
) -> Result<String> {
    let parts = lambdas
        .iter()
        .map(|(lambda, event)| Part::render(lambda, *event, layout))
        .collect::<Result<Vec<_>>>()?;
    Ok(stack::with_parts(skeleton, &parts)?)
}

/// `text`, a template with its functions, with the dependencies' layer when
/// they ship in one (the stack of project `name`, running `python` on
/// `arch`).
fn with_dependencies(
    text: String,
    dependencies: Dependencies,
    name: &ProjectName,
    python: &str,
    arch: &str,
) -> Result<String> {
    Ok(match dependencies {
        Dependencies::Bundle => text,
        Dependencies::Layer => stack::with_layer(&text, &layer_part(name, python, arch)?)?,
    })
}

/// The dependencies' layer part of `template.yaml` for the stack of
/// project `name`, running `python` on `arch`.
pub fn layer_part(name: &ProjectName, python: &str, arch: &str) -> Result<LayerPart> {
    LayerPart::render(&name.stack_name(), python, arch)
}

/// `template.yaml` as `new-project` writes it for the project of `manifest`
/// (its name, layout and build settings) with the parts of `lambdas`, for
/// `check --fix` to restore.
pub fn template_file(
    manifest: &Manifest,
    name: &ProjectName,
    lambdas: &[(Lambda, EventSource)],
) -> Result<PlannedFile> {
    let mut vars = project_vars(name, manifest.layout);
    for (var, key) in [("python_version", "python"), ("arch", "arch")] {
        vars.set(var, manifest.setting(key).unwrap_or_default());
    }
    let skeleton = render_one(
        &format!("project/{TEMPLATE_FILE}"),
        TEMPLATE_FILE.into(),
        &vars,
        IfExists::Keep,
    )?;
    let text = String::from_utf8(skeleton.contents.clone())?;
    let dependencies = manifest.dependencies().unwrap_or_default();
    let text = with_dependencies(
        stack_template(&text, lambdas, manifest.layout)?,
        dependencies,
        name,
        manifest.setting("python").unwrap_or_default(),
        manifest.setting("arch").unwrap_or_default(),
    )?;
    Ok(PlannedFile {
        contents: text.into_bytes(),
        ..skeleton
    })
}

/// What a command did with a handler's part of `template.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    /// The project has no `template.yaml`.
    NoTemplate,
    /// The part was added, or written again.
    Written,
    /// The part was edited since it was generated and `--force` wrote it
    /// again: the template is the user's file that `--force` replaces.
    ReplacedEdited,
    /// The part is there as the tool would write it.
    Unchanged,
    /// The part was edited since it was generated: kept (no `--force`).
    KeptEdited,
    /// The template names the handler outside any part of the tool's.
    KeptTheirs,
    /// The part was removed.
    Removed,
}

impl TemplatePart {
    /// A line for the command's output, when there is something to say.
    pub fn note(&self, lambda: &Lambda, dry_run: bool) -> Option<String> {
        let handler = lambda.handler();
        let would = if dry_run { "would keep" } else { "kept" };
        match self {
            TemplatePart::NoTemplate => Some(format!(
                "note: the project has no `{TEMPLATE_FILE}`; `lambda-scaffold check --fix` writes one with every handler's function\n"
            )),
            TemplatePart::KeptEdited => Some(format!(
                "{would} your edited part of `{TEMPLATE_FILE}` for `{handler}` (--force rewrites it)\n"
            )),
            TemplatePart::KeptTheirs => Some(format!(
                "note: `{TEMPLATE_FILE}` names `{handler}` outside the tool's markers: {} it as it is\n",
                if dry_run { "would leave" } else { "left" }
            )),
            TemplatePart::Written
            | TemplatePart::ReplacedEdited
            | TemplatePart::Unchanged
            | TemplatePart::Removed => None,
        }
    }
}

/// What a command reads of `template.yaml`: its bytes, `None` when the
/// project has none.
#[derive(Debug, Default)]
pub struct TemplateFacts {
    pub bytes: Option<Bytes>,
}

/// A template read for one handler's part.
struct TemplateRead<'a> {
    bytes: &'a [u8],
    text: &'a str,
    part: Part,
    state: PartState,
}

impl TemplateFacts {
    /// The template's bytes and text, and the state of `part` in it.
    fn read(&self, part: Part) -> Result<Option<TemplateRead<'_>>> {
        let Some(bytes) = self.bytes.as_deref() else {
            return Ok(None);
        };
        let text = std::str::from_utf8(bytes).map_err(|_| {
            UserError::new(format!("`{TEMPLATE_FILE}` is not UTF-8 text"))
                .hint("save it as UTF-8, then run the command again; nothing was changed")
        })?;
        let state = stack::part_state(text, &part)?;
        Ok(Some(TemplateRead {
            bytes,
            text,
            part,
            state,
        }))
    }
}

/// Which way a command changes a handler's part of `template.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartChange {
    /// `add-handler`: the part added, or rewritten when it is the tool's or
    /// under `--force` (an edited part is kept otherwise).
    Add,
    /// `remove-handler`: the part taken out; an edited part is refused
    /// unless `--force`.
    Remove,
}

/// Plans the change to the project's `template.yaml` for one handler's
/// `part`. The template is written only if it did not change meanwhile: a
/// new part is appended to a file still as long as it was when read (see
/// [`stack::appended`]: only the bytes after its end could differ, and
/// those are the ones added), an edit in place replaces a file whose
/// sha256 is still the one read.
pub fn plan_template_change(
    plan: &mut Plan,
    template: &TemplateFacts,
    part: Part,
    change: PartChange,
    force: bool,
) -> Result<TemplatePart> {
    let handler = part.handler().to_string();
    let Some(read) = template.read(part)? else {
        return Ok(TemplatePart::NoTemplate);
    };
    let (text, state) = (read.text, read.state);
    let (outcome, done) = match (change, state) {
        (_, PartState::Theirs) => return Ok(TemplatePart::KeptTheirs),
        (PartChange::Add, PartState::Edited) if !force => return Ok(TemplatePart::KeptEdited),
        (PartChange::Add, PartState::Edited) => (
            stack::with_part(text, &read.part)?,
            TemplatePart::ReplacedEdited,
        ),
        (PartChange::Add, PartState::Missing) => {
            if let Some(block) = stack::appended(text, &read.part)? {
                plan.append(PlannedAppend {
                    path: TEMPLATE_FILE.into(),
                    bytes: block.into_bytes(),
                    expected_len: read.bytes.len() as u64,
                });
                return Ok(TemplatePart::Written);
            }
            (stack::with_part(text, &read.part)?, TemplatePart::Written)
        }
        (PartChange::Add, PartState::Generated) => {
            (stack::with_part(text, &read.part)?, TemplatePart::Written)
        }
        (PartChange::Remove, PartState::Edited) if !force => {
            return Err(UserError::new(format!(
                "the part of `{TEMPLATE_FILE}` for `{handler}` was edited since it was generated"
            ))
            .hint("nothing was removed; pass --force to remove it all the same, or delete its two `# lambda-scaffold:` marker lines to keep it as yours")
            .into());
        }
        (PartChange::Remove, _) => {
            let without = stack::without_part(text, &handler)?;
            if let Some(resource) = stack::referenced(&without, &read.part).filter(|_| !force) {
                return Err(UserError::new(format!(
                    "`{TEMPLATE_FILE}` refers to `{resource}` of `{handler}` outside its part"
                ))
                .hint("nothing was removed; remove those references first, or pass --force to remove the part all the same")
                .into());
            }
            (without, TemplatePart::Removed)
        }
    };
    if outcome == text {
        return Ok(TemplatePart::Unchanged);
    }
    plan.add(edited_template(read.bytes, outcome));
    Ok(done)
}

/// The template's new text, written only over the bytes it was made from.
fn edited_template(read: &[u8], text: String) -> PlannedFile {
    PlannedFile {
        path: TEMPLATE_FILE.into(),
        contents: text.into_bytes(),
        executable: false,
        if_exists: IfExists::ReplaceIfUnchanged(stack::sha256(read)),
    }
}

/// The variables every template of the `project` set may use, apart from the
/// build settings: `build.sh` reads those from the manifest.
/// The version of the AWS SAM build images (`public.ecr.aws/sam/build-pythonX.Y`)
/// that build.sh and the Dockerfile name: pinned, so that a Docker build next
/// month runs in the image of today (the SAM CLI release of the same number).
const SAM_BUILD_IMAGE_VERSION: &str = "1.170.0";

fn project_vars(name: &ProjectName, layout: Layout) -> Vars {
    let mut vars = Vars::default();
    vars.set("project_name", name.as_str())
        .set("sam_image_version", SAM_BUILD_IMAGE_VERSION)
        .set("stack_name", name.stack_name())
        .set("function_timeout", stack::GENERATED_TIMEOUT.to_string())
        .set("function_memory_mb", stack::GENERATED_MEMORY_MB.to_string())
        .set("layout", layout.as_str())
        .set_list(
            "python_versions",
            PYTHON_VERSIONS.iter().map(|v| v.to_string()).collect(),
        )
        .set_list(
            "kinds",
            layout
                .kinds()
                .iter()
                .map(|k| k.as_str().to_string())
                .collect(),
        );
    vars
}

/// `requirements.txt` as `new-project` writes it (it lists no packages), for
/// `check --fix` to create.
pub fn empty_requirements() -> Result<PlannedFile> {
    render_one(
        &format!("project/{REQUIREMENTS}"),
        REQUIREMENTS.into(),
        &Vars::default(),
        IfExists::Keep,
    )
}

/// `requirements.lock` for a `requirements.txt` that lists no packages:
/// its header only, which needs no resolver.
pub fn empty_lock(input: &LockInput, if_exists: IfExists) -> Result<PlannedFile> {
    let mut vars = Vars::default();
    vars.set("python_version", &input.python)
        .set("arch", &input.arch)
        .set("lock_input", input.to_string());
    render_one(
        &format!("project/{LOCK_FILE}"),
        LOCK_FILE.into(),
        &vars,
        if_exists,
    )
}

/// `build.sh` as `new-project` writes it, for `check --fix` to restore.
pub fn build_script(name: &ProjectName, layout: Layout) -> Result<PlannedFile> {
    render_one(
        "project/build.sh",
        BUILD_SCRIPT.into(),
        &project_vars(name, layout),
        IfExists::Refuse,
    )
}

/// The files that add one handler to an existing project. With `force`, the
/// handler's own generated files are rewritten; markers and fixtures are kept.
/// The manifest gains an entry unless the handler is `listed` already (the
/// caller has asked the manifest: one scan of it less in a big project).
pub fn plan_handler(
    manifest: &Manifest,
    kind: Kind,
    name: &HandlerName,
    event: EventSource,
    force: bool,
    listed: bool,
) -> Result<Plan> {
    let mut plan = Plan::default();
    let if_exists = if force {
        IfExists::Replace
    } else {
        IfExists::Refuse
    };
    add_handler_files(&mut plan, kind, name, event, if_exists)?;
    if !listed {
        plan.append(manifest.planned_entry(kind, name, event));
    }
    Ok(plan)
}

/// A file of the user's that `add-handler --force` replaces, kept beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptFile {
    pub file: UserFile,
    /// Where its contents are kept, relative to the project root.
    pub kept_as: PathBuf,
}

/// Makes `--force` lose nothing: each planned file that would replace one of
/// `theirs` (a file the tool did not generate, or one edited since) with other
/// contents also plans a copy of the user's file under a free name beside it:
/// `producers.py.orig`, else `producers.py.orig.2`, and so on. `exists` says
/// whether a path is taken; `read` gives a file's contents and whether it is
/// executable, the only reading done here.
pub fn keep_replaced(
    plan: &mut Plan,
    theirs: &[UserFile],
    exists: impl Fn(&Path) -> bool,
    read: impl Fn(&Path) -> Result<(Vec<u8>, bool)>,
) -> Result<Vec<KeptFile>> {
    let mut kept = Vec::new();
    let mut copies = Vec::new();
    for planned in plan.files().filter(|f| f.if_exists.replaces()) {
        let Some(file) = theirs.iter().find(|t| Path::new(t.path()) == planned.path) else {
            continue;
        };
        let (contents, executable) = read(&planned.path)?;
        if contents == planned.contents {
            continue;
        }
        let name = planned
            .path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        let kept_as = (1..)
            .map(|n| match n {
                1 => planned.path.with_file_name(format!("{name}.orig")),
                n => planned.path.with_file_name(format!("{name}.orig.{n}")),
            })
            .find(|path| !exists(path) && !plan.files().chain(&copies).any(|f| f.path == *path))
            .unwrap_or_default();
        copies.push(PlannedFile {
            path: kept_as.clone(),
            contents,
            executable,
            if_exists: IfExists::Refuse,
        });
        kept.push(KeptFile {
            file: file.clone(),
            kept_as,
        });
    }
    for copy in copies {
        plan.add(copy);
    }
    Ok(kept)
}

/// Adds one handler's files to `plan`, and the record of the hashes of those
/// in its own folders (what `remove-handler` may delete unasked).
fn add_handler_files(
    plan: &mut Plan,
    kind: Kind,
    name: &HandlerName,
    event: EventSource,
    if_exists: IfExists,
) -> Result<()> {
    let mut vars = Vars::default();
    vars.set("name", name.as_str())
        .set("kind", kind.as_str())
        .set("singular", kind.singular())
        .set("module", format!("{kind}.py"))
        .set("test_module", format!("test_{kind}.py"))
        .set("event", event.as_str())
        .set("fixture", event.fixture());
    render_set(&format!("sources/{}", event.stub()), &vars, if_exists, plan)?;
    // The source's sample event and the shared modules its stub uses are
    // shared by all handlers: written once, never rewritten.
    plan.add(render_one(
        &format!("fixtures/{}", event.fixture()),
        event.fixture_path(),
        &vars,
        IfExists::Keep,
    )?);
    for helper in event.helpers() {
        render_set(&format!("helpers/{helper}"), &vars, IfExists::Keep, plan)?;
    }
    plan.add_package_markers(Path::new(kind.as_str()));
    plan.add_package_markers(Path::new("test"));
    let lambda = Lambda::new(kind, name.clone());
    let hashes: FileHashes = plan
        .files()
        .filter(|f| lambda.owns(&f.path))
        .map(|f| (slash(&f.path), Written::now(&f.contents)))
        .collect();
    plan.add(PlannedFile {
        path: generated::record_path(&lambda),
        contents: generated::render(&hashes).into_bytes(),
        executable: false,
        // Tool metadata: a stale record of a handler removed by hand is replaced.
        if_exists: IfExists::Replace,
    });
    Ok(())
}

fn planned_text(plan: &Plan, path: &str) -> Result<String> {
    let file = plan
        .files()
        .find(|f| f.path == Path::new(path))
        .ok_or_else(|| anyhow::anyhow!("template set `project` has no `{path}`"))?;
    Ok(String::from_utf8(file.contents.clone())?)
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    #[test]
    fn a_part_whose_handler_line_was_deleted_is_written_again_in_place_not_doubled() {
        let lambda = Lambda::new(Kind::Producers, HandlerName::parse("p").unwrap().name);
        let one = vec![(lambda, EventSource::Eventbridge)];
        let skeleton = "Outputs: {}\nResources:\n  Stream:\n    Type: AWS::Kinesis::Stream\n";
        let written = stack_template(skeleton, &one, Layout::LogCentric).unwrap();
        let broken = written.replace("      Handler: producers.p\n", "");
        assert_ne!(broken, written);
        assert_eq!(
            stack_template(&broken, &one, Layout::LogCentric).unwrap(),
            written
        );
    }

    /// The names a Python module binds at its top level (imports, defs,
    /// classes, assignments).
    fn top_level_names(module: &str) -> Vec<String> {
        let mut names = Vec::new();
        for line in module.lines() {
            if let Some(rest) = line.strip_prefix("import ") {
                names.push(rest.split(" as ").last().unwrap_or(rest).trim().to_string());
            } else if let Some((_, imported)) = line
                .strip_prefix("from ")
                .and_then(|l| l.split_once(" import "))
            {
                names.extend(imported.split(',').map(|n| n.trim().to_string()));
            } else if let Some(rest) = line
                .strip_prefix("def ")
                .or_else(|| line.strip_prefix("class "))
            {
                names.push(
                    rest.split(['(', ':'])
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                );
            } else if let Some((target, _)) = line.split_once(" = ")
                && !target.starts_with([' ', '\t'])
                && !target.contains(['(', '[', '.'])
            {
                names.push(target.to_string());
            }
        }
        names
    }

    #[test]
    fn module_names_are_what_each_sources_stub_binds() {
        for (kind, event) in Kind::ALL
            .into_iter()
            .flat_map(|k| EventSource::value_variants().iter().map(move |e| (k, *e)))
        {
            let name = HandlerName::parse("zz_probe").unwrap().name;
            let mut plan = Plan::default();
            add_handler_files(&mut plan, kind, &name, event, IfExists::Refuse).unwrap();
            let module_path = Lambda::new(kind, name.clone()).module();
            let module = plan
                .files()
                .find(|f| f.path == module_path)
                .expect("module");
            let mut bound: Vec<String> =
                top_level_names(std::str::from_utf8(&module.contents).unwrap())
                    .into_iter()
                    .filter(|n| !n.contains("zz_probe"))
                    .collect();
            bound.sort();
            bound.dedup();
            assert_eq!(bound, event.module_names(kind), "{kind} {event}");
        }
    }
}
