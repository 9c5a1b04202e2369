//! A batch body checked and turned into the lines the store appends. Each record is checked
//! against the record's shape without being rebuilt: its JSON goes to the file as the agent
//! wrote it, straight from the body, so accepting a batch costs one parse, not a decode and a
//! re-encode, and no copy of its records.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::record::{Category, PolicyStamp, Purpose, RecordId};
use crate::wire::AgentInfo;

/// A valid batch: its id, how many records, and their JSON lines by purpose and day.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Incoming {
    /// The batch's id, the dedup key.
    pub batch_id: uuid::Uuid,
    /// How many records it holds.
    pub records: usize,
    /// The decompressed body, which most lines are slices of.
    pub body: Vec<u8>,
    /// (purpose, `YYYY-MM-DD`) → the records for that file, in batch order.
    pub lines: BTreeMap<(Purpose, String), Vec<Line>>,
}

/// One record's line in a file, without its newline.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// The record's text where it stands in the body.
    InBody(std::ops::Range<usize>),
    /// The record written again on one line (a sender that pretty-printed it).
    Rewritten(Vec<u8>),
}

impl Incoming {
    /// The text of `line`, without its newline.
    pub fn text<'a>(&'a self, line: &'a Line) -> &'a [u8] {
        match line {
            Line::InBody(range) => &self.body[range.clone()],
            Line::Rewritten(text) => text,
        }
    }

    /// What a file gets appended: each of its records and a newline (the store writes the
    /// same pieces with `writev`; tests compare against this).
    #[cfg(test)]
    pub(crate) fn file_text(&self, lines: &[Line]) -> Vec<u8> {
        let mut out = Vec::new();
        for line in lines {
            out.extend_from_slice(self.text(line));
            out.push(b'\n');
        }
        out
    }
}

/// The fields of [`crate::record::Record`] the collector needs, and the rest checked for shape
/// but not copied: a record that is not a valid `Record` does not pass.
#[derive(Deserialize)]
#[allow(dead_code)]
struct RecordShape<'a> {
    id: RecordId,
    #[serde(borrow)]
    collected_at: Cow<'a, str>,
    category: Category,
    purpose: Purpose,
    source: Cow<'a, str>,
    #[serde(default)]
    event: Option<Cow<'a, str>>,
    #[serde(borrow)]
    fields: &'a RawValue,
    #[serde(default)]
    body: Option<Cow<'a, str>>,
    #[serde(borrow)]
    policy: StampShape<'a>,
    #[serde(borrow)]
    provenance: Vec<ProvenanceShape<'a>>,
}

/// [`PolicyStamp`] checked in place (its text borrowed, not copied).
#[derive(Deserialize)]
#[allow(dead_code)]
struct StampShape<'a> {
    #[serde(borrow)]
    version: Cow<'a, str>,
    #[serde(borrow)]
    sha256: Cow<'a, str>,
}

/// [`crate::record::Provenance`] checked in place.
#[derive(Deserialize)]
#[allow(dead_code)]
struct ProvenanceShape<'a> {
    #[serde(borrow)]
    field: Cow<'a, str>,
    #[serde(borrow)]
    rule: Cow<'a, str>,
    action: crate::record::Action,
    #[serde(default)]
    span: Option<(usize, usize)>,
}

/// Checks a decompressed batch body and sorts its records into lines per file.
///
/// One pass: the batch object is walked key by key and each record is checked where it
/// stands, its text located by where the check began and ended (a raw scan of every record
/// and then a second parse of each cost a fifth of the collector's CPU).
///
/// # Errors
/// What is wrong, in words the sender can act on.
pub fn parse(body: Vec<u8>) -> Result<Incoming, String> {
    let (batch_id, records, lines) = walk(&body)?;
    Ok(Incoming {
        batch_id,
        records,
        body,
        lines: lines.into_iter().collect(),
    })
}

