//! A tree answer read as its bytes arrive: each entry is checked and handed out as soon as
//! its object closes, so a 100,000-entry answer (~20 MB) is never in memory, neither as bytes
//! nor as entries. For a recursive listing the directories it provably holds whole are
//! decided on the way (`gitobj::WholeDirs`), which is what a truncated answer is good for.
//!
//! The JSON is tokenised by `actson`, a push parser: bytes in, events out, whatever the
//! chunk boundaries. This file only follows GitHub's shape: `{"sha", "tree": [{entry}…],
//! "truncated", …}`, other keys and values skipped.

use crate::domain::{CommitSha, FileMode, TreeFile};
use crate::github::GhError;
use crate::gitobj::WholeDirs;
use actson::feeder::PushJsonFeeder;
use actson::{JsonEvent, JsonParser};

/// One entry of a listing, its path re-rooted under the listed directory.
#[derive(Debug, Clone, PartialEq)]
pub enum TreeItem {
    /// A file, symlink or submodule, checked.
    File(TreeFile),
    /// A subdirectory and its tree id.
    Dir(String, String),
}

/// What the answer said besides its entries.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeEnd {
    /// The listed tree's id.
    pub sha: String,
    pub truncated: bool,
    /// For a recursive listing: the directories it provably holds whole, re-rooted (the
    /// listed directory itself among them when it is whole). Empty for one level.
    pub whole: Vec<String>,
}

