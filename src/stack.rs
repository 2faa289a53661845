//! `template.yaml`, the project's AWS SAM template, edited as text one
//! handler's part at a time. Pure: callers read the file and plan the write.
//!
//! The template is the user's too (their resources, comments, key order and
//! line endings), so it is never parsed and printed again. A handler's part is
//! its function, log group and trigger in `Resources`, one block of lines
//! between two marker comments:
//!
//! ```yaml
//!   # lambda-scaffold: begin producers.log_event (sha256 1f0c3a9e5d2b7c48)
//!   LogEventFunction:
//!     ...
//!   # lambda-scaffold: end producers.log_event
//! ```
//!
//! `Resources` is the template's last section, so that a new part is added
//! at the end of the file ([`appended`]): the caller appends those bytes, and
//! the cost of adding a handler does not grow with the template. When the
//! user put another section after it (or ends it with their own comments),
//! [`with_part`] adds the block at the end of `Resources` instead, or
//! replaces it where it is, indented like the section's other keys and with
//! the file's line endings; removing a part takes out exactly its blocks,
//! wherever they are (versions before this one also wrote a block into
//! `Outputs`). Every edit is computed whole before the caller writes
//! anything, and refused (with nothing written) when the template cannot take
//! it: no `Resources` section, a marker without its pair, markers crossing
//! or nesting with another part's, a resource of the part's name already
//! there. The begin markers record the part's hash as
//! written (of its text without markers, indentation and `\r`, the first 64
//! bits of its sha256), so that a part edited since is told apart from one
//! the tool wrote, even by an older version. The hash lives in the template
//! rather than in the handler's record under `.lambda-scaffold/generated/`:
//! those records are `sha256sum -c` files of whole files, and a part is no
//! file.
//!
//! Only the lines that matter are looked at closely: a handler's markers
//! and `Handler:` lines, and its resources' keys, are found with one memmem
//! search each, and whether `Resources` comes last with one pass over the
//! bytes after its header; no value is made per line, so a template of
//! 10,000 parts costs little more than an empty one. Only the edits in
//! place ([`with_part`], [`without_part`]) split the text into lines.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use anyhow::Result;
use memchr::memmem;
use sha2::{Digest, Sha256};

use crate::error::UserError;
use crate::event_source::EventSource;
use crate::generated::file_hash;
use crate::lambdas::Lambda;
use crate::layout::Layout;
use crate::templates::{Vars, render_text};

mod layer;
pub use layer::{
    LAYER_ZIP, LayerPart, layer_referenced, names_layer_zip, with_layer, without_layer,
};

/// The template's path from the project root.
pub const TEMPLATE_FILE: &str = "template.yaml";

/// The `Timeout` of `Globals: Function:` in the template `new-project`
/// writes, in seconds: what a function gets when the template says nothing
/// the tool can read for sure.
pub const GENERATED_TIMEOUT: u64 = 30;
/// The `MemorySize` of the generated template's `Globals`, in MB.
pub const GENERATED_MEMORY_MB: u64 = 256;

/// How every marker comment starts.
pub const MARKER: &str = "# lambda-scaffold:";

/// The section a part goes in, and the template of its block (one per
/// resource shape).
const SECTION: &str = "Resources";
const PIECE_TEMPLATE: &str = "stack/function.yaml";

/// The sections whose blocks a part's hash covers, in this order: earlier
/// versions wrote the function's name into `Outputs` too, and the hash
/// recorded in such a part's markers covers both blocks.
const HASHED_SECTIONS: [&str; 2] = [SECTION, "Outputs"];

/// One handler's part of the template, as the tool writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The AWS handler string, which names the part in its markers.
    handler: String,
    /// Its lines in [`SECTION`], indented by two spaces, `\n`-ended.
    piece: String,
}

/// What the template holds of a handler's part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartState {
    /// No block of it, and no function names its handler.
    Missing,
    /// No block of it, but a function names its handler (`Handler: X`): the
    /// user's own, or one whose markers they deleted to keep it.
    Theirs,
    /// Its blocks hold what the tool writes now, or what it wrote (the
    /// hash in the markers).
    Generated,
    /// Its blocks were changed since.
    Edited,
}

impl Part {
    /// The part of `lambda`, invoked by `event` in a project of `layout`,
    /// rendered from the template of its resources: its trigger comes
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
        Ok(Part {
            handler: lambda.handler(),
            piece: render_text(PIECE_TEMPLATE, &vars)?,
        })
    }

    /// The AWS handler string of its function.
    pub fn handler(&self) -> &str {
        &self.handler
    }

    /// The hash its markers record: of its piece as [`normalized`].
    fn hash(&self) -> String {
        hash_of(std::iter::once(normalized(&self.piece)))
    }

    /// Its keys in [`SECTION`] (the function first).
    fn keys(&self) -> Vec<String> {
        keys(&self.piece)
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

fn content(line: &str) -> &str {
    line.trim_end_matches(['\n', '\r'])
}

/// The line ending of the template: its first line's (`\n` for a template
/// of one line without one). Every line the tool adds gets it.
fn newline_of(text: &str) -> &'static str {
    match memchr::memchr(b'\n', text.as_bytes()) {
        Some(at) if text[..at].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}

/// The bytes of the line holding byte `at`: where it starts, where its
/// content ends (before `\r\n` or `\n`), where the next line starts.
fn line_bounds(text: &str, at: usize) -> (usize, usize, usize) {
    let bytes = text.as_bytes();
    let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
    let next = memchr::memchr(b'\n', &bytes[at..]).map_or(text.len(), |i| at + i + 1);
    let end = start + content(&text[start..next]).len();
    (start, end, next)
}

/// The key of a top-level line (`Name: ...` at the first column), and
/// whether a value follows it on the same line (`Resources: {}`).
fn top_level_key(line: &str) -> Option<(&str, bool)> {
    let top_level =
        !line.is_empty() && !line.starts_with([' ', '\t', '#', '-']) && !line.starts_with("...");
    let (key, value) = line.split_once(':').filter(|_| top_level)?;
    let value = value.split(" #").next().unwrap_or_default().trim();
    Some((key.trim().trim_matches(['"', '\'']), !value.is_empty()))
}

/// One block of a part: the bytes from the start of its begin marker's line
/// to the start of the line after its end marker, the lines between the
/// markers, and the hash its begin marker records.
struct Block {
    whole: Range<usize>,
    inner: Range<usize>,
    recorded: Option<String>,
}

/// What one search of the template for a handler string finds: the blocks
/// of its part, in file order, and whether a `Handler:` line names it.
struct Mentions {
    blocks: Vec<Block>,
    named: bool,
}

/// Every line of `text` that holds `handler`, read as a marker of its part or
/// a `Handler:` line; a marker without its pair is refused.
///
/// A part whose markers cross or nest with another's is refused too: its
/// block holds part of the other's, so no edit of it can leave the other
/// whole. Only a part that has blocks is looked at that way (one more pass
/// over the marker lines): adding a new handler costs no more.
fn mentions(text: &str, handler: &str) -> Result<Mentions, UserError> {
    let found = paired_mentions(text, handler).map_err(|which| unpaired(handler, which))?;
    if !found.blocks.is_empty()
        && let Some((outer, inner)) = broken_markers(text)
            .crossed
            .into_iter()
            .find(|(outer, inner)| outer == handler || inner == handler)
    {
        return Err(crossed(&outer, &inner));
    }
    Ok(found)
}

/// [`mentions`], or which marker (`begin` or `end`) lacks its pair.
fn paired_mentions(text: &str, handler: &str) -> Result<Mentions, &'static str> {
    let begin = format!("{MARKER} begin {handler}");
    let end = format!("{MARKER} end {handler}");
    let mut found = Mentions {
        blocks: Vec::new(),
        named: false,
    };
    let mut open: Option<(usize, usize, Option<String>)> = None;
    for (start, stop, next) in lines_holding(text, 0..text.len(), handler) {
        let line = text[start..stop].trim();
        // `begin producers.a` must not match `begin producers.ab`.
        let after_begin = line
            .strip_prefix(begin.as_str())
            .filter(|rest| rest.is_empty() || rest.starts_with(' '));
        if let Some(rest) = after_begin {
            let recorded = rest
                .split_once("sha256 ")
                .map(|(_, hash)| hash.chars().take_while(char::is_ascii_hexdigit).collect());
            if open.replace((start, next, recorded)).is_some() {
                return Err("begin");
            }
        } else if line == end {
            let Some((whole, inner, recorded)) = open.take() else {
                return Err("end");
            };
            found.blocks.push(Block {
                whole: whole..next,
                inner: inner..start,
                recorded,
            });
        } else if handler_named(line) == Some(handler) {
            found.named = true;
        }
    }
    match open {
        Some(_) => Err("begin"),
        None => Ok(found),
    }
}

