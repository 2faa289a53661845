//! The dependencies' layer of `template.yaml`, for projects whose manifest
//! says `dependencies = "layer"`: an `AWS::Serverless::LayerVersion` of
//! `target/dependencies.zip` (what `./build.sh --all` writes then) at the top
//! of `Resources`, and `Layers` with it in `Globals: Function:`, so that every
//! function, the user's own included, imports the dependencies from it.
//!
//! It is one part of the template, as a handler's is (see the parent
//! module): two blocks between `# lambda-scaffold: begin dependencies-layer`
//! and `end` markers, hashed together, added and removed whole, and refused
//! with nothing written when the template cannot take it. Its blocks stay
//! out of the way of handler parts, which go at the end of `Resources`.

use super::{
    PartState, SECTION, TEMPLATE_FILE, UserError, Vars, apply_edits, blocks_state, flow_style,
    globals_function, hash_of, line_bounds, marked, mentions, newline_of, normalized, parse,
    referenced_key, render_text, taken_key, without_part,
};
use anyhow::Result;
use memchr::memmem;

/// The part's name in its markers; no handler string (those hold a dot).
const LAYER_PART: &str = "dependencies-layer";

/// The layer's resource in `Resources`.
const RESOURCE: &str = "DependenciesLayer";

/// The layer's zip, as `./build.sh --all` writes it in layer mode.
pub const LAYER_ZIP: &str = "target/dependencies.zip";

/// The layer's part as the tool writes it: the layer resource, and the
/// `Layers` key of `Globals: Function:`, each indented by two spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerPart {
    resource: String,
    globals: String,
}

impl LayerPart {
    /// The part for the stack `stack_name` (the layer is named after it and
    /// the stage) whose functions run `python` on `arch`.
    pub fn render(stack_name: &str, python: &str, arch: &str) -> Result<LayerPart> {
        let mut vars = Vars::default();
        vars.set("stack_name", stack_name)
            .set("python_version", python)
            .set("arch", arch)
            .set("zip", LAYER_ZIP);
        Ok(LayerPart {
            resource: render_text("stack/layer.yaml", &vars)?,
            globals: render_text("stack/layer_globals.yaml", &vars)?,
        })
    }

    /// The hash its markers record: of its resource, then its `Layers` (the
    /// order in which [`blocks_state`] reads blocks in `Resources` and
    /// elsewhere).
    fn hash(&self) -> String {
        hash_of([normalized(&self.resource), normalized(&self.globals)].into_iter())
    }

    /// What `text` holds of the part: no block, the blocks as the tool wrote
    /// them (now, or with the settings of then, which the markers' hash
    /// records), or blocks edited since.
    pub fn state(&self, text: &str) -> Result<PartState, UserError> {
        let blocks = mentions(text, LAYER_PART)?.blocks;
        Ok(if blocks.is_empty() {
            PartState::Missing
        } else {
            blocks_state(text, blocks, &self.hash())
        })
    }
}

/// Whether `text` (a template without the layer's part) still refers to
/// the layer resource outside comments (`!Ref DependenciesLayer`).
pub fn layer_referenced(text: &str) -> bool {
    referenced_key(text, vec![RESOURCE.to_string()]).is_some()
}

/// Whether a line of the template deploys the layer's zip (outside
/// comments), in the tool's part or in one of the user's.
pub fn names_layer_zip(text: &str) -> bool {
    let mut after = 0;
    memmem::find_iter(text.as_bytes(), LAYER_ZIP.as_bytes()).any(|at| {
        if at < after {
            return false;
        }
        let (start, stop, next) = line_bounds(text, at);
        after = next;
        let line = &text[start..stop];
        !line.trim_start().starts_with('#')
            && line
                .split(" #")
                .next()
                .is_some_and(|code| code.contains(LAYER_ZIP))
    })
}

/// The template without the layer's part (unchanged when it has none).
pub fn without_layer(text: &str) -> Result<String, UserError> {
    without_part(text, LAYER_PART)
}

