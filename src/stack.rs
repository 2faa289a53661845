//! `template.yaml`, the project's AWS SAM template, edited as text one
//! handler's part at a time. Pure: callers read the file and plan the write.
//!
//! The template is the user's too (their resources, comments, key order and
//! line endings), so it is never parsed and printed again. A handler's part is
//! its function and log group in `Resources` and its function's name in
//! `Outputs`, each a block of lines between two marker comments:
//!
//! ```yaml
//!   # lambda-scaffold: begin producers.log_event (sha256 1f0c3a9e5d2b7c48)
//!   LogEventFunction:
//!     ...
//!   # lambda-scaffold: end producers.log_event
//! ```
//!
//! Adding a part replaces its blocks where they are, or adds them at the end
//! of their section, indented like the section's other keys and with the
//! file's line endings; removing one takes out exactly its blocks. Every edit
//! is computed whole before the caller writes anything, and refused (with
//! nothing written) when the template cannot take it: no `Resources` section,
//! a marker without its pair, a resource of the part's name already there.
//! The begin markers record the part's hash as written (of its text without
//! markers, indentation and `\r`, the first 64 bits of its sha256), so that a
//! part edited since is told apart from one the tool wrote, even by an older
//! version. The hash lives in the template rather than in the handler's
//! record under `.lambda-scaffold/generated/`: those records are
//! `sha256sum -c` files of whole files, and a part is no file.

use anyhow::Result;
use memchr::memmem;
use sha2::{Digest, Sha256};

use crate::error::UserError;
use crate::event_source::EventSource;
use crate::generated::file_hash;
use crate::lambdas::Lambda;
use crate::layout::Layout;
use crate::templates::{Vars, render_text};

/// The template's path from the project root.
pub const TEMPLATE_FILE: &str = "template.yaml";

/// How every marker comment starts.
const MARKER: &str = "# lambda-scaffold:";

/// The sections a part spans, in the order of its hash, and the template of
/// each section's piece (one per resource shape, under `templates/stack/`).
const SECTIONS: [(&str, &str); 2] = [
    ("Resources", "stack/function.yaml"),
    ("Outputs", "stack/output.yaml"),
];

/// One handler's part of the template, as the tool writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The AWS handler string, which names the part in its markers.
    handler: String,
    /// The lines of each of [`SECTIONS`], indented by two spaces, `\n`-ended.
    pieces: [String; 2],
}

/// What the template holds of a handler's part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartState {
    /// No block of it.
    Missing,
    /// Its blocks hold what the tool writes now, or what it wrote (the
    /// hash in the markers).
    Generated,
    /// Its blocks were changed since.
    Edited,
}

impl Part {
    /// The part of `lambda`, invoked by `event` in a project of `layout`,
    /// rendered from the templates of its resources: its trigger comes
    /// from the layout's shared resources where it has them (the stream, the
    /// HTTP API), otherwise from resources of its own in the part.
    pub fn render(lambda: &Lambda, event: EventSource, layout: Layout) -> Result<Part> {
        let mut vars = Vars::default();
        vars.set("name", lambda.name.as_str())
            .set("kind", lambda.kind.as_str())
            .set("event", event.as_str())
            .set("layout", layout.as_str())
            .set("handler", lambda.handler())
            .set("resource", lambda.function_resource());
        let [resources, outputs] = SECTIONS.map(|(_, template)| render_text(template, &vars));
        Ok(Part {
            handler: lambda.handler(),
            pieces: [resources?, outputs?],
        })
    }

    /// The AWS handler string of its function.
    pub fn handler(&self) -> &str {
        &self.handler
    }

    /// The hash its markers record: of its pieces as [`normalized`].
    fn hash(&self) -> String {
        hash_of(self.pieces.iter().map(|piece| normalized(piece)))
    }
}

/// How many hex digits of the sha256 a marker records.
const HASH_DIGITS: usize = 16;

fn hash_of(pieces: impl Iterator<Item = String>) -> String {
    let mut hash = file_hash(pieces.collect::<String>().as_bytes());
    hash.truncate(HASH_DIGITS);
    hash
}

