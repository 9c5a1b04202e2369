//! Segments: how records are stored. A segment is a run of consecutive records of one purpose
//! and category kept in one redb value, so storing a round of thousands of records costs a
//! handful of B-tree operations instead of several per record, and a batch reads a few values.
//!
//! A value is `n: u32`, then `n` × (`id: u128`, `end: u32`), all little-endian, then the records'
//! JSON back to back: record `i` is `body[end(i-1)..end(i)]`. A segment's key is the id of the
//! first record it held when written. Splitting one keys the second part by its own first
//! record's id, so a new key is never one in use (record ids are unique and each record is in
//! one segment) and keys sort like the records they start with.

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::retention::add_bytes;
use super::{PENDING, SENT, SpoolError};
use crate::record::{Category, Purpose, Record};

/// Segment key → the segment's value.
pub(super) const SEGMENTS: TableDefinition<u128, &[u8]> = TableDefinition::new("segments");

/// What [`INFO`] stores: records, JSON bytes, purpose index, category index, last record's id.
type InfoValue = (u64, u64, u8, u8, u128);

/// Segment key → what retention, batching and `status` need without reading the segment.
pub(super) const INFO: TableDefinition<u128, InfoValue> = TableDefinition::new("segment_info");

const ENTRY: usize = 20;

/// A segment's summary, as [`INFO`] keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Info {
    /// How many records it holds.
    pub count: u64,
    /// Bytes of their JSON (what the byte cap counts).
    pub bytes: u64,
    /// Their purpose.
    pub purpose: Purpose,
    /// Their category.
    pub category: Category,
    /// The id of its last (newest) record.
    pub last: u128,
}

impl Info {
    fn to_value(self) -> InfoValue {
        let p = Purpose::ALL.iter().position(|p| *p == self.purpose);
        let c = Category::ALL.iter().position(|c| *c == self.category);
        (
            self.count,
            self.bytes,
            p.unwrap_or(0) as u8,
            c.unwrap_or(0) as u8,
            self.last,
        )
    }

    fn from_value((count, bytes, p, c, last): InfoValue) -> Result<Info, SpoolError> {
        let bad = || SpoolError::Decode(format!("segment info names purpose {p}, category {c}"));
        Ok(Info {
            count,
            bytes,
            purpose: *Purpose::ALL.get(usize::from(p)).ok_or_else(bad)?,
            category: *Category::ALL.get(usize::from(c)).ok_or_else(bad)?,
            last,
        })
    }
}

/// Builds one segment's value from records in id order.
pub(super) struct Builder {
    purpose: Purpose,
    category: Category,
    index: Vec<u8>,
    body: Vec<u8>,
    count: u32,
    last: u128,
}

impl Builder {
    pub(super) fn new(purpose: Purpose, category: Category) -> Builder {
        Builder {
            purpose,
            category,
            index: Vec::new(),
            body: Vec::new(),
            count: 0,
            last: 0,
        }
    }

    /// Whether a record of `purpose` and `category` belongs in this segment.
    pub(super) fn takes(&self, purpose: Purpose, category: Category) -> bool {
        self.purpose == purpose && self.category == category
    }

    /// Appends a record, serialized straight into the segment.
    pub(super) fn push_record(&mut self, r: &Record) {
        serde_json::to_writer(&mut self.body, r).expect("a record always serializes");
        self.end_entry(r.id.as_u128());
    }

    /// Appends a record already in its stored form.
    pub(super) fn push(&mut self, id: u128, json: &[u8]) {
        self.body.extend_from_slice(json);
        self.end_entry(id);
    }

    fn end_entry(&mut self, id: u128) {
        let end = u32::try_from(self.body.len()).expect("a segment stays under 4 GiB");
        self.index.extend_from_slice(&id.to_le_bytes());
        self.index.extend_from_slice(&end.to_le_bytes());
        self.count += 1;
        self.last = id;
    }

    /// How many records it holds so far.
    pub(super) fn count(&self) -> u32 {
        self.count
    }

    /// The id of its first record: its key.
    pub(super) fn first(&self) -> u128 {
        self.index
            .get(..16)
            .map_or(0, |b| u128::from_le_bytes(b.try_into().expect("16 bytes")))
    }