/// The template's lines (each with its line ending) and its top-level keys,
/// for the edits in place.
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

fn parse(text: &str) -> Parsed<'_> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut sections: Vec<Section> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some((key, inline)) = top_level_key(content(line)) else {
            continue;
        };
        if let Some(last) = sections.last_mut() {
            last.end = index;
        }
        sections.push(Section {
            name: key.to_string(),
            header: index,
            end: lines.len(),
            inline,
        });
    }
    Parsed {
        text,
        lines,
        newline: newline_of(text),
        sections,
    }
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

    fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The indentation of the section's keys (two spaces when it has none).
    fn indent(&self, section: &Section) -> usize {
        section_indent(self.text, self.offset(section.header + 1))
    }

    /// The index after the section's last indented line: where a new block goes.
    fn insertion_point(&self, section: &Section) -> usize {
        (section.header + 1..section.end)
            .rev()
            .find(|&i| is_indented(content(self.lines[i])))
            .map_or(section.header + 1, |i| i + 1)
    }

    /// The section holding byte `at`.
    fn section_at(&self, at: usize) -> Option<&Section> {
        let line = self.line_at(at);
        self.sections
            .iter()
            .find(|s| s.header < line && line < s.end)
    }

    /// The bytes of `section`'s lines.
    fn span(&self, section: &Section) -> Range<usize> {
        self.offset(section.header + 1)..self.offset(section.end)
    }
}

/// A line the section's content goes on to: indented, not blank.
fn is_indented(line: &str) -> bool {
    !line.trim().is_empty() && line.starts_with([' ', '\t'])
}

/// The indentation of the first key in the lines from byte `from` on (two
/// spaces when there is none before the next top-level line).
fn section_indent(text: &str, from: usize) -> usize {
    text[from..]
        .lines()
        .map(content)
        .take_while(|l| top_level_key(l).is_none())
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map_or(2, indent_of)
}

/// The first of `keys` that the lines in `span` have as a key at `indent`
/// spaces outside `blocks` (only the lines holding their common start are
/// read: one search).
fn taken_key<'k>(
    text: &str,
    span: Range<usize>,
    indent: usize,
    blocks: &[Block],
    keys: &'k [String],
) -> Option<&'k String> {
    let prefix = common_prefix(keys);
    if prefix.is_empty() {
        return None;
    }
    for (start, stop, _) in lines_holding(text, span, prefix) {
        if blocks.iter().any(|b| b.whole.contains(&start)) {
            continue;
        }
        let line = &text[start..stop];
        if indent_of(line) != indent || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((found, _)) = line.split_once(':') else {
            continue;
        };
        let found = found.trim().trim_matches(['"', '\'']);
        if let Some(key) = keys.iter().find(|key| *key == found) {
            return Some(key);
        }
    }
    None
}