/// The template with the layer's `part`: its resource first in
/// `Resources`, its `Layers` last in `Globals: Function:`, each indented
/// like the keys around it, with the file's line endings; blocks of an
/// older part are taken out.
pub fn with_layer(text: &str, part: &LayerPart) -> Result<String, UserError> {
    if !text.is_empty() && !text.ends_with('\n') {
        return with_layer(&format!("{text}{}", newline_of(text)), part);
    }
    let blocks = mentions(text, LAYER_PART)?.blocks;
    let parsed = parse(text);
    let Some(resources) = parsed.section(SECTION) else {
        return Err(UserError::new(format!(
            "`{TEMPLATE_FILE}` has no `Resources:` section to add the dependencies' layer to"
        ))
        .hint("restore it, or move the file away and run `lambda-scaffold check --fix` to write a new one; nothing was changed"));
    };
    if resources.inline {
        return Err(flow_style(SECTION));
    }
    let indent = parsed.indent(resources);
    let resource = [RESOURCE.to_string()];
    if taken_key(text, parsed.span(resources), indent, &blocks, &resource).is_some() {
        return Err(taken(RESOURCE, SECTION));
    }
    let function = globals_function(&parsed)?.ok_or_else(|| {
        UserError::new(format!(
            "`{TEMPLATE_FILE}` has no `Globals:` section with `Function:` to give every function the dependencies' layer"
        ))
        .hint("add `Globals:` and, under it, `Function:` with the settings every function shares (a new project's template has them), then run the command again; nothing was changed")
    })?;
    let layers = ["Layers".to_string()];
    if taken_key(text, function.span, function.indent, &blocks, &layers).is_some() {
        return Err(taken("Layers", "Globals: Function"));
    }
    let (hash, newline) = (part.hash(), parsed.newline);
    let first = parsed.offset(resources.header + 1);
    let last = function.insertion_point;
    // Insertions first: one where an old block starts lands before that
    // block's removal (edits at one place keep their order).
    let mut edits = vec![
        (
            first..first,
            marked(LAYER_PART, &hash, &part.resource, indent, newline),
        ),
        (
            last..last,
            marked(LAYER_PART, &hash, &part.globals, function.indent, newline),
        ),
    ];
    edits.extend(blocks.into_iter().map(|b| (b.whole, String::new())));
    Ok(apply_edits(text, edits))
}

fn taken(key: &str, mapping: &str) -> UserError {
    UserError::new(format!(
        "`{TEMPLATE_FILE}` already has `{key}` in `{mapping}`, where the dependencies' layer goes"
    ))
    .hint(format!("remove or rename that `{key}` (a function may list layers of its own under `Layers`), then run the command again; nothing was changed"))
}

#[cfg(test)]
mod tests {
    use super::super::handlers;
    use super::*;

    fn part() -> LayerPart {
        LayerPart::render("svc", "3.13", "arm64").unwrap()
    }

    /// A template as a user may have edited it: comments, four-space
    /// indentation, a global of their own after the tool's, a resource.
    const EDITED: &str = "\
Transform: AWS::Serverless-2016-10-31
Globals:
    # shared by every function
    Function:
        Runtime: python3.13
        Tracing: Active   # mine

Resources:
    # the table
    Orders:
        Type: AWS::DynamoDB::Table
";