/// The batch's id, record count and lines per file.
fn walk(body: &[u8]) -> Result<(uuid::Uuid, usize, Lines), String> {
    let text =
        std::str::from_utf8(body).map_err(|e| format!("malformed batch: not UTF-8 ({e})"))?;
    let mut at = Cursor { text, pos: 0 };
    let mut seen = [false; BATCH_KEYS.len()];
    let mut batch_id = None;
    let mut lines = Lines::new();
    let mut records = 0;
    at.expect(b'{')?;
    if at.peek() == Some(b'}') {
        at.pos += 1;
    } else {
        loop {
            let (key, _) = at.value::<Cow<'_, str>>(|| "a key".into())?;
            at.expect(b':')?;
            let Some(k) = BATCH_KEYS.iter().position(|k| *k == key) else {
                return Err(format!(
                    "malformed batch: unknown field `{key}`, expected one of {}",
                    BATCH_KEYS.map(|k| format!("`{k}`")).join(", ")
                ));
            };
            if std::mem::replace(&mut seen[k], true) {
                return Err(format!("malformed batch: duplicate field `{key}`"));
            }
            match BATCH_KEYS[k] {
                "batch_id" => batch_id = Some(at.value::<uuid::Uuid>(|| key.to_string())?.0),
                "agent" => drop(at.value::<AgentInfo>(|| key.to_string())?),
                "host" | "sent_at" => drop(at.value::<Cow<'_, str>>(|| key.to_string())?),
                "policy" => drop(at.value::<PolicyStamp>(|| key.to_string())?),
                _ => records = at.records(&mut lines)?,
            }
            match at.next_of(b',', b'}')? {
                b',' => continue,
                _ => break,
            }
        }
    }
    if at.peek().is_some() {
        return Err(format!(
            "malformed batch: trailing characters at byte {}",
            at.pos
        ));
    }
    let missing = |key: &str| format!("malformed batch: missing field `{key}`");
    if let Some(k) = seen.iter().position(|s| !s) {
        return Err(missing(BATCH_KEYS[k]));
    }
    let batch_id = batch_id.ok_or_else(|| missing("batch_id"))?;
    if records == 0 {
        return Err("batch has no records".into());
    }
    Ok((batch_id, records, lines))
}

/// The lines of a batch by file, as found (a batch rarely spans more than one or two).
type Lines = Vec<((Purpose, String), Vec<Line>)>;

/// The keys of [`crate::wire::BatchV1`], each required once.
const BATCH_KEYS: [&str; 6] = ["batch_id", "agent", "host", "sent_at", "policy", "records"];

/// A position in a batch body being walked.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// The next byte that is not JSON whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        let rest = &self.text.as_bytes()[self.pos..];
        let ws = rest
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
            .count();
        self.pos += ws;
        rest.get(ws).copied()
    }

    fn expect(&mut self, want: u8) -> Result<(), String> {
        self.next_of(want, want).map(drop)
    }

    /// Consumes the next byte if it is `a` or `b`.
    fn next_of(&mut self, a: u8, b: u8) -> Result<u8, String> {
        match self.peek() {
            Some(c) if c == a || c == b => {
                self.pos += 1;
                Ok(c)
            }
            found => Err(format!(
                "malformed batch: expected `{}`{} at byte {}, found {}",
                a as char,
                if a == b {
                    String::new()
                } else {
                    format!(" or `{}`", b as char)
                },
                self.pos,
                found.map_or("the end".into(), |c| format!("`{}`", c.escape_ascii()))
            )),
        }
    }

    /// Parses one value here and moves past it; returns it with its text.
    fn value<T: Deserialize<'a>>(
        &mut self,
        what: impl Fn() -> String,
    ) -> Result<(T, &'a str), String> {
        self.peek();
        let start = self.pos;
        let mut stream = serde_json::Deserializer::from_str(&self.text[start..]).into_iter::<T>();
        match stream.next() {
            Some(Ok(v)) => {
                self.pos = start + stream.byte_offset();
                Ok((v, &self.text[start..self.pos]))
            }
            Some(Err(e)) => Err(format!("malformed batch: {} at byte {start}: {e}", what())),
            None => Err(format!("malformed batch: {} missing at the end", what())),
        }
    }

    /// The `records` array: each record checked and appended to its file's lines.
    fn records(&mut self, lines: &mut Lines) -> Result<usize, String> {
        self.expect(b'[')?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(0);
        }
        let mut i = 0;
        loop {
            let (r, raw) = self.value::<RecordShape<'_>>(|| format!("record {i}"))?;
            let at = self.pos - raw.len()..self.pos;
            file_line(i, &r, (raw, at), lines)?;
            i += 1;
            if self.next_of(b',', b']')? == b']' {
                return Ok(i);
            }
        }
    }
}