    /// The value to store and its summary.
    pub(super) fn finish(self) -> (Vec<u8>, Info) {
        let mut value = Vec::with_capacity(4 + self.index.len() + self.body.len());
        value.extend_from_slice(&self.count.to_le_bytes());
        value.extend_from_slice(&self.index);
        value.extend_from_slice(&self.body);
        let info = Info {
            count: u64::from(self.count),
            bytes: self.body.len() as u64,
            purpose: self.purpose,
            category: self.category,
            last: self.last,
        };
        (value, info)
    }
}

/// A stored segment, read in place.
pub(super) struct View<'a> {
    index: &'a [u8],
    body: &'a [u8],
}

impl<'a> View<'a> {
    /// Checks a stored value's framing.
    pub(super) fn parse(value: &'a [u8]) -> Result<View<'a>, SpoolError> {
        let bad = |what: &str| SpoolError::Decode(format!("segment {what}"));
        let n = value
            .get(..4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
            .ok_or_else(|| bad("without a header"))?;
        let index_end = n
            .checked_mul(ENTRY)
            .and_then(|i| i.checked_add(4))
            .filter(|e| *e <= value.len())
            .ok_or_else(|| bad("index past its end"))?;
        let view = View {
            index: &value[4..index_end],
            body: &value[index_end..],
        };
        let mut prev = 0;
        for i in 0..n {
            let end = view.end(i);
            if end < prev || end > view.body.len() {
                return Err(bad("entry out of order"));
            }
            prev = end;
        }
        Ok(view)
    }

    /// How many records it holds.
    pub(super) fn len(&self) -> usize {
        self.index.len() / ENTRY
    }

    /// The id of record `i`.
    pub(super) fn id(&self, i: usize) -> u128 {
        let at = i * ENTRY;
        u128::from_le_bytes(self.index[at..at + 16].try_into().expect("16 bytes"))
    }

    fn end(&self, i: usize) -> usize {
        let at = i * ENTRY + 16;
        u32::from_le_bytes(self.index[at..at + 4].try_into().expect("4 bytes")) as usize
    }

    /// The stored JSON of record `i`.
    pub(super) fn json(&self, i: usize) -> &'a [u8] {
        let start = if i == 0 { 0 } else { self.end(i - 1) };
        &self.body[start..self.end(i)]
    }

    /// A segment of the records at `keep` (in order), with `info`'s purpose and category.
    pub(super) fn subset(&self, info: &Info, keep: impl Iterator<Item = usize>) -> (Vec<u8>, Info) {
        let mut b = Builder::new(info.purpose, info.category);
        for i in keep {
            b.push(self.id(i), self.json(i));
        }
        b.finish()
    }
}

/// The summary of segment `key`.
pub(super) fn info(
    table: &impl ReadableTable<u128, InfoValue>,
    key: u128,
) -> Result<Info, SpoolError> {
    let v = table
        .get(key)
        .map_err(redb::Error::from)?
        .ok_or_else(|| SpoolError::Decode(format!("segment {key:x} has no info")))?;
    Info::from_value(v.value())
}

/// Records in the segments `keys`, read from their summaries.
pub(super) fn count(
    table: &impl ReadableTable<u128, InfoValue>,
    keys: &[u128],
) -> Result<u64, SpoolError> {
    keys.iter().map(|k| Ok(info(table, *k)?.count)).sum()
}

/// Stores a new segment under `key` and counts its bytes.
pub(super) fn put(
    txn: &WriteTransaction,
    key: u128,
    value: &[u8],
    info: &Info,
) -> Result<(), SpoolError> {
    txn.open_table(SEGMENTS)
        .map_err(redb::Error::from)?
        .insert(key, value)
        .map_err(redb::Error::from)?;
    txn.open_table(INFO)
        .map_err(redb::Error::from)?
        .insert(key, info.to_value())
        .map_err(redb::Error::from)?;
    add_bytes(txn, info.bytes as i64)
}

/// A copy of segment `key`'s value.
pub(super) fn load(txn: &WriteTransaction, key: u128) -> Result<Vec<u8>, SpoolError> {
    let table = txn.open_table(SEGMENTS).map_err(redb::Error::from)?;
    let v = table
        .get(key)
        .map_err(redb::Error::from)?
        .ok_or_else(|| SpoolError::Decode(format!("segment {key:x} is missing")))?;
    Ok(v.value().to_vec())
}

/// Removes segment `key` from the store (not from the state tables) and uncounts its bytes.
pub(super) fn remove(txn: &WriteTransaction, key: u128) -> Result<Info, SpoolError> {
    txn.open_table(SEGMENTS)
        .map_err(redb::Error::from)?
        .remove(key)
        .map_err(redb::Error::from)?;
    let info = {
        let mut table = txn.open_table(INFO).map_err(redb::Error::from)?;
        let v = table
            .remove(key)
            .map_err(redb::Error::from)?
            .ok_or_else(|| SpoolError::Decode(format!("segment {key:x} has no info")))?;
        Info::from_value(v.value())?
    };
    add_bytes(txn, -(info.bytes as i64))?;
    Ok(info)
}

/// Replaces segment `key`'s value by the records at `keep`; the states stay as they are.
pub(super) fn rewrite(txn: &WriteTransaction, key: u128, keep: &[usize]) -> Result<(), SpoolError> {
    let value = load(txn, key)?;
    let view = View::parse(&value)?;
    let old = remove(txn, key)?;
    let (new, info) = view.subset(&old, keep.iter().copied());
    put(txn, key, &new, &info)
}

/// Splits segment `key` before its record `at` (0 < `at` < its length): the first part keeps
/// the key, the second takes its first record's id, returned, and the same delivery state
/// (pending, sent, or right after the first part in its batch or dead batch).
pub(super) fn split(txn: &WriteTransaction, key: u128, at: usize) -> Result<u128, SpoolError> {
    let value = load(txn, key)?;
    let view = View::parse(&value)?;
    if at == 0 || at >= view.len() {
        return Err(SpoolError::Decode(format!(
            "cannot split a segment of {} records at {at}",
            view.len()
        )));
    }
    let old = remove(txn, key)?;
    let (first, first_info) = view.subset(&old, 0..at);
    let (second, second_info) = view.subset(&old, at..view.len());
    let new_key = view.id(at);
    put(txn, key, &first, &first_info)?;
    put(txn, new_key, &second, &second_info)?;
    {
        let mut pending = txn.open_table(PENDING).map_err(redb::Error::from)?;
        if pending.get(key).map_err(redb::Error::from)?.is_some() {
            pending.insert(new_key, ()).map_err(redb::Error::from)?;
        }
    }
    {
        let mut sent = txn.open_table(SENT).map_err(redb::Error::from)?;
        let was = sent.get(key).map_err(redb::Error::from)?.map(|v| v.value());
        if let Some(v) = was {
            sent.insert(new_key, v).map_err(redb::Error::from)?;
        }
    }
    super::delivery::edit_segment_lists(txn, |held| {
        let at = held.iter().position(|k| *k == key)?;
        let mut ids = held.to_vec();
        ids.insert(at + 1, new_key);
        Some(ids)
    })?;
    Ok(new_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_reads_back_what_was_pushed_and_rejects_bad_framing() {
        let mut b = Builder::new(Purpose::Usage, Category::FeatureUsage);
        b.push(7, b"{\"a\":1}");
        b.push(9, b"{}");
        b.push(12, b"[]");
        let (value, info) = b.finish();
        assert_eq!((info.count, info.bytes, info.last), (3, 11, 12));
        let v = View::parse(&value).unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(
            (v.id(1), v.json(0), v.json(2)),
            (9, &b"{\"a\":1}"[..], &b"[]"[..])
        );
        let (sub, sub_info) = v.subset(&info, [0, 2].into_iter());
        let s = View::parse(&sub).unwrap();
        assert_eq!((s.id(1), s.json(1), sub_info.bytes), (12, &b"[]"[..], 9));

        assert!(View::parse(&value[..3]).is_err(), "header cut");
        assert!(View::parse(&value[..30]).is_err(), "index cut");
        let mut shuffled = value.clone();
        shuffled[4 + 16] = 200;
        assert!(View::parse(&shuffled).is_err(), "an end past the body");
        assert_eq!(Info::from_value(info.to_value()).unwrap(), info);
        assert!(Info::from_value((1, 1, 9, 0, 0)).is_err());
    }
}