/// Where the reader is in the answer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum At {
    Start,
    /// In the top object; the key of the value to come, if it is one we read.
    Top(Option<TopKey>),
    /// In the `tree` array, between entries.
    Entries,
    /// In one entry; the key of the value to come, if it is one we read.
    Entry(Option<EntryKey>),
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TopKey {
    Sha,
    Truncated,
    Tree,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum EntryKey {
    Path,
    Mode,
    Kind,
    Sha,
    Size,
}

/// The fields of the entry being read.
#[derive(Default)]
struct Wire {
    path: Option<String>,
    mode: Option<String>,
    kind: Option<String>,
    sha: Option<String>,
    size: Option<u64>,
}

pub struct TreeReader {
    parser: JsonParser<PushJsonFeeder>,
    prefix: String,
    at: At,
    /// Depth inside a value being skipped (an unknown key's object or array).
    skipping: u32,
    entry: Wire,
    sha: Option<String>,
    truncated: bool,
    proof: Option<WholeDirs>,
}

fn malformed(what: impl std::fmt::Display) -> GhError {
    GhError::Malformed(format!("tree answer: {what}"))
}

impl TreeReader {
    /// A reader for a listing of the directory `prefix` ("" for the root); `recursive`
    /// listings also prove which directories they hold whole.
    pub fn new(prefix: &str, recursive: bool) -> TreeReader {
        TreeReader {
            parser: JsonParser::new(PushJsonFeeder::new()),
            prefix: prefix.to_string(),
            at: At::Start,
            skipping: 0,
            entry: Wire::default(),
            sha: None,
            truncated: false,
            // Every recursive answer is proven as it streams: `truncated` comes after the
            // entries, so whether the proof is needed is known only at the end.
            proof: recursive.then(WholeDirs::default),
        }
    }

    /// Reads `bytes` (any piece of the answer), appending the entries they complete to `out`.
    pub fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<TreeItem>) -> Result<(), GhError> {
        while !bytes.is_empty() {
            let taken = self.parser.feeder.push_bytes(bytes);
            bytes = &bytes[taken..];
            self.drain(out)?;
        }
        Ok(())
    }

    /// The end of the answer: any last entries go to `out`; the answer must be complete.
    pub fn finish(mut self, out: &mut Vec<TreeItem>) -> Result<TreeEnd, GhError> {
        self.parser.feeder.done();
        self.drain(out)?;
        if self.at != At::Done {
            return Err(malformed("it ended early"));
        }
        let sha = self.sha.ok_or_else(|| malformed("no sha"))?;
        let whole = match self.proof {
            Some(proof) => proof.finish(&sha).into_iter().map(|d| reroot(&self.prefix, &d)).collect(),
            None => Vec::new(),
        };
        Ok(TreeEnd { sha, truncated: self.truncated, whole })
    }

    /// Handles events until the parser needs more bytes (or the answer has ended).
    fn drain(&mut self, out: &mut Vec<TreeItem>) -> Result<(), GhError> {
        loop {
            match self.parser.next_event().map_err(|e| malformed(format!("{e:?}")))? {
                None => {
                    return if self.at == At::Done { Ok(()) } else { Err(malformed("it ended early")) };
                }
                Some(JsonEvent::NeedMoreInput) => return Ok(()),
                Some(event) => self.on(event, out)?,
            }
        }
    }

    fn on(&mut self, event: JsonEvent, out: &mut Vec<TreeItem>) -> Result<(), GhError> {
        if self.skipping > 0 {
            match event {
                JsonEvent::StartObject | JsonEvent::StartArray => self.skipping += 1,
                JsonEvent::EndObject | JsonEvent::EndArray => self.skipping -= 1,
                _ => {}
            }
            return Ok(());
        }
        match (self.at, event) {
            (At::Start, JsonEvent::StartObject) => self.at = At::Top(None),
            (At::Top(_), JsonEvent::FieldName) => self.at = At::Top(self.top_key()?),
            (At::Top(_), JsonEvent::EndObject) => self.at = At::Done,
            (At::Top(Some(TopKey::Tree)), JsonEvent::StartArray) => self.at = At::Entries,
            (At::Top(Some(TopKey::Sha)), JsonEvent::ValueString) => {
                self.sha = Some(self.text()?.to_string());
                self.at = At::Top(None);
            }
            (At::Top(Some(TopKey::Truncated)), JsonEvent::ValueTrue | JsonEvent::ValueFalse) => {
                self.truncated = event == JsonEvent::ValueTrue;
                self.at = At::Top(None);
            }
            (At::Top(Some(key)), _) => return Err(malformed(format!("unexpected {event:?} for {key:?}"))),
            (At::Top(None), _) => self.skip(event),
            (At::Entries, JsonEvent::StartObject) => self.at = At::Entry(None),
            (At::Entries, JsonEvent::EndArray) => self.at = At::Top(None),
            (At::Entry(_), JsonEvent::FieldName) => self.at = At::Entry(self.entry_key()?),
            (At::Entry(_), JsonEvent::EndObject) => {
                let wire = std::mem::take(&mut self.entry);
                out.push(self.keep(wire)?);
                self.at = At::Entries;
            }
            (At::Entry(Some(key)), _) => {
                self.entry_value(key, event)?;
                self.at = At::Entry(None);
            }
            (At::Entry(None), _) => self.skip(event),
            (at, _) => return Err(malformed(format!("unexpected {event:?} at {at:?}"))),
        }
        Ok(())
    }

    /// Steps over a value we do not read (an object or array is skipped to its end).
    fn skip(&mut self, event: JsonEvent) {
        if matches!(event, JsonEvent::StartObject | JsonEvent::StartArray) {
            self.skipping = 1;
        }
    }

    fn text(&self) -> Result<&str, GhError> {
        self.parser.current_str().map_err(|e| malformed(format!("{e:?}")))
    }

    fn top_key(&self) -> Result<Option<TopKey>, GhError> {
        Ok(match self.text()? {
            "sha" => Some(TopKey::Sha),
            "truncated" => Some(TopKey::Truncated),
            "tree" => Some(TopKey::Tree),
            _ => None,
        })
    }

    fn entry_key(&self) -> Result<Option<EntryKey>, GhError> {
        Ok(match self.text()? {
            "path" => Some(EntryKey::Path),
            "mode" => Some(EntryKey::Mode),
            "type" => Some(EntryKey::Kind),
            "sha" => Some(EntryKey::Sha),
            "size" => Some(EntryKey::Size),
            _ => None,
        })
    }

    fn entry_value(&mut self, key: EntryKey, event: JsonEvent) -> Result<(), GhError> {
        match (key, event) {
            (EntryKey::Size, JsonEvent::ValueInt) => {
                self.entry.size = Some(self.parser.current_int::<u64>().map_err(|e| malformed(format!("size: {e:?}")))?);
            }
            (EntryKey::Size, JsonEvent::ValueNull) => self.entry.size = None,
            (_, JsonEvent::ValueString) => {
                let value = Some(self.text()?.to_string());
                match key {
                    EntryKey::Path => self.entry.path = value,
                    EntryKey::Mode => self.entry.mode = value,
                    EntryKey::Kind => self.entry.kind = value,
                    EntryKey::Sha => self.entry.sha = value,
                    EntryKey::Size => return Err(malformed("a size that is a string")),
                }
            }
            _ => return Err(malformed(format!("unexpected {event:?} for an entry's {key:?}"))),
        }
        Ok(())
    }

    /// One whole entry: proven over (for a recursive listing), checked and re-rooted.
    fn keep(&mut self, wire: Wire) -> Result<TreeItem, GhError> {
        let missing = |field: &str| malformed(format!("an entry without {field}"));
        let path = wire.path.ok_or_else(|| missing("path"))?;
        let mode = wire.mode.ok_or_else(|| missing("mode"))?;
        let kind = wire.kind.ok_or_else(|| missing("type"))?;
        let sha = wire.sha.ok_or_else(|| missing("sha"))?;
        if let Some(proof) = &mut self.proof {
            proof.add(&path, &mode, &sha, kind == "tree");
        }
        let path = reroot(&self.prefix, &path);
        if kind == "tree" {
            return Ok(TreeItem::Dir(path, sha));
        }
        let mode = FileMode::parse(&mode).ok_or_else(|| GhError::Malformed(format!("unknown mode {mode} at {path}")))?;
        let sha = CommitSha::parse(&sha).map_err(|e| GhError::Malformed(e.0))?;
        let size = if mode == FileMode::Submodule { None } else { Some(wire.size.unwrap_or(0)) };
        Ok(TreeItem::File(TreeFile { path, mode, sha, size }))
    }
}

/// `path` (relative to the listed directory) under `prefix`; the listed directory is "".
fn reroot(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) => format!("{prefix}/{path}"),
    }
}