/// The longest start all of `keys` share (a part's keys all begin with its
/// function's name).
fn common_prefix(keys: &[String]) -> &str {
    let first = keys.first().map_or("", String::as_str);
    let len = keys.iter().fold(first.len(), |len, key| {
        first
            .bytes()
            .zip(key.bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count()
    });
    &first[..len]
}

fn unpaired(handler: &str, which: &str) -> UserError {
    UserError::new(format!(
        "`{TEMPLATE_FILE}` has a `{MARKER} {which} {handler}` line without its pair"
    ))
    .hint("put back the missing marker comment (or remove both), then run the command again; nothing was changed")
}

fn crossed(outer: &str, inner: &str) -> UserError {
    UserError::new(format!(
        "`{TEMPLATE_FILE}` has the part of `{inner}` beginning inside the part of `{outer}`: their `{MARKER}` lines cross or nest"
    ))
    .hint(format!("move the block of `{inner}`, with its two marker lines, out of the block of `{outer}`, then run the command again; nothing was changed"))
}

fn no_resources(part: &Part) -> UserError {
    UserError::new(format!(
        "`{TEMPLATE_FILE}` has no `Resources:` section to add `{}` to",
        part.handler
    ))
    .hint("restore it, or move the file away and run `lambda-scaffold check --fix` to write a new one; nothing was changed")
}

/// The refusal of a mapping (`name`) written on one line.
fn flow_style(name: &str) -> UserError {
    UserError::new(format!(
        "`{TEMPLATE_FILE}` writes `{name}` on one line (flow style), which lambda-scaffold cannot edit"
    ))
    .hint(format!("write `{name}:` with one key a line below it, then run the command again; nothing was changed"))
}

fn key_taken(key: &str, part: &Part) -> UserError {
    UserError::new(format!(
        "`{TEMPLATE_FILE}` already has `{key}` in `{SECTION}`, the name of `{}`'s part",
        part.handler
    ))
    .hint("rename that entry of the template, or choose another handler name; nothing was changed")
}

/// What the template holds of `part`: one search for its handler string.
pub fn part_state(text: &str, part: &Part) -> Result<PartState, UserError> {
    let found = mentions(text, &part.handler)?;
    if found.blocks.is_empty() {
        return Ok(if found.named {
            PartState::Theirs
        } else {
            PartState::Missing
        });
    }
    Ok(blocks_state(text, found.blocks, &part.hash()))
}

/// Whether `blocks` (of one part, at least one) hold what the tool writes
/// now (`expected`, the hash of its pieces) or what it wrote (the hash
/// their markers record), or were edited since.
fn blocks_state(text: &str, mut blocks: Vec<Block>, expected: &str) -> PartState {
    if blocks.len() > 1 {
        // In the order the hash covers them, wherever the user put them.
        let parsed = parse(text);
        blocks.sort_by_key(|block| {
            let section = parsed
                .section_at(block.whole.start)
                .map(|s| s.name.as_str());
            HASHED_SECTIONS
                .iter()
                .position(|name| Some(*name) == section)
                .unwrap_or(HASHED_SECTIONS.len())
        });
    }
    let found = hash_of(blocks.iter().map(|b| normalized(&text[b.inner.clone()])));
    if found == expected || blocks.iter().all(|b| b.recorded.as_ref() == Some(&found)) {
        PartState::Generated
    } else {
        PartState::Edited
    }
}

/// The bytes that add `part` at the end of `text`, when that is where
/// [`with_part`] would put it: `Resources` is the template's last top-level
/// key (and its only one), its last line is one of the section's (or its
/// header), and the text ends with a line ending. `None` otherwise: the
/// caller edits in place. `part` must be [`PartState::Missing`] in `text`;
/// a resource of its name already there is refused as [`with_part`] does.
///
/// The cost is a search for `Resources:` near the top, one pass over the
/// bytes after it for a line at the first column, and one search for the
/// part's function name: no line is split out, nothing is copied.
pub fn appended(text: &str, part: &Part) -> Result<Option<String>, UserError> {
    let bytes = text.as_bytes();
    if !text.ends_with('\n') {
        return Ok(None);
    }
    let header = format!("{SECTION}:");
    let Some(start) = (if text.starts_with(&header) {
        Some(0)
    } else {
        memmem::find(bytes, format!("\n{header}").as_bytes()).map(|at| at + 1)
    }) else {
        return Ok(None);
    };
    let (_, stop, body) = line_bounds(text, start);
    if top_level_key(&text[start..stop]) != Some((SECTION, false))
        || next_top_level(text, body).is_some()
    {
        return Ok(None);
    }
    let last = line_bounds(text, text.len() - 1);
    if last.0 != start && !is_indented(&text[last.0..last.1]) {
        return Ok(None);
    }
    let indent = section_indent(text, body);
    if let Some(key) = taken_key(text, body..text.len(), indent, &[], &part.keys()) {
        return Err(key_taken(key, part));
    }
    Ok(Some(wrapped(part, indent, newline_of(text))))
}

/// `text` with every one of `parts`, each as [`with_part`] would add it
/// (appended where [`appended`] allows, written in place otherwise). The
/// parts appended are read against `text` as it was before them, not
/// against each other: a part names only its own handler, so only their keys
/// can clash, which a set of them finds. Adding n parts to a template then
/// costs n reads of it, not n reads of a template growing by a part each.
pub fn with_parts(text: &str, parts: &[Part]) -> Result<String, UserError> {
    let mut text = text.to_string();
    let mut tail = String::new();
    let mut tail_keys = std::collections::HashSet::new();
    for part in parts {
        // Appended only when the template holds no block of it (one whose
        // `Handler:` line was deleted is written again in place).
        let block = match part_state(&text, part)? {
            PartState::Missing => appended(&text, part)?,
            _ => None,
        };
        match block {
            Some(block) => {
                if let Some(key) = part
                    .keys()
                    .into_iter()
                    .find(|key| !tail_keys.insert(key.clone()))
                {
                    return Err(key_taken(&key, part));
                }
                tail.push_str(&block);
            }
            None => {
                text.push_str(&std::mem::take(&mut tail));
                tail_keys.clear();
                text = with_part(&text, part)?;
            }
        }
    }
    text.push_str(&tail);
    Ok(text)
}

/// Where the first top-level line at or after byte `from` (a line's start)
/// starts: a key at the first column, or a document marker (`---`). Lines
/// are looked for 64 bytes at a time without branching, which the compiler
/// turns into vector instructions (two compares a byte: a line ending not
/// followed by a space, 2.5 times faster than testing the whole set); a
/// line ending followed by anything but an indentation, a comment or
/// another line ending is then read as [`parse`] reads it (`- x` at the
/// first column is no key).
fn next_top_level(text: &str, from: usize) -> Option<usize> {
    const CHUNK: usize = 64;
    let continues = |b: u8| matches!(b, b' ' | b'\t' | b'#' | b'\r' | b'\n');
    let is_top_level = |start: usize| {
        let line = content(&text[start..line_bounds(text, start).2]);
        top_level_key(line).is_some() || line.starts_with("---")
    };
    let bytes = text.as_bytes();
    if bytes.get(from).is_some_and(|b| !continues(*b)) && is_top_level(from) {
        return Some(from);
    }
    let mut at = from;
    while at + 1 < bytes.len() {
        let hit = match bytes[at..].first_chunk::<{ CHUNK + 1 }>() {
            Some(chunk) => {
                // Nearly every line of a template starts with a space: only
                // a line ending followed by anything else is read closer.
                let mut hit = false;
                for i in 0..CHUNK {
                    hit |= (chunk[i] == b'\n') & (chunk[i + 1] != b' ');
                }
                hit
            }
            None => true,
        };
        let end = (at + CHUNK).min(bytes.len() - 1);
        if hit {
            for i in at..end {
                if bytes[i] == b'\n' && !continues(bytes[i + 1]) && is_top_level(i + 1) {
                    return Some(i + 1);
                }
            }
        }
        at = end;
    }
    None
}

/// The bytes of the lines of top-level section `name` (after its header),
/// found without splitting the text into lines.
fn section_span(text: &str, name: &str) -> Option<Range<usize>> {
    let mut at = next_top_level(text, 0)?;
    loop {
        let (_, stop, body) = line_bounds(text, at);
        let next = next_top_level(text, body);
        if top_level_key(&text[at..stop]).is_some_and(|(key, _)| key == name) {
            return Some(body..next.unwrap_or(text.len()));
        }
        at = next?;
    }
}

/// The template with `part` in it: its block replaced where it is, or added
/// at the end of `Resources`; blocks of the part elsewhere (the `Outputs`
/// block of earlier versions) are taken out.
pub fn with_part(text: &str, part: &Part) -> Result<String, UserError> {
    if !text.is_empty() && !text.ends_with('\n') {
        return with_part(&format!("{text}{}", newline_of(text)), part);
    }
    let blocks = mentions(text, &part.handler)?.blocks;
    let parsed = parse(text);
    let section = parsed.section(SECTION).ok_or_else(|| no_resources(part))?;
    if section.inline {
        return Err(flow_style(SECTION));
    }
    let indent = parsed.indent(section);
    if let Some(key) = taken_key(text, parsed.span(section), indent, &blocks, &part.keys()) {
        return Err(key_taken(key, part));
    }
    let span = parsed.span(section);
    let (inside, elsewhere): (Vec<&Block>, Vec<&Block>) =
        blocks.iter().partition(|b| span.contains(&b.whole.start));
    // (bytes replaced, new text), applied in order.
    let mut edits: Vec<(Range<usize>, String)> = elsewhere
        .iter()
        .chain(inside.iter().skip(1))
        .map(|b| (b.whole.clone(), String::new()))
        .collect();
    match inside.first() {
        Some(block) => {
            let marker_indent = indent_of(&text[block.whole.start..block.inner.start]);
            edits.push((
                block.whole.clone(),
                wrapped(part, marker_indent, parsed.newline),
            ));
        }
        None => {
            let at = parsed.offset(parsed.insertion_point(section));
            edits.push((at..at, wrapped(part, indent, parsed.newline)));
        }
    }
    Ok(apply_edits(text, edits))
}

/// The template without the blocks of `handler`, wherever they are
/// (unchanged when it has none).
pub fn without_part(text: &str, handler: &str) -> Result<String, UserError> {
    let edits = mentions(text, handler)?
        .blocks
        .into_iter()
        .map(|b| (b.whole, String::new()))
        .collect();
    Ok(apply_edits(text, edits))
}

/// The first resource of `part` that `text` (a template without the part)
/// still refers to outside comments (`!Ref X`, `!GetAtt X.Arn`, `${X}`):
/// removing the part would leave the template broken.
pub fn referenced(text: &str, part: &Part) -> Option<String> {
    referenced_key(text, part.keys())
}

/// The first of `keys` that `text` refers to outside comments.
fn referenced_key(text: &str, keys: Vec<String>) -> Option<String> {
    let code: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .map(|line| line.split(" #").next().unwrap_or_default())
        .collect();
    let is_id_char = |c: char| c.is_ascii_alphanumeric();
    keys.into_iter().find(|key| {
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
/// for a function (its role unless it has one, a URL, the config of its asynchronous
/// invocations), for each of its events (a rule or a subscription with its
/// permission, a mapping, an API permission) and for an implicit API. An estimate from the text, exact
/// for the templates the tool writes (tests/stack.rs compares it with
/// aws-sam-translator's output).
pub fn estimated_resources(text: &str) -> usize {
    let Some(span) = section_span(text, SECTION) else {
        return 0;
    };
    let trimmed = |(start, stop, _): (usize, usize, usize)| text[start..stop].trim();
    let keys = |key: &str| {
        lines_holding(text, span.clone(), key)
            .filter(|line| trimmed(*line).starts_with(key))
            .count()
    };
    // An IAM-authenticated URL needs no permission of its own; the config of
    // asynchronous invocations is one resource. A function given a `Role`
    // gets none from SAM (the role is a resource of the template).
    let mut count = keys("FunctionUrlConfig:") + keys("EventInvokeConfig:");
    let own_roles = keys("Role:");
    let (mut implicit_rest_api, mut implicit_http_api, mut http_api) = (false, false, false);
    for line in lines_holding(text, span, "Type:") {
        let Some(kind) = trimmed(line).strip_prefix("Type:").map(str::trim) else {
            continue;
        };
        // A mapping's on-failure destination is no resource.
        if line.0 > 0 && trimmed(line_bounds(text, line.0 - 1)) == "OnFailure:" {
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
    count.saturating_sub(own_roles)
        + if implicit_rest_api { 3 } else { 0 }
        + if implicit_http_api && !http_api { 2 } else { 0 }
}

/// What is wrong with the marker comments of a template, as `add-handler`
/// and `remove-handler` would find it editing each part.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrokenMarkers {
    /// The marker without its pair of each handler whose markers are
    /// broken, as `(handler, "begin" or "end")`, by handler.
    pub unpaired: Vec<(String, &'static str)>,
    /// Two parts whose markers cross or nest (`begin A`, `begin B`, `end A`,
    /// `end B`, or `B` inside `A`), as `(A, B)`, each pair once, in the
    /// order their second part begins; parts with an unpaired marker aside.
    pub crossed: Vec<(String, String)>,
}

/// The marker lines of `text`, in order: whether each is a begin, and the
/// part it names.
fn marker_lines(text: &str) -> impl Iterator<Item = (bool, &str)> {
    lines_holding(text, 0..text.len(), MARKER).filter_map(|(start, stop, _)| {
        let rest = text[start..stop].trim().strip_prefix(MARKER)?.trim_start();
        let (is_begin, after) = match (rest.strip_prefix("begin "), rest.strip_prefix("end ")) {
            (Some(after), _) => (true, after),
            (None, Some(after)) => (false, after),
            (None, None) => return None,
        };
        Some((is_begin, after.split_whitespace().next()?))
    })
}

/// The [`BrokenMarkers`] of `text`: one pass over its marker lines finds the
/// parts whose begins and ends do not alternate, each then read as the
/// edits read it ([`mentions`]), and the parts open when another begins or
/// ends (a stack of the open ones).
pub fn broken_markers(text: &str) -> BrokenMarkers {
    // Whether each handler's last marker was a begin, and whether its
    // markers ever failed to alternate.
    let mut state: HashMap<&str, (bool, bool)> = HashMap::new();
    let mut open: Vec<&str> = Vec::new();
    let mut crossed: Vec<(&str, &str)> = Vec::new();
    for (is_begin, handler) in marker_lines(text) {
        let (was_open, broken) = state.entry(handler).or_insert((false, false));
        *broken |= *was_open == is_begin;
        *was_open = is_begin;
        // A part that begins inside another is named with the one open
        // last: every part in a crossing or a nest begins inside another or
        // is the last open when one does, so each is named, and the pairs
        // are at most as many as the parts (however deep the nest).
        if is_begin {
            if let Some(outer) = open.last().filter(|outer| **outer != handler) {
                crossed.push((outer, handler));
            }
            open.push(handler);
        } else if let Some(at) = open.iter().rposition(|o| *o == handler) {
            open.remove(at);
        }
    }
    let mut broken: Vec<&str> = state
        .into_iter()
        .filter(|(_, (open, broken))| *open || *broken)
        .map(|(handler, _)| handler)
        .collect();
    broken.sort_unstable();
    let unpaired: Vec<(String, &'static str)> = broken
        .into_iter()
        .filter_map(|handler| {
            let which = paired_mentions(text, handler).err()?;
            Some((handler.to_string(), which))
        })
        .collect();
    let unpaired_handlers: HashSet<&str> = unpaired.iter().map(|(h, _)| h.as_str()).collect();
    let mut seen = HashSet::new();
    let pairs = crossed
        .into_iter()
        .filter(|(outer, inner)| {
            !unpaired_handlers.contains(outer) && !unpaired_handlers.contains(inner)
        })
        .filter(|pair| seen.insert(*pair))
        .map(|(outer, inner)| (outer.to_string(), inner.to_string()))
        .collect();
    BrokenMarkers {
        unpaired,
        crossed: pairs,
    }
}

/// What the template says of a function's setting (`Timeout`, `MemorySize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionSetting {
    /// Its value: its function's, else `Globals: Function:`'s.
    Set(u64),
    /// Neither sets one: the function gets Lambda's default.
    Unset,
    /// The text does not tell for sure: no function or several name the
    /// handler, its properties are not a block under `Properties:`, the
    /// value is no whole number (`!Ref Seconds`), or `Globals` is not
    /// written in blocks.
    Unclear,
}

/// The whole-number setting `key` (`Timeout`, `MemorySize`) the function of
/// `handler` gets from the template, read strictly (see [`FunctionSetting`]).
pub fn function_setting(text: &str, handler: &str, key: &str) -> FunctionSetting {
    read_setting(text, handler, key).unwrap_or(FunctionSetting::Unclear)
}

/// [`function_setting`], `None` when unclear.
fn read_setting(text: &str, handler: &str, key: &str) -> Option<FunctionSetting> {
    let mut named = lines_holding(text, 0..text.len(), handler)
        .filter(|(start, stop, _)| handler_named(&text[*start..*stop]) == Some(handler));
    let (start, _, _) = named.next()?;
    if named.next().is_some() {
        return None;
    }
    let parsed = parse(text);
    let lines = &parsed.lines;
    let at = parsed.line_at(start);
    let indent = indent_of(lines[at]);
    let header = (0..at)
        .rev()
        .find(|&i| is_key_line(lines[i]) && indent_of(lines[i]) < indent)?;
    if key_of(lines[header]) != Some(("Properties", "")) {
        return None;
    }
    if let Some(found) = block_value(&lines[header + 1..], indent, key) {
        return found.map(FunctionSetting::Set);
    }
    // A `Globals` in flow style does not tell for sure.
    let Some(function) = globals_function(&parsed).ok()? else {
        return Some(FunctionSetting::Unset);
    };
    let body: Vec<&str> = text[function.span].split_inclusive('\n').collect();
    match block_value(&body, function.indent, key) {
        Some(found) => found.map(FunctionSetting::Set),
        None => Some(FunctionSetting::Unset),
    }
}

/// The `Function:` mapping of `Globals`: the bytes of its lines, the
/// indentation of its keys and the byte where a key goes after them.
struct Mapping {
    span: Range<usize>,
    indent: usize,
    insertion_point: usize,
}

/// The template's `Globals: Function:` mapping, `None` when it has none; a
/// flow-style one is refused (no edit or reading of it is safe).
fn globals_function(parsed: &Parsed<'_>) -> Result<Option<Mapping>, UserError> {
    let Some(globals) = parsed.section("Globals") else {
        return Ok(None);
    };
    if globals.inline {
        return Err(flow_style("Globals"));
    }
    let outer = parsed.indent(globals);
    let line = |index: usize| content(parsed.lines[index]);
    let is_key = |index: usize| is_key_line(line(index));
    let header = (globals.header + 1..globals.end).find(|&index| {
        is_key(index)
            && indent_of(line(index)) == outer
            && top_level_key(&line(index)[outer..]).is_some_and(|(key, _)| key == "Function")
    });
    let Some(header) = header else {
        return Ok(None);
    };
    if top_level_key(&line(header)[outer..]).is_some_and(|(_, inline)| inline) {
        return Err(flow_style("Globals: Function"));
    }
    let end = (header + 1..globals.end)
        .find(|&index| is_key(index) && indent_of(line(index)) <= outer)
        .unwrap_or(globals.end);
    let indent = (header + 1..end)
        .find(|&index| is_key(index))
        .map_or(outer + 2, |index| indent_of(line(index)));
    let insertion_line = (header + 1..end)
        .rev()
        .find(|&index| !line(index).trim().is_empty() && indent_of(line(index)) > outer)
        .map_or(header + 1, |index| index + 1);
    Ok(Some(Mapping {
        span: parsed.offset(header + 1)..parsed.offset(end),
        indent,
        insertion_point: parsed.offset(insertion_line),
    }))
}

/// A line holding a key or an item: neither blank nor a comment.
fn is_key_line(line: &str) -> bool {
    !line.trim().is_empty() && !line.trim_start().starts_with('#')
}

/// The key of a YAML line and what follows its colon (comment aside).
fn key_of(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.trim().split_once(':')?;
    let value = value.split(" #").next().unwrap_or_default().trim();
    Some((key.trim().trim_matches(['"', '\'']), value))
}

/// The index among `lines` and the value (comment aside) of `key` among
/// the keys at `indent` of the block they start, which ends at the first
/// key line indented less.
fn block_value_at<'a>(lines: &[&'a str], indent: usize, key: &str) -> Option<(usize, &'a str)> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, line)| is_key_line(line))
        .take_while(|(_, line)| indent_of(line) >= indent)
        .filter(|(_, line)| indent_of(line) == indent)
        .find_map(|(at, line)| {
            let (found, value) = key_of(line)?;
            (found == key).then_some((at, value))
        })
}

/// The whole number `key` holds among the keys at `indent` of the block
/// `lines` start ([`block_value_at`]): `None` without that key,
/// `Some(None)` when its value is no whole number.
fn block_value(lines: &[&str], indent: usize, key: &str) -> Option<Option<u64>> {
    let (_, value) = block_value_at(lines, indent, key)?;
    Some(value.parse().ok())
}

/// Every handler string a function of the template names (`Handler: X`).
pub fn handlers(text: &str) -> impl Iterator<Item = &str> {
    lines_holding(text, 0..text.len(), "Handler:")
        .filter_map(|(start, stop, _)| handler_named(&text[start..stop]))
}

/// The lines in `span` of `text` that hold `needle`, each once, as
/// [`line_bounds`] gives them: one search, no line split out.
fn lines_holding<'a>(
    text: &'a str,
    span: Range<usize>,
    needle: &'a str,
) -> impl Iterator<Item = (usize, usize, usize)> + 'a {
    let mut after = 0;
    memmem::find_iter(&text.as_bytes()[span.clone()], needle.as_bytes()).filter_map(move |at| {
        let at = span.start + at;
        (at >= after).then(|| {
            let line = line_bounds(text, at);
            after = line.2;
            line
        })
    })
}

/// The handler string of a `Handler: X` line.
fn handler_named(line: &str) -> Option<&str> {
    let value = line.trim().strip_prefix("Handler:")?;
    let value = value.split(" #").next().unwrap_or_default();
    Some(value.trim().trim_matches(['"', '\''])).filter(|value| !value.is_empty())
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

/// A part's piece between its markers, at `indent` spaces, with `newline`
/// endings.
fn wrapped(part: &Part, indent: usize, newline: &str) -> String {
    marked(&part.handler, &part.hash(), &part.piece, indent, newline)
}

/// `piece` between the markers of the part `name` (whose `hash` the begin
/// marker records), at `indent` spaces, with `newline` endings.
fn marked(name: &str, hash: &str, piece: &str, indent: usize, newline: &str) -> String {
    let pad = " ".repeat(indent);
    let mut out = format!("{pad}{MARKER} begin {name} (sha256 {hash}){newline}");
    for line in piece.lines() {
        if !line.trim().is_empty() {
            out.push_str(&pad);
            out.push_str(line.strip_prefix("  ").unwrap_or(line));
        }
        out.push_str(newline);
    }
    out.push_str(&format!("{pad}{MARKER} end {name}{newline}"));
    out
}

/// Applies `(bytes replaced, new text)` edits that do not overlap; two at
/// one place land in the order given.
fn apply_edits(text: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    // Stable: two edits at one place keep the order given.
    edits.sort_by_key(|(at, _)| at.start);
    let added: usize = edits.iter().map(|(_, new)| new.len()).sum();
    let mut out = String::with_capacity(text.len() + added);
    let mut kept_from = 0;
    for (at, new) in edits {
        out.push_str(&text[kept_from..at.start]);
        out.push_str(&new);
        kept_from = at.end;
    }
    out.push_str(&text[kept_from..]);
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

    /// Parts added together give the template adding them one by one
    /// gives, appended or in place, and a name two of them would take is
    /// refused as it is one by one.
    #[test]
    fn parts_added_together_are_the_parts_added_one_by_one() {
        let last = "Transform: AWS::Serverless-2016-10-31\nResources:\n  LogStream:\n    Type: AWS::Kinesis::Stream\n";
        let parts = [
            part(Kind::Producers, "a"),
            part(Kind::Consumers, "b"),
            part(Kind::Producers, "c"),
        ];
        for text in [last, EDITED] {
            let one_by_one = parts.iter().fold(text.to_string(), |text, part| {
                with_part(&text, part).unwrap()
            });
            assert_eq!(with_parts(text, &parts).unwrap(), one_by_one, "{text}");
        }
        let clashing = [part(Kind::Producers, "a1"), part(Kind::Consumers, "a_1")];
        let one_by_one = with_part(&with_part(last, &clashing[0]).unwrap(), &clashing[1]);
        assert_eq!(with_parts(last, &clashing), one_by_one);
        assert!(
            one_by_one
                .unwrap_err()
                .message
                .contains("already has `A1Function`")
        );
    }

    #[test]
    fn a_part_goes_at_the_end_of_resources_and_comes_out_whole() {
        let producer = part(Kind::Producers, "log_event");
        let added = with_part(EDITED, &producer).unwrap();
        // Every line of the user's stays, in order.
        let mut rest = added.lines();
        for line in EDITED.lines() {
            assert!(rest.any(|l| l == line), "lost `{line}` in:\n{added}");
        }
        assert!(added.contains(
            &format!("        Type: AWS::DynamoDB::Table\n    # lambda-scaffold: begin producers.log_event (sha256 {})\n    LogEventFunction:\n      Type: AWS::Serverless::Function\n", producer.hash())
        ), "{added}");
        assert_eq!(added.matches("# lambda-scaffold: begin").count(), 1);
        assert_eq!(part_state(&added, &producer), Ok(PartState::Generated));
        assert_eq!(without_part(&added, "producers.log_event").unwrap(), EDITED);
        assert_eq!(
            handlers(&added).collect::<Vec<_>>(),
            ["producers.log_event"]
        );
        // Outputs and Parameters come after Resources: no appending.
        assert_eq!(appended(EDITED, &producer), Ok(None));
    }

    /// The shape `new-project` writes: `Resources` last.
    const RESOURCES_LAST: &str = "\
Transform: AWS::Serverless-2016-10-31
Outputs:
  StreamName:
    Value: !Ref LogStream
Resources:
  # the stream
  LogStream:
    Type: AWS::Kinesis::Stream
";

    #[test]
    fn with_resources_last_a_part_is_appended_as_with_part_would_add_it() {
        let (a, b) = (part(Kind::Consumers, "a"), part(Kind::Producers, "b"));
        let mut text = RESOURCES_LAST.to_string();
        for p in [&a, &b] {
            let block = appended(&text, p).unwrap().expect("appended");
            let added = format!("{text}{block}");
            assert_eq!(added, with_part(&text, p).unwrap());
            assert_eq!(part_state(&added, p), Ok(PartState::Generated));
            text = added;
        }
        assert_eq!(
            without_part(&without_part(&text, "producers.b").unwrap(), "consumers.a").unwrap(),
            RESOURCES_LAST
        );
        let crlf = RESOURCES_LAST.replace('\n', "\r\n");
        let block = appended(&crlf, &a).unwrap().unwrap();
        assert_eq!(format!("{crlf}{block}"), with_part(&crlf, &a).unwrap());
        assert!(!block.replace("\r\n", "").contains('\n'), "{block:?}");
        // An empty Resources section, four-space indentation.
        let empty = "Outputs: {}\nResources:\n";
        assert_eq!(
            format!("{empty}{}", appended(empty, &a).unwrap().unwrap()),
            with_part(empty, &a).unwrap()
        );
        let four = RESOURCES_LAST.replace("\n  ", "\n    ");
        let block = appended(&four, &a).unwrap().unwrap();
        assert!(
            block.starts_with("    # lambda-scaffold: begin consumers.a"),
            "{block}"
        );
        assert_eq!(format!("{four}{block}"), with_part(&four, &a).unwrap());
    }

    #[test]
    fn a_template_that_does_not_end_in_resources_is_edited_in_place() {
        let p = part(Kind::Producers, "p");
        let moved = format!("{RESOURCES_LAST}Outputs2:\n  X:\n    Value: 1\n");
        let cases = [
            // Another section after it, a first-column comment or a blank
            // line at the end (the part goes before them), no final newline.
            moved.as_str(),
            &format!("{RESOURCES_LAST}# the end\n"),
            &format!("{RESOURCES_LAST}\n"),
            RESOURCES_LAST.trim_end(),
            // A section named like it, quoted: not found by the search.
            &RESOURCES_LAST.replace("Resources:", "\"Resources\":"),
        ];
        for text in cases {
            assert_eq!(appended(text, &p), Ok(None), "{text}");
            let added = with_part(text, &p).unwrap();
            assert_eq!(part_state(&added, &p), Ok(PartState::Generated));
        }
        let added = with_part(&moved, &p).unwrap();
        assert!(
            added
                .ends_with("  # lambda-scaffold: end producers.p\nOutputs2:\n  X:\n    Value: 1\n"),
            "{added}"
        );
        // A document marker or a list item at the first column is no section.
        let list = format!("{RESOURCES_LAST}- x\n  Y: 1\n");
        assert_eq!(
            format!("{list}{}", appended(&list, &p).unwrap().unwrap()),
            with_part(&list, &p).unwrap()
        );
        let second = format!("{RESOURCES_LAST}---\nResources:\n  Z: 1\n");
        assert_eq!(appended(&second, &p), Ok(None));
    }

    #[test]
    fn a_part_with_an_outputs_block_of_earlier_versions_is_still_the_tools() {
        let p = part(Kind::Producers, "p");
        let output = "  PFunctionName:\n    Value: !Ref PFunction\n";
        let hash = hash_of([normalized(&p.piece), normalized(output)].into_iter());
        let older = format!(
            "Resources:\n{}Outputs:\n  # lambda-scaffold: begin producers.p (sha256 {hash})\n{output}  # lambda-scaffold: end producers.p\n",
            wrapped(&p, 2, "\n").replace(&p.hash(), &hash)
        );
        assert_eq!(part_state(&older, &p), Ok(PartState::Generated));
        assert_eq!(
            part_state(
                &older.replace("!Ref PFunction", "!GetAtt PFunction.Arn"),
                &p
            ),
            Ok(PartState::Edited)
        );
        // Written again, it loses its output; removed, both blocks go.
        let rewritten = with_part(&older, &p).unwrap();
        assert_eq!(
            rewritten,
            format!("Resources:\n{}Outputs:\n", wrapped(&p, 2, "\n"))
        );
        assert_eq!(part_state(&rewritten, &p), Ok(PartState::Generated));
        assert_eq!(
            without_part(&older, "producers.p").unwrap(),
            "Resources:\nOutputs:\n"
        );
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
        let blocks = mentions(text, handler).unwrap().blocks;
        hash_of(blocks.iter().map(|b| normalized(&text[b.inner.clone()])))
    }

    #[test]
    fn a_template_without_a_final_newline_is_fine() {
        let text = "Resources:\n  A:\n    Type: AWS::SNS::Topic";
        let added = with_part(text, &part(Kind::Producers, "p")).unwrap();
        assert!(added.starts_with("Resources:\n  A:\n    Type: AWS::SNS::Topic\n  # lambda-scaffold: begin producers.p (sha256 "), "{added}");
        assert!(
            added.ends_with("  # lambda-scaffold: end producers.p\n"),
            "{added}"
        );
        assert_eq!(
            without_part(&added, "producers.p").unwrap(),
            format!("{text}\n")
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
        // Appending refuses a resource of the part's name as well.
        let err = appended(cases[2].0, &p).unwrap_err();
        assert!(err.message.contains(cases[2].1), "{}", err.message);
        assert!(without_part(cases[3].0, "producers.p").is_err());
    }

    #[test]
    fn the_markers_without_their_pair_are_those_the_edits_refuse() {
        let whole = "Resources:\n  # lambda-scaffold: begin producers.p (sha256 00)\n  A: 1\n  \
                     # lambda-scaffold: end producers.p\n";
        assert_eq!(broken_markers(whole), BrokenMarkers::default());
        let text = format!(
            "{whole}  # lambda-scaffold: begin consumers.a\n  # lambda-scaffold: begin consumers.a\n  \
             # lambda-scaffold: end consumers.a\n  # lambda-scaffold: end consumers.b\n  \
             # lambda-scaffold: begin consumers.c (sha256 11)\n"
        );
        let found = broken_markers(&text).unpaired;
        assert_eq!(
            found,
            [
                ("consumers.a".to_string(), "begin"),
                ("consumers.b".to_string(), "end"),
                ("consumers.c".to_string(), "begin"),
            ]
        );
        for (handler, which) in found {
            let err = without_part(&text, &handler).unwrap_err();
            assert!(
                err.message.contains(&format!("{which} {handler}`")),
                "{}",
                err.message
            );
        }
    }

    /// Parts whose markers cross or nest are named in pairs, and each edit
    /// of either part is refused; a part beside them stays editable.
    #[test]
    fn the_parts_whose_markers_cross_or_nest_are_those_the_edits_refuse() {
        let (a, b, c) = (
            part(Kind::Producers, "a"),
            part(Kind::Producers, "b"),
            part(Kind::Producers, "c"),
        );
        let mut text = "Resources:\n".to_string();
        for p in [&a, &b, &c] {
            text = with_part(&text, p).unwrap();
        }
        assert_eq!(broken_markers(&text), BrokenMarkers::default());
        let end = |p: &Part| format!("  {MARKER} end {}\n", p.handler());
        let begin_b = text.find(&format!("  {MARKER} begin producers.b")).unwrap();
        // `end a` moved after `begin b`: crossing; after `end b`: nesting.
        let without_end_a = text.replacen(&end(&a), "", 1);
        let crossing = {
            let at = begin_b - end(&a).len();
            let line_end = at + without_end_a[at..].find('\n').unwrap() + 1;
            format!(
                "{}{}{}",
                &without_end_a[..line_end],
                end(&a),
                &without_end_a[line_end..]
            )
        };
        let nested = without_end_a.replacen(&end(&b), &format!("{}{}", end(&b), end(&a)), 1);
        for (what, broken) in [("crossing", crossing), ("nested", nested)] {
            assert_eq!(
                broken_markers(&broken),
                BrokenMarkers {
                    unpaired: vec![],
                    crossed: vec![("producers.a".into(), "producers.b".into())],
                },
                "{what}:\n{broken}"
            );
            for p in [&a, &b] {
                let message = "`template.yaml` has the part of `producers.b` beginning inside the part of `producers.a`";
                for err in [
                    part_state(&broken, p).unwrap_err(),
                    with_part(&broken, p).unwrap_err(),
                    without_part(&broken, p.handler()).unwrap_err(),
                ] {
                    assert!(err.message.starts_with(message), "{what}: {}", err.message);
                }
            }
            assert_eq!(part_state(&broken, &c), Ok(PartState::Generated), "{what}");
            let without_c = without_part(&broken, "producers.c").unwrap();
            assert_eq!(broken_markers(&without_c).crossed.len(), 1, "{what}");
        }
        // Parts nested or crossing many deep: each named once, with the part
        // it begins in (a pair a part, not one for each two of them: 12.5
        // million here), and each refused.
        let deep = 5_000;
        for nested in [true, false] {
            let mut text = "Resources:\n".to_string();
            for i in 0..deep {
                text.push_str(&format!("  {MARKER} begin producers.p{i}\n  P{i}: {i}\n"));
            }
            let ends: Vec<usize> = match nested {
                true => (0..deep).rev().collect(),
                false => (0..deep).collect(),
            };
            for i in ends {
                text.push_str(&format!("  {MARKER} end producers.p{i}\n"));
            }
            let crossed = broken_markers(&text).crossed;
            assert_eq!(crossed.len(), deep - 1, "nested: {nested}");
            assert_eq!(crossed[0], ("producers.p0".into(), "producers.p1".into()));
            for handler in ["producers.p0", "producers.p2500", "producers.p4999"] {
                assert!(without_part(&text, handler).is_err(), "{handler}");
            }
        }
    }

    /// The timeout is read from the function's properties, else from
    /// `Globals: Function:`, and only where the text says it plainly.
    #[test]
    fn a_functions_timeout_is_its_own_else_the_globals_else_lambdas_default() {
        let globals = "Globals:\n  Function:\n    Runtime: python3.13\n    Timeout: 30  # s\n    MemorySize: 256\n";
        let resources = with_part("Resources:\n", &part(Kind::Producers, "a")).unwrap();
        let resources = with_part(&resources, &part(Kind::Producers, "b")).unwrap();
        let text = format!("{globals}{resources}");
        let timeout = |text: &str| function_setting(text, "producers.a", "Timeout");
        assert_eq!(timeout(&text), FunctionSetting::Set(30));
        let own = |line: &str| {
            text.replacen(
                "      Handler: producers.a\n",
                &format!("      Handler: producers.a\n{line}"),
                1,
            )
        };
        assert_eq!(
            timeout(&own("      Timeout: 12\n")),
            FunctionSetting::Set(12)
        );
        // A Timeout deeper down (an event's) or of another function is not its.
        assert_eq!(
            timeout(&own("      Extra:\n        Timeout: 5\n")),
            FunctionSetting::Set(30)
        );
        assert_eq!(
            function_setting(&own("      Timeout: 12\n"), "producers.b", "Timeout"),
            FunctionSetting::Set(30)
        );
        assert_eq!(timeout(&resources), FunctionSetting::Unset);
        let no_timeout = text.replace("    Timeout: 30  # s\n", "");
        assert_eq!(timeout(&no_timeout), FunctionSetting::Unset);
        for unclear in [
            own("      Timeout: !Ref Seconds\n"),
            text.replace("Timeout: 30", "Timeout: 2.5"),
            text.replace(
                "  Function:\n    Runtime",
                "  Function: {Timeout: 9}\n  Other:\n    Runtime",
            ),
            format!("{text}  Copy:\n    Properties:\n      Handler: producers.a\n"),
            text.replace("Handler: producers.a", "Handler: producers.z"),
        ] {
            assert_eq!(timeout(&unclear), FunctionSetting::Unclear, "{unclear}");
        }
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
        assert_eq!(
            format!("{text}{}", appended(&text, &a).unwrap().unwrap()),
            added
        );
        // Without its markers, a part is the user's function; a longer
        // name's function is not this one's.
        let unmarked: String = text
            .split_inclusive('\n')
            .filter(|l| !l.contains(MARKER))
            .collect();
        let ab = part(Kind::Producers, "ab");
        assert_eq!(part_state(&unmarked, &ab), Ok(PartState::Theirs));
        assert_eq!(part_state(&unmarked, &a), Ok(PartState::Missing));
        assert_eq!(handlers(&unmarked).collect::<Vec<_>>(), ["producers.ab"]);
        let taken = text.replacen(
            "Resources:\r\n",
            "Resources:\r\n  # AFunction:\r\n  'AFunction' :\r\n    Type: x\r\n",
            1,
        );
        for err in [
            with_part(&taken, &a),
            appended(&taken, &a).map(|_| String::new()),
        ] {
            let err = err.unwrap_err();
            assert!(
                err.message.contains("already has `AFunction`"),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn handler_strings_are_read_with_quotes_and_comments() {
        let text = "  Handler: a.b\n      Handler: \"c.d\"  # web\n  NotHandler: x\n";
        assert_eq!(handlers(text).collect::<Vec<_>>(), ["a.b", "c.d"]);
    }
}