/// A piece of YAML without its common indentation and `\r`s: what a part's
/// hash covers, so that re-indenting a section or converting line endings is
/// no edit.
fn normalized(piece: &str) -> String {
    let lines: Vec<&str> = piece.lines().map(|l| l.trim_end_matches('\r')).collect();
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent_of(l))
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| format!("{}\n", l.get(indent..).unwrap_or("").trim_end()))
        .collect()
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The template's lines (each with its line ending) and its top-level keys.
/// Only the lines of the part being written are looked at closely: finding
/// its markers, its keys and the places it goes costs a scan of the bytes
/// (memchr/memmem), never a value per line, so a template of 10,000 parts
/// costs little more than an empty one.
struct Parsed<'a> {
    text: &'a str,
    lines: Vec<&'a str>,
    newline: &'static str,
    sections: Vec<Section>,
}

/// A top-level key and its lines `header + 1 .. end`.
struct Section {
    name: String,
    header: usize,
    end: usize,
    /// The header holds a value on its own line (`Resources: {}`).
    inline: bool,
}

/// The marker lines of one block, by index, and the hash its begin marker
/// records.
struct Block {
    begin: usize,
    end: usize,
    recorded: Option<String>,
}

fn content(line: &str) -> &str {
    line.trim_end_matches(['\n', '\r'])
}

fn parse(text: &str) -> Parsed<'_> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut sections: Vec<Section> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let line = content(line);
        let top_level = !line.is_empty()
            && !line.starts_with([' ', '\t', '#', '-'])
            && !line.starts_with("...");
        let Some((key, value)) = line.split_once(':').filter(|_| top_level) else {
            continue;
        };
        if let Some(last) = sections.last_mut() {
            last.end = index;
        }
        let value = value.split(" #").next().unwrap_or_default().trim();
        sections.push(Section {
            name: key.trim().trim_matches(['"', '\'']).to_string(),
            header: index,
            end: lines.len(),
            inline: !value.is_empty(),
        });
    }
    Parsed {
        text,
        lines,
        newline,
        sections,
    }
}

/// The line of `text` around byte `at`, without its line ending.
fn line_around(text: &str, at: usize) -> &str {
    let bytes = text.as_bytes();
    let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &bytes[at..]).map_or(text.len(), |i| at + i);
    content(&text[start..end])
}