/// Checks what serde cannot of record `i` and adds its line (its text `raw`, found at `at` in
/// the body) to its file's lines.
fn file_line(
    i: usize,
    r: &RecordShape<'_>,
    (raw, at): (&str, std::ops::Range<usize>),
    lines: &mut Lines,
) -> Result<(), String> {
    if !r.fields.get().starts_with('{') {
        return Err(format!("record {i} ({}): fields is not an object", r.id));
    }
    if humantime::parse_rfc3339(&r.collected_at).is_err() {
        return Err(format!(
            "record {i} ({}): collected_at is not an RFC 3339 UTC time",
            r.id
        ));
    }
    let day = r.collected_at.get(..10).unwrap_or("undated");
    let out = match lines
        .iter()
        .position(|((p, d), _)| *p == r.purpose && d == day)
    {
        Some(at) => &mut lines[at].1,
        None => {
            lines.push(((r.purpose, day.to_owned()), Vec::new()));
            &mut lines.last_mut().expect("just pushed").1
        }
    };
    if memchr::memchr2(b'\n', b'\r', raw.as_bytes()).is_some() {
        // Pretty-printed by some other sender: one line per record in the file.
        let value: serde_json::Value =
            serde_json::from_str(raw).map_err(|e| format!("record {i}: {e}"))?;
        out.push(Line::Rewritten(
            serde_json::to_vec(&value).expect("a JSON value always serializes"),
        ));
    } else {
        out.push(Line::InBody(at));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;

    fn record(day: &str) -> Record {
        Record {
            id: RecordId::new(),
            collected_at: format!("{day}T10:00:00.000Z"),
            category: Category::Performance,
            purpose: Purpose::ServiceOperational,
            source: "test".into(),
            event: None,
            fields: serde_json::Map::from_iter([("cpu".to_owned(), 0.5.into())]),
            body: None,
            policy: PolicyStamp {
                version: "1".into(),
                sha256: "0".repeat(64).into(),
            },
            provenance: vec![],
        }
    }

    fn batch(records: &[serde_json::Value]) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "batch_id": uuid::Uuid::nil(),
            "agent": {"version": "0"},
            "host": "h:00",
            "sent_at": "2026-11-29T10:00:00.000Z",
            "policy": {"version": "1", "sha256": "0".repeat(64)},
            "records": records,
        }))
        .unwrap()
    }

    #[test]
    fn records_keep_their_text_and_go_to_their_day() {
        let (a, b) = (record("2026-11-29"), record("2026-11-30"));
        let values = [
            serde_json::to_value(&a).unwrap(),
            serde_json::to_value(&b).unwrap(),
        ];
        let got = parse(batch(&values)).unwrap();
        assert_eq!(got.records, 2);
        let day = |d: &str| got.file_text(&got.lines[&(Purpose::ServiceOperational, d.to_owned())]);
        let line: Record = serde_json::from_slice(day("2026-11-29").trim_ascii_end()).unwrap();
        assert_eq!(line, a);
        assert_eq!(
            day("2026-11-30"),
            [serde_json::to_vec(&values[1]).unwrap(), b"\n".to_vec()].concat(),
            "the text as sent (here with sorted keys), not re-encoded"
        );
    }

    #[test]
    fn a_record_that_is_not_a_record_is_refused() {
        let good = serde_json::to_value(record("2026-11-29")).unwrap();
        let mut no_policy = good.clone();
        no_policy.as_object_mut().unwrap().remove("policy");
        let mut bad_time = good.clone();
        bad_time["collected_at"] = "yesterday".into();
        let mut bad_purpose = good.clone();
        bad_purpose["purpose"] = "marketing".into();
        let mut fields_not_map = good.clone();
        fields_not_map["fields"] = serde_json::json!([1]);
        for (case, want) in [
            (no_policy, "missing field `policy`"),
            (bad_time, "collected_at is not an RFC 3339"),
            (bad_purpose, "unknown variant `marketing`"),
            (fields_not_map, "record 1"),
        ] {
            let err = parse(batch(&[good.clone(), case])).unwrap_err();
            assert!(err.contains(want), "{err}");
        }
        assert!(parse(batch(&[])).unwrap_err().contains("no records"));
        assert!(
            parse(b"{".to_vec())
                .unwrap_err()
                .starts_with("malformed batch")
        );
    }

    #[test]
    fn the_batch_object_is_checked_key_by_key() {
        let r = serde_json::to_value(record("2026-11-29")).unwrap();
        let good = String::from_utf8(batch(std::slice::from_ref(&r))).unwrap();
        let reordered = format!(
            "{{ \"re\\u0063ords\" : [ {r} ] , \"sent_at\" : \"2026-11-29T10:00:00.000Z\",\n\
             \"policy\": {{\"version\": \"1\", \"sha256\": \"{}\"}}, \"host\":\"h:00\",\n\
             \"agent\" : {{\"version\":\"0\"}}, \"batch_id\":\"{}\" }}\n",
            "0".repeat(64),
            uuid::Uuid::nil()
        );
        let got = parse(reordered.into_bytes()).unwrap();
        assert_eq!((got.records, got.batch_id), (1, uuid::Uuid::nil()));
        for (body, want) in [
            (
                good.replacen("\"host\"", "\"hostname\"", 1),
                "unknown field `hostname`",
            ),
            (
                good.replacen("\"host\":\"h:00\",", "", 1),
                "missing field `host`",
            ),
            (
                good.replacen("{", "{\"host\":\"h:01\",", 1),
                "duplicate field `host`",
            ),
            (format!("{good} {{}}"), "trailing characters"),
            (good.replacen("}]", "} {}]", 1), "expected `,` or `]`"),
            (
                good.replacen("\"batch_id\":", "\"batch_id\" ", 1),
                "expected `:`",
            ),
            (good[..good.len() - 1].to_owned(), "found the end"),
        ] {
            let err = parse(body.into_bytes()).unwrap_err();
            assert!(err.contains(want), "{want}: {err}");
        }
        let mut bad_utf8 = good.into_bytes();
        let at = bad_utf8.len() - 3;
        bad_utf8[at] = 0xff;
        assert!(parse(bad_utf8).unwrap_err().contains("not UTF-8"));
        assert!(
            parse(b"{}".to_vec())
                .unwrap_err()
                .contains("missing field `batch_id`")
        );
    }

    #[test]
    fn a_pretty_printed_record_is_stored_on_one_line() {
        let r = record("2026-11-29");
        let body = batch(&[serde_json::to_value(&r).unwrap()]);
        let text = String::from_utf8(body).unwrap();
        let pretty = serde_json::to_string_pretty(
            &serde_json::from_str::<serde_json::Value>(&text).unwrap(),
        )
        .unwrap();
        let got = parse(pretty.into_bytes()).unwrap();
        let lines =
            got.file_text(&got.lines[&(Purpose::ServiceOperational, "2026-11-29".to_owned())]);
        assert_eq!(lines.iter().filter(|b| **b == b'\n').count(), 1);
        assert_eq!(serde_json::from_slice::<Record>(&lines).unwrap(), r);
    }
}