    #[test]
    fn the_layer_goes_first_in_resources_and_last_in_globals_and_comes_out_whole() {
        let added = with_layer(EDITED, &part()).unwrap();
        let hash = part().hash();
        let globals = format!(
            "        # lambda-scaffold: begin dependencies-layer (sha256 {hash})
        Layers:
          - !Ref DependenciesLayer
        # lambda-scaffold: end dependencies-layer
"
        );
        let resource = format!(
            "    # lambda-scaffold: begin dependencies-layer (sha256 {hash})
    DependenciesLayer:
      Type: AWS::Serverless::LayerVersion
      Properties:
        LayerName: !Sub \"svc-${{Stage}}-dependencies\"
        Description: The locked dependencies (requirements.lock) every function imports
        ContentUri: target/dependencies.zip
        CompatibleRuntimes: [python3.13]
        CompatibleArchitectures: [arm64]
        RetentionPolicy: Delete
    # lambda-scaffold: end dependencies-layer
"
        );
        let mine = "        Tracing: Active   # mine\n";
        assert_eq!(
            added,
            EDITED
                .replace(mine, &format!("{mine}{globals}"))
                .replace("Resources:\n", &format!("Resources:\n{resource}"))
        );
        assert!(names_layer_zip(&added));
        assert!(!names_layer_zip(EDITED));
        assert_eq!(part().state(&added), Ok(PartState::Generated));
        assert_eq!(part().state(EDITED), Ok(PartState::Missing));
        assert_eq!(with_layer(&added, &part()).unwrap(), added, "idempotent");
        assert_eq!(without_layer(&added).unwrap(), EDITED);
        assert!(handlers(&added).next().is_none());
        // Another stack's part replaces this one's whole, and an edit of
        // it is told apart.
        let other = LayerPart::render("svc", "3.12", "x86_64").unwrap();
        let replaced = with_layer(&added, &other).unwrap();
        assert_eq!(other.state(&replaced), Ok(PartState::Generated));
        assert_eq!(without_layer(&replaced).unwrap(), EDITED);
        let edited = added.replace("RetentionPolicy: Delete", "RetentionPolicy: Retain");
        assert_eq!(part().state(&edited), Ok(PartState::Edited));
    }

    #[test]
    fn crlf_and_a_template_without_a_final_newline_keep_their_endings() {
        let crlf = EDITED.trim_end().replace('\n', "\r\n");
        let added = with_layer(&crlf, &part()).unwrap();
        assert!(!added.replace("\r\n", "").contains('\n'), "{added:?}");
        assert_eq!(part().state(&added), Ok(PartState::Generated));
        assert_eq!(without_layer(&added).unwrap(), format!("{crlf}\r\n"));
    }

    #[test]
    fn the_zip_named_in_a_comment_is_no_layer() {
        assert!(!names_layer_zip(
            "# ContentUri: target/dependencies.zip\nA: 1 # target/dependencies.zip\n"
        ));
        assert!(names_layer_zip(
            "      ContentUri: 'target/dependencies.zip'\n"
        ));
    }

    #[test]
    fn a_reference_to_the_layer_outside_its_part_is_found() {
        let mine = "Resources:\n  Mine:\n    Properties:\n      Layers: [!Ref DependenciesLayer]\n";
        let added = with_layer(
            &format!("Globals:\n  Function:\n    Timeout: 3\n{mine}"),
            &part(),
        )
        .unwrap();
        let without = without_layer(&added).unwrap();
        assert!(layer_referenced(&without));
        assert!(!layer_referenced(
            &without.replace("!Ref DependenciesLayer", "arn:x")
        ));
    }

    #[test]
    fn templates_that_cannot_take_the_layer_are_refused() {
        let cases = [
            (
                "Globals:\n  Function:\n    Timeout: 3\n",
                "has no `Resources:` section",
            ),
            (
                "Resources:\n  A: 1\n",
                "has no `Globals:` section with `Function:`",
            ),
            (
                "Globals:\n  Api:\n    Cors: x\nResources:\n  A: 1\n",
                "has no `Globals:` section with `Function:`",
            ),
            (
                "Globals:\n  Function: {Timeout: 3}\nResources:\n  A: 1\n",
                "writes `Globals: Function` on one line",
            ),
            (
                "Globals:\n  Function:\n    Layers:\n      - arn:x\nResources:\n  A: 1\n",
                "already has `Layers` in `Globals: Function`",
            ),
            (
                "Globals:\n  Function:\n    Timeout: 3\nResources:\n  DependenciesLayer:\n    Type: x\n",
                "already has `DependenciesLayer` in `Resources`",
            ),
            (
                "Globals:\n  Function:\n    # lambda-scaffold: begin dependencies-layer\n    Timeout: 3\nResources:\n  A: 1\n",
                "line without its pair",
            ),
        ];
        for (text, want) in cases {
            let err = with_layer(text, &part()).unwrap_err();
            assert!(err.message.contains(want), "{text:?}: {}", err.message);
            assert!(err.hint.is_some());
        }
    }
}