impl Parsed<'_> {
    /// The byte offset where line `index` starts (the text's length past
    /// the last line).
    fn offset(&self, index: usize) -> usize {
        self.lines.get(index).map_or(self.text.len(), |line| {
            line.as_ptr() as usize - self.text.as_ptr() as usize
        })
    }

    /// The index of the line holding byte `at`.
    fn line_at(&self, at: usize) -> usize {
        self.lines.partition_point(|line| {
            line.as_ptr() as usize - self.text.as_ptr() as usize + line.len() <= at
        })
    }

    /// The indexes of the lines that hold `needle`, in file order, each once.
    fn lines_with(&self, needle: &str) -> Vec<usize> {
        let mut found: Vec<usize> = memmem::find_iter(self.text.as_bytes(), needle.as_bytes())
            .map(|at| self.line_at(at))
            .collect();
        found.dedup();
        found
    }

    fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The indentation of the section's keys (two spaces when it has none).
    fn indent(&self, section: &Section) -> usize {
        (section.header + 1..section.end)
            .map(|i| content(self.lines[i]))
            .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map_or(2, indent_of)
    }

    /// The index after the section's last indented line: where a new block goes.
    fn insertion_point(&self, section: &Section) -> usize {
        (section.header + 1..section.end)
            .rev()
            .find(|&i| {
                let line = content(self.lines[i]);
                !line.trim().is_empty() && line.starts_with([' ', '\t'])
            })
            .map_or(section.header + 1, |i| i + 1)
    }

    /// The blocks of `handler`, in file order; a marker without its pair
    /// is refused.
    fn blocks(&self, handler: &str) -> Result<Vec<Block>, UserError> {
        let begin = format!("{MARKER} begin {handler}");
        let end = format!("{MARKER} end {handler}");
        let mut marked = self.lines_with(&begin);
        marked.extend(self.lines_with(&end));
        marked.sort_unstable();
        marked.dedup();
        let mut blocks = Vec::new();
        let mut open = None;
        for index in marked {
            let marker = content(self.lines[index]).trim();
            // `begin producers.a` must not match `begin producers.ab`.
            let after_begin = marker
                .strip_prefix(begin.as_str())
                .filter(|rest| rest.is_empty() || rest.starts_with(' '));
            if let Some(rest) = after_begin {
                let recorded = rest
                    .split_once("sha256 ")
                    .map(|(_, hash)| hash.chars().take_while(char::is_ascii_hexdigit).collect());
                if open.replace((index, recorded)).is_some() {
                    return Err(unpaired(handler, "begin"));
                }
            } else if marker == end {
                let Some((begin, recorded)) = open.take() else {
                    return Err(unpaired(handler, "end"));
                };
                blocks.push(Block {
                    begin,
                    end: index,
                    recorded,
                });
            }
        }
        match open {
            Some(_) => Err(unpaired(handler, "begin")),
            None => Ok(blocks),
        }
    }

    fn section_of(&self, line: usize) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| s.header < line && line < s.end)
    }

    /// Whether `section` has the key `key` outside the blocks of `handler`
    /// (only the lines that hold it are read).
    fn has_key(&self, section: &Section, blocks: &[Block], key: &str) -> bool {
        let indent = self.indent(section);
        self.lines_with(key)
            .into_iter()
            .filter(|i| section.header < *i && *i < section.end)
            .filter(|i| !blocks.iter().any(|b| b.begin <= *i && *i <= b.end))
            .map(|i| content(self.lines[i]))
            .filter(|l| indent_of(l) == indent && !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_once(':'))
            .any(|(found, _)| found.trim().trim_matches(['"', '\'']) == key)
    }
}

fn unpaired(handler: &str, which: &str) -> UserError {
    UserError::new(format!(
        "`{TEMPLATE_FILE}` has a `{MARKER} {which} {handler}` line without its pair"
    ))
    .hint("put back the missing marker comment (or remove both), then run the command again; nothing was changed")
}

/// What the template holds of `part`.
pub fn part_state(text: &str, part: &Part) -> Result<PartState, UserError> {
    let parsed = parse(text);
    let mut blocks = parsed.blocks(&part.handler)?;
    if blocks.is_empty() {
        return Ok(PartState::Missing);
    }
    // In the order of the part's sections, wherever the user put them.
    blocks.sort_by_key(|block| {
        let section = parsed.section_of(block.begin).map(|s| s.name.as_str());
        SECTIONS
            .iter()
            .position(|(name, _)| Some(*name) == section)
            .unwrap_or(SECTIONS.len())
    });
    let found = hash_of(
        blocks
            .iter()
            .map(|block| normalized(&parsed.lines[block.begin + 1..block.end].concat())),
    );
    Ok(
        if found == part.hash() || blocks.iter().all(|b| b.recorded.as_ref() == Some(&found)) {
            PartState::Generated
        } else {
            PartState::Edited
        },
    )
}

