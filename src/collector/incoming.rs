//! A batch body checked and turned into the lines the store appends. Each record is checked
//! against the record's shape without being rebuilt: its JSON goes to the file as the agent
//! wrote it, so accepting a batch costs one parse, not a decode and a re-encode.

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
    /// (purpose, `YYYY-MM-DD`) → the records for that file, one JSON object per line.
    pub lines: BTreeMap<(Purpose, String), Vec<u8>>,
}

/// [`crate::wire::BatchV1`] with its records left as text.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RawBatch<'a> {
    batch_id: uuid::Uuid,
    agent: AgentInfo,
    host: Cow<'a, str>,
    sent_at: Cow<'a, str>,
    policy: PolicyStamp,
    #[serde(borrow)]
    records: Vec<&'a RawValue>,
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
/// # Errors
/// What is wrong, in words the sender can act on.
pub fn parse(body: &[u8]) -> Result<Incoming, String> {
    let batch: RawBatch<'_> =
        serde_json::from_slice(body).map_err(|e| format!("malformed batch: {e}"))?;
    if batch.records.is_empty() {
        return Err("batch has no records".into());
    }
    let mut lines: BTreeMap<(Purpose, String), Vec<u8>> = BTreeMap::new();
    for (i, raw) in batch.records.iter().enumerate() {
        let r: RecordShape<'_> = serde_json::from_str(raw.get())
            .map_err(|e| format!("malformed batch: record {i}: {e}"))?;
        if !r.fields.get().starts_with('{') {
            return Err(format!("record {i} ({}): fields is not an object", r.id));
        }
        if humantime::parse_rfc3339(&r.collected_at).is_err() {
            return Err(format!(
                "record {i} ({}): collected_at is not an RFC 3339 UTC time",
                r.id
            ));
        }
        let day = r.collected_at.get(..10).unwrap_or("undated").to_owned();
        let out = lines.entry((r.purpose, day)).or_default();
        let text = raw.get().as_bytes();
        if memchr::memchr2(b'\n', b'\r', text).is_some() {
            // Pretty-printed by some other sender: one line per record in the file.
            let value: serde_json::Value =
                serde_json::from_str(raw.get()).map_err(|e| format!("record {i}: {e}"))?;
            serde_json::to_writer(&mut *out, &value).expect("a JSON value always serializes");
        } else {
            out.extend_from_slice(text);
        }
        out.push(b'\n');
    }
    Ok(Incoming {
        batch_id: batch.batch_id,
        records: batch.records.len(),
        lines,
    })
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
        let got = parse(&batch(&values)).unwrap();
        assert_eq!(got.records, 2);
        let day = |d: &str| &got.lines[&(Purpose::ServiceOperational, d.to_owned())];
        let line: Record = serde_json::from_slice(day("2026-11-29").trim_ascii_end()).unwrap();
        assert_eq!(line, a);
        assert_eq!(
            day("2026-11-30"),
            &[serde_json::to_vec(&values[1]).unwrap(), b"\n".to_vec()].concat(),
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
            let err = parse(&batch(&[good.clone(), case])).unwrap_err();
            assert!(err.contains(want), "{err}");
        }
        assert!(parse(&batch(&[])).unwrap_err().contains("no records"));
        assert!(parse(b"{").unwrap_err().starts_with("malformed batch"));
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
        let got = parse(pretty.as_bytes()).unwrap();
        let lines = &got.lines[&(Purpose::ServiceOperational, "2026-11-29".to_owned())];
        assert_eq!(lines.iter().filter(|b| **b == b'\n').count(), 1);
        assert_eq!(serde_json::from_slice::<Record>(lines).unwrap(), r);
    }
}