/// The template with `part` in it: its blocks replaced where they are, the
/// missing ones added at the end of their sections (`Outputs` is made when
/// the template has none).
pub fn with_part(text: &str, part: &Part) -> Result<String, UserError> {
    let parsed = parse(text);
    if !text_ends_with_newline(&parsed) {
        return with_part(&format!("{text}{}", parsed.newline), part);
    }
    let blocks = parsed.blocks(&part.handler)?;
    // (first line replaced, lines replaced, new text), applied last first.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for ((name, _), piece) in SECTIONS.iter().zip(&part.pieces) {
        let Some(section) = parsed.section(name) else {
            if *name == "Resources" {
                return Err(UserError::new(format!(
                    "`{TEMPLATE_FILE}` has no `Resources:` section to add `{}` to",
                    part.handler
                ))
                .hint("restore it, or move the file away and run `lambda-scaffold check --fix` to write a new one; nothing was changed"));
            }
            let mut text = format!("{name}:{}", parsed.newline);
            text.push_str(&wrapped(piece, part, 2, parsed.newline));
            edits.push((parsed.lines.len(), 0, text));
            continue;
        };
        if section.inline {
            return Err(UserError::new(format!(
                "`{TEMPLATE_FILE}` writes `{name}` on one line (flow style), which lambda-scaffold cannot edit"
            ))
            .hint(format!("write `{name}:` with one key a line below it, then run the command again; nothing was changed")));
        }
        let inside: Vec<&Block> = blocks
            .iter()
            .filter(|b| {
                parsed
                    .section_of(b.begin)
                    .is_some_and(|s| s.header == section.header)
            })
            .collect();
        if let Some(key) = keys(piece)
            .into_iter()
            .find(|key| parsed.has_key(section, &blocks, key))
        {
            return Err(UserError::new(format!(
                "`{TEMPLATE_FILE}` already has `{key}` in `{name}`, the name of `{}`'s part",
                part.handler
            ))
            .hint("rename that entry of the template, or choose another handler name; nothing was changed"));
        }
        match inside.first() {
            Some(block) => {
                let indent = indent_of(content(parsed.lines[block.begin]));
                edits.push((
                    block.begin,
                    block.end + 1 - block.begin,
                    wrapped(piece, part, indent, parsed.newline),
                ));
                for extra in &inside[1..] {
                    edits.push((extra.begin, extra.end + 1 - extra.begin, String::new()));
                }
            }
            None => {
                edits.push((
                    parsed.insertion_point(section),
                    0,
                    wrapped(piece, part, parsed.indent(section), parsed.newline),
                ));
            }
        }
    }
    Ok(apply_edits(&parsed, edits))
}

/// The template without the blocks of `handler` (unchanged when it has none).
pub fn without_part(text: &str, handler: &str) -> Result<String, UserError> {
    let parsed = parse(text);
    let edits = parsed
        .blocks(handler)?
        .iter()
        .map(|b| (b.begin, b.end + 1 - b.begin, String::new()))
        .collect();
    Ok(apply_edits(&parsed, edits))
}

/// The first resource of `part` that `text` (a template without the part)
/// still refers to outside comments (`!Ref X`, `!GetAtt X.Arn`, `${X}`):
/// removing the part would leave the template broken.
pub fn referenced(text: &str, part: &Part) -> Option<String> {
    let code: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .map(|line| line.split(" #").next().unwrap_or_default())
        .collect();
    let is_id_char = |c: char| c.is_ascii_alphanumeric();
    keys(&part.pieces[0]).into_iter().find(|key| {
        code.iter().any(|line| {
            line.match_indices(key.as_str()).any(|(at, _)| {
                let before = line[..at].chars().next_back();
                let after = line[at + key.len()..].chars().next();
                !before.is_some_and(is_id_char) && !after.is_some_and(is_id_char)
            })
        })
    })
}

/// How many resources CloudFormation will hold once the SAM transform has
/// expanded the template: each resource of `Resources`, plus what SAM adds
/// for a function (its role, a URL), for each of its
/// events (a rule or a subscription with its permission, a mapping, an API
/// permission) and for an implicit API. An estimate from the text, exact
/// for the templates the tool writes (tests/stack.rs compares it with
/// aws-sam-translator's output).
pub fn estimated_resources(text: &str) -> usize {
    let parsed = parse(text);
    let Some(section) = parsed.section("Resources") else {
        return 0;
    };
    let mut count = 0;
    let (mut implicit_rest_api, mut implicit_http_api, mut http_api) = (false, false, false);
    let mut previous = "";
    for line in &parsed.lines[section.header + 1..section.end] {
        let line = content(line).trim();
        // An IAM-authenticated URL needs no permission of its own.
        if line.starts_with("FunctionUrlConfig:") {
            count += 1;
        }
        // A mapping's on-failure destination is no resource.
        let destination = previous == "OnFailure:";
        previous = line;
        let Some(kind) = line.strip_prefix("Type:").map(str::trim) else {
            continue;
        };
        if destination {
            continue;
        }
        count += match kind {
            "AWS::Serverless::Function" => 2,
            "AWS::Serverless::HttpApi" => {
                http_api = true;
                2
            }
            "AWS::Serverless::Api" => 3,
            "Schedule" | "EventBridgeRule" | "SNS" => 2,
            "Api" => {
                implicit_rest_api = true;
                1
            }
            "HttpApi" => {
                implicit_http_api = true;
                1
            }
            _ => 1,
        };
    }
    // ServerlessRestApi with its deployment and stage; ServerlessHttpApi
    // with its stage (an event without ApiId uses it, when the template has
    // no HTTP API of its own).
    count
        + if implicit_rest_api { 3 } else { 0 }
        + if implicit_http_api && !http_api { 2 } else { 0 }
}

/// Every handler string a function of the template names (`Handler: X`).
pub fn handlers(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(handler_named)
        .map(str::to_string)
        .collect()
}

/// Whether a function of the template names `handler` (`Handler: X`), as
/// [`handlers`] would list it; only the lines that hold it are read.
pub fn names_handler(text: &str, handler: &str) -> bool {
    !handler.is_empty()
        && memmem::find_iter(text.as_bytes(), handler.as_bytes())
            .any(|at| handler_named(line_around(text, at)) == Some(handler))
}

/// The handler string of a `Handler: X` line.
fn handler_named(line: &str) -> Option<&str> {
    let value = line.trim().strip_prefix("Handler:")?;
    let value = value.split(" #").next().unwrap_or_default();
    Some(value.trim().trim_matches(['"', '\''])).filter(|value| !value.is_empty())
}

fn text_ends_with_newline(parsed: &Parsed<'_>) -> bool {
    parsed.lines.last().is_none_or(|l| l.ends_with('\n'))
}

/// The top-level keys of a piece.
fn keys(piece: &str) -> Vec<String> {
    piece
        .lines()
        .filter(|l| indent_of(l) == 2 && !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(key, _)| key.trim().to_string())
        .collect()
}

/// A piece between its markers, at `indent` spaces, with `newline` endings.
fn wrapped(piece: &str, part: &Part, indent: usize, newline: &str) -> String {
    let (pad, handler, hash) = (" ".repeat(indent), &part.handler, part.hash());
    let mut out = format!("{pad}{MARKER} begin {handler} (sha256 {hash}){newline}");
    for line in piece.lines() {
        if !line.trim().is_empty() {
            out.push_str(&pad);
            out.push_str(line.strip_prefix("  ").unwrap_or(line));
        }
        out.push_str(newline);
    }
    out.push_str(&format!("{pad}{MARKER} end {handler}{newline}"));
    out
}

/// Applies `(first line, lines replaced, new text)` edits that do not
/// overlap; two at one line land in the order given.
fn apply_edits(parsed: &Parsed<'_>, mut edits: Vec<(usize, usize, String)>) -> String {
    // Stable: two edits at one line keep the order given.
    edits.sort_by_key(|(at, ..)| *at);
    let added: usize = edits.iter().map(|(.., text)| text.len()).sum();
    let mut out = String::with_capacity(parsed.text.len() + added);
    let mut kept_from = 0;
    for (at, len, text) in edits {
        out.push_str(&parsed.text[kept_from..parsed.offset(at)]);
        out.push_str(&text);
        kept_from = parsed.offset(at + len);
    }
    out.push_str(&parsed.text[kept_from..]);
    out
}

/// The sha256 of a file's bytes, as [`crate::plan::IfExists::ReplaceIfUnchanged`] takes it.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Kind;
    use crate::names::HandlerName;

    fn lambda(kind: Kind, name: &str) -> Lambda {
        Lambda::new(kind, HandlerName::parse(name).unwrap().name)
    }

    fn part(kind: Kind, name: &str) -> Part {
        let layout = match kind {
            Kind::Handlers => Layout::WebStack,
            _ => Layout::LogCentric,
        };
        Part::render(&lambda(kind, name), EventSource::default_for(kind), layout).unwrap()
    }

    /// A template as a user may have edited it: comments everywhere, keys
    /// in another order, a resource of their own, four-space indentation.
    const EDITED: &str = "\
# my stack
Transform: AWS::Serverless-2016-10-31
Resources:
    # the stream
    LogStream:
        Type: AWS::Kinesis::Stream
    MyTable:   # mine
        Type: AWS::DynamoDB::Table

# what we export
Outputs:
    StreamName:
        Value: !Ref LogStream
Parameters:
    Stage:
        Type: String
";

    #[test]
    fn a_part_goes_at_the_end_of_its_sections_and_comes_out_whole() {
        let producer = part(Kind::Producers, "log_event");
        let added = with_part(EDITED, &producer).unwrap();
        // Every line of the user's stays, in order.
        let mut rest = added.lines();
        for line in EDITED.lines() {
            assert!(rest.any(|l| l == line), "lost `{line}` in:\n{added}");
        }
        let resources = added
            .find("    # lambda-scaffold: begin producers.log_event")
            .unwrap();
        assert!(added[..resources].contains("        Type: AWS::DynamoDB::Table\n"));
        assert!(added[resources..].starts_with(
            &format!("    # lambda-scaffold: begin producers.log_event (sha256 {})\n    LogEventFunction:\n      Type: AWS::Serverless::Function\n", producer.hash())
        ), "{added}");
        assert!(
            added.contains(
                &format!("        Value: !Ref LogStream\n    # lambda-scaffold: begin producers.log_event (sha256 {})\n    LogEventFunctionName:\n", producer.hash())
            ),
            "{added}"
        );
        assert_eq!(part_state(&added, &producer), Ok(PartState::Generated));
        assert_eq!(without_part(&added, "producers.log_event").unwrap(), EDITED);
        assert_eq!(handlers(&added), ["producers.log_event"]);
    }

    #[test]
    fn line_endings_are_the_files_own() {
        let crlf = EDITED.replace('\n', "\r\n");
        let consumer = part(Kind::Consumers, "log_sink");
        let added = with_part(&crlf, &consumer).unwrap();
        assert!(!added.replace("\r\n", "").contains('\n'), "{added:?}");
        assert_eq!(part_state(&added, &consumer), Ok(PartState::Generated));
        assert_eq!(without_part(&added, "consumers.log_sink").unwrap(), crlf);
    }

    #[test]
    fn a_part_replaced_stays_where_it_is_and_other_parts_are_untouched() {
        let a = part(Kind::Handlers, "a");
        let b = part(Kind::Handlers, "b");
        let both = with_part(&with_part(EDITED, &a).unwrap(), &b).unwrap();
        let edited = both.replace("Path: /a", "Path: /alpha");
        assert_eq!(part_state(&edited, &a), Ok(PartState::Edited));
        assert_eq!(with_part(&edited, &a).unwrap(), both);
        assert_eq!(part_state(&both, &b), Ok(PartState::Generated));
        assert_eq!(with_part(&both, &b).unwrap(), both, "idempotent");
        // A part an older version wrote differently is still the tool's:
        // its markers record what was written.
        let consumer = part(Kind::Consumers, "c");
        let older = with_part(EDITED, &consumer)
            .unwrap()
            .replace("MaximumRetryAttempts: 3", "MaximumRetryAttempts: 2");
        let written_by_older =
            older.replace(&consumer.hash(), &hash_of_blocks(&older, "consumers.c"));
        assert_ne!(written_by_older, older);
        assert_eq!(
            part_state(&written_by_older, &consumer),
            Ok(PartState::Generated)
        );
        let then_edited = written_by_older.replace("BatchSize: 100", "BatchSize: 10");
        assert_eq!(part_state(&then_edited, &consumer), Ok(PartState::Edited));
    }

    fn hash_of_blocks(text: &str, handler: &str) -> String {
        let parsed = parse(text);
        let blocks = parsed.blocks(handler).unwrap();
        hash_of(
            blocks
                .iter()
                .map(|b| normalized(&parsed.lines[b.begin + 1..b.end].concat())),
        )
    }

    #[test]
    fn a_template_without_outputs_gets_them_and_one_without_a_final_newline_is_fine() {
        let text = "Resources:\n  A:\n    Type: AWS::SNS::Topic";
        let added = with_part(text, &part(Kind::Producers, "p")).unwrap();
        assert!(added.starts_with("Resources:\n  A:\n    Type: AWS::SNS::Topic\n  # lambda-scaffold: begin producers.p (sha256 "), "{added}");
        assert!(
            added.contains(
                "end producers.p\nOutputs:\n  # lambda-scaffold: begin producers.p (sha256 "
            ),
            "{added}"
        );
        assert_eq!(
            without_part(&added, "producers.p").unwrap(),
            format!("{text}\nOutputs:\n")
        );
    }

    #[test]
    fn templates_it_cannot_edit_are_refused() {
        let p = part(Kind::Producers, "p");
        let cases = [
            ("Transform: x\n", "has no `Resources:` section"),
            ("Resources: {}\n", "on one line (flow style)"),
            (
                "Resources:\n  PFunction:\n    Type: AWS::SNS::Topic\n",
                "already has `PFunction` in `Resources`",
            ),
            (
                "Resources:\n  # lambda-scaffold: begin producers.p\n  A: 1\n",
                "`# lambda-scaffold: begin producers.p` line without its pair",
            ),
            (
                "Resources:\n  A: 1\n  # lambda-scaffold: end producers.p\n",
                "`# lambda-scaffold: end producers.p` line without its pair",
            ),
        ];
        for (text, want) in cases {
            let err = with_part(text, &p).unwrap_err();
            assert!(err.message.contains(want), "{text:?}: {}", err.message);
            assert!(err.hint.is_some());
        }
        assert!(without_part(cases[3].0, "producers.p").is_err());
    }

    #[test]
    fn a_resource_of_the_part_used_elsewhere_is_found_outside_comments() {
        let p = part(Kind::Producers, "p");
        let cases = [
            (
                "  Alarm:\n    Dimensions: [{Value: !Ref PFunction}]\n",
                Some("PFunction"),
            ),
            ("  X: !GetAtt PFunctionLogs.Arn\n", Some("PFunctionLogs")),
            ("  X: !Sub \"${PFunction}\"\n", Some("PFunction")),
            ("  # PFunction was slow\n  Y: 1 # see PFunction\n", None),
            ("  PFunctionOld: 1\n  XPFunction: 2\n", None),
        ];
        for (text, want) in cases {
            assert_eq!(referenced(text, &p).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn only_whole_markers_keys_and_handler_lines_count() {
        // Another part's name extends this one's; this one's key is part
        // of longer keys, a comment and a value: none of them is its.
        let a = part(Kind::Producers, "a");
        let text = with_part(
            "Resources:\r\n  AFunctionLogsCopy:\r\n    Value: AFunction # AFunction: x\r\n",
            &part(Kind::Producers, "ab"),
        )
        .unwrap();
        assert_eq!(part_state(&text, &a), Ok(PartState::Missing));
        let added = with_part(&text, &a).unwrap();
        assert_eq!(part_state(&added, &a), Ok(PartState::Generated));
        assert_eq!(without_part(&added, "producers.a").unwrap(), text);
        assert!(!names_handler(&text, "producers.a"));
        assert!(names_handler(&text, "producers.ab"));
        for (text, handler) in [(text.as_str(), "producers.a"), (&added, "producers.a")] {
            assert_eq!(
                names_handler(text, handler),
                handlers(text).iter().any(|h| h == handler)
            );
        }
        let taken = text.replacen(
            "Resources:\r\n",
            "Resources:\r\n  # AFunction:\r\n  'AFunction' :\r\n    Type: x\r\n",
            1,
        );
        let err = with_part(&taken, &a).unwrap_err();
        assert!(
            err.message.contains("already has `AFunction`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn handler_strings_are_read_with_quotes_and_comments() {
        let text = "  Handler: a.b\n      Handler: \"c.d\"  # web\n  NotHandler: x\n";
        assert_eq!(handlers(text), ["a.b", "c.d"]);
    }
}
