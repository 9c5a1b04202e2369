//! Segments: how records are stored. A segment is a run of consecutive records of one purpose
//! and category kept in one redb value, so storing a round of thousands of records costs a
//! handful of B-tree operations instead of several per record, and a batch reads a few values.
//!
//! A value is `n | COMPRESSED: u32`, then `n` × (`id: u128`, `end: u32`), all little-endian,
//! then one gzip member holding the records' JSON joined by commas: record `i` is
//! `text[start(i)..end(i)]`, `start(0) = 0`, `start(i) = end(i-1) + 1`. The member is what a
//! batch sends: a whole segment goes on the wire as stored, neither decoded nor recompressed
//! (gzip allows members back to back). Values written before compression (`n` without the
//! flag) hold the JSON back to back, uncompressed, and are still read.
//!
//! A segment's key is the id of the first record it held when written. Splitting one keys the
//! second part by its own first record's id, so a new key is never one in use (record ids are
//! unique and each record is in one segment) and keys sort like the records they start with.

use std::borrow::Cow;
use std::io::Read as _;

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

/// Set in a value's count when its records are stored as one gzip member.
const COMPRESSED: u32 = 1 << 31;

/// Builds one segment's value from records in id order.
pub(super) struct Builder {
    purpose: Purpose,
    category: Category,
    index: Vec<u8>,
    /// The records' JSON joined by commas.
    text: Vec<u8>,
    count: u32,
    last: u128,
}

impl Builder {
    pub(super) fn new(purpose: Purpose, category: Category) -> Builder {
        Builder {
            purpose,
            category,
            index: Vec::new(),
            text: Vec::new(),
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
        self.separate();
        r.write_json(&mut self.text);
        self.end_entry(r.id.as_u128());
    }

    /// Appends a record already in its stored form.
    pub(super) fn push(&mut self, id: u128, json: &[u8]) {
        self.separate();
        self.text.extend_from_slice(json);
        self.end_entry(id);
    }

    fn separate(&mut self) {
        if self.count > 0 {
            self.text.push(b',');
        }
    }

    fn end_entry(&mut self, id: u128) {
        let end = u32::try_from(self.text.len()).expect("a segment stays under 4 GiB");
        self.index.extend_from_slice(&id.to_le_bytes());
        self.index.extend_from_slice(&end.to_le_bytes());
        self.count += 1;
        self.last = id;
    }

    /// How many records it holds so far.
    pub(super) fn count(&self) -> u32 {
        self.count
    }

    /// Bytes of its records' JSON so far (what the byte cap counts).
    pub(super) fn json_bytes(&self) -> u64 {
        (self.text.len() - self.count.saturating_sub(1) as usize) as u64
    }

    /// The id of its first record: its key.
    pub(super) fn first(&self) -> u128 {
        self.index
            .get(..16)
            .map_or(0, |b| u128::from_le_bytes(b.try_into().expect("16 bytes")))
    }

    /// Empties it for a new run of `purpose` and `category`, keeping its buffers.
    pub(super) fn reset(&mut self, purpose: Purpose, category: Category) {
        self.purpose = purpose;
        self.category = category;
        self.index.clear();
        self.text.clear();
        self.count = 0;
        self.last = 0;
    }

    /// The value to store and its summary.
    pub(super) fn finish(&self) -> (Vec<u8>, Info) {
        (self.finish_value(), self.info())
    }

    /// The value to store: the records compressed (gzip level 1 shrinks record JSON about
    /// twelvefold at several hundred MB/s).
    pub(super) fn finish_value(&self) -> Vec<u8> {
        let room = 4 + self.index.len() + first_room(self.text.len());
        let mut value = Vec::with_capacity(room);
        value.extend_from_slice(&(self.count | COMPRESSED).to_le_bytes());
        value.extend_from_slice(&self.index);
        gzip_into(&self.text, &mut value);
        // Segments wait in rounds and batches: each holds its compressed size, not the bound.
        value.shrink_to_fit();
        value
    }

    /// Its summary.
    pub(super) fn info(&self) -> Info {
        Info {
            count: u64::from(self.count),
            bytes: self.json_bytes(),
            purpose: self.purpose,
            category: self.category,
            last: self.last,
        }
    }
}

/// Compressors not in use. libdeflate at level 1 takes a tenth less CPU than miniz_oxide's
/// fastest level and leaves a quarter fewer bytes (record JSON: 12.5x against 9.6x); a
/// compressor allocates its tables (about 250 KiB) once, so up to [`KEPT_DEFLATERS`] are kept.
static DEFLATERS: std::sync::Mutex<Vec<libdeflater::Compressor>> =
    std::sync::Mutex::new(Vec::new());

/// Room first made for the gzip member of `n` bytes of record JSON.
fn first_room(n: usize) -> usize {
    n / 5 + 64
}

/// Compressors kept between segments: one for each round in the policy step at once.
const KEPT_DEFLATERS: usize = 2;

/// Appends `text` to `out` as one gzip member. Room is made for a fifth of `text` (record
/// JSON compresses about twelvefold) and, only if that does not fit, for the worst case, so a
/// segment's buffer stays near its stored size.
pub(super) fn gzip_into(text: &[u8], out: &mut Vec<u8>) {
    let pool = || {
        DEFLATERS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    let mut c = pool().pop().unwrap_or_else(|| {
        libdeflater::Compressor::new(libdeflater::CompressionLvl::new(1).expect("level 1 exists"))
    });
    let start = out.len();
    out.resize(start + first_room(text.len()), 0);
    let n = match c.gzip_compress(text, &mut out[start..]) {
        Ok(n) => n,
        Err(_) => {
            out.resize(start + c.gzip_compress_bound(text.len()), 0);
            c.gzip_compress(text, &mut out[start..])
                .expect("the bound always fits")
        }
    };
    out.truncate(start + n);
    let mut kept = pool();
    if kept.len() < KEPT_DEFLATERS {
        kept.push(c);
    }
}

/// A stored segment, its records readable by index (decompressed when it was stored so).
pub(super) struct View<'a> {
    index: &'a [u8],
    text: Cow<'a, [u8]>,
    /// Bytes between two records: 1 (a comma) in compressed values, 0 in older ones.
    sep: usize,
}

impl<'a> View<'a> {
    /// Checks a stored value's framing and decompresses its records.
    pub(super) fn parse(value: &'a [u8]) -> Result<View<'a>, SpoolError> {
        let (n, compressed, index, rest) = split_value(value)?;
        let bad = |what: &str| SpoolError::Decode(format!("segment {what}"));
        let text = if compressed {
            let want = if n == 0 { 0 } else { end_at(index, n - 1) };
            let mut text = Vec::with_capacity(want);
            flate2::read::GzDecoder::new(rest)
                .take(want as u64 + 1)
                .read_to_end(&mut text)
                .map_err(|e| bad(&format!("does not decompress: {e}")))?;
            if text.len() != want {
                return Err(bad("shorter or longer than its index"));
            }
            Cow::Owned(text)
        } else {
            Cow::Borrowed(rest)
        };
        let view = View {
            index,
            text,
            sep: usize::from(compressed),
        };
        let mut prev = 0;
        for i in 0..n {
            let (start, end) = (view.start(i), end_at(index, i));
            if i > 0 && start < prev || end < start || end > view.text.len() {
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

    fn start(&self, i: usize) -> usize {
        if i == 0 {
            0
        } else {
            end_at(self.index, i - 1) + self.sep
        }
    }

    /// The stored JSON of record `i`.
    pub(super) fn json(&self, i: usize) -> &[u8] {
        &self.text[self.start(i)..end_at(self.index, i)]
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

/// A stored value's parts: record count, whether compressed, index, and what follows it.
type Parts<'a> = (usize, bool, &'a [u8], &'a [u8]);

/// Splits a stored value into its [`Parts`], checking that the index fits.
fn split_value(value: &[u8]) -> Result<Parts<'_>, SpoolError> {
    let bad = |what: &str| SpoolError::Decode(format!("segment {what}"));
    let head = value
        .get(..4)
        .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
        .ok_or_else(|| bad("without a header"))?;
    let n = (head & !COMPRESSED) as usize;
    let index_end = n
        .checked_mul(ENTRY)
        .and_then(|i| i.checked_add(4))
        .filter(|e| *e <= value.len())
        .ok_or_else(|| bad("index past its end"))?;
    Ok((
        n,
        head & COMPRESSED != 0,
        &value[4..index_end],
        &value[index_end..],
    ))
}

fn end_at(index: &[u8], i: usize) -> usize {
    let at = i * ENTRY + 16;
    u32::from_le_bytes(index[at..at + 4].try_into().expect("4 bytes")) as usize
}

/// A stored value in the compressed form (older values are rewritten into it), for a batch.
pub(super) fn compressed(value: &[u8], info: &Info) -> Result<Vec<u8>, SpoolError> {
    if split_value(value)?.1 {
        return Ok(value.to_vec());
    }
    let view = View::parse(value)?;
    Ok(view.subset(info, 0..view.len()).0)
}

/// The gzip member of a compressed value: its records' JSON joined by commas.
pub(super) fn member(value: &[u8]) -> Result<&[u8], SpoolError> {
    match split_value(value)? {
        (_, true, _, member) => Ok(member),
        _ => Err(SpoolError::Decode("segment is not compressed".into())),
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

    #[test]
    fn a_segment_stores_one_gzip_member_of_its_records_joined_by_commas() {
        let mut b = Builder::new(Purpose::Usage, Category::FeatureUsage);
        b.push(7, b"{\"a\":1}");
        b.push(9, b"{}");
        let (value, info) = b.finish();
        let mut text = String::new();
        flate2::read::GzDecoder::new(member(&value).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "{\"a\":1},{}");
        assert_eq!(
            compressed(&value, &info).unwrap(),
            value,
            "already compressed"
        );

        let mut garbled = value.clone();
        let last = garbled.len() - 12;
        garbled[last] ^= 0xff;
        assert!(View::parse(&garbled).is_err(), "a damaged member");
    }

    #[test]
    fn a_full_segment_holds_its_compressed_size_not_the_worst_case() {
        let mut b = Builder::new(Purpose::ServiceOperational, Category::ServiceLogs);
        let record = br#"{"message":"GET /index.html 200 from [ipv4:h:04865a1e]"}"#;
        for id in 0..1_000 {
            b.push(id, record);
        }
        let value = b.finish_value();
        let view = View::parse(&value).unwrap();
        assert_eq!((view.len(), view.json(999)), (1_000, &record[..]));
        assert!(
            value.capacity() < ENTRY * 1_000 + record.len() * 1_000 / 2,
            "{} bytes held for {} stored",
            value.capacity(),
            value.len()
        );
    }

    #[test]
    fn a_segment_that_does_not_compress_still_stores_whole() {
        let mut b = Builder::new(Purpose::ServiceOperational, Category::ServiceLogs);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let noise: Vec<Vec<u8>> = (0..50)
            .map(|_| {
                (0..200)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x.to_le_bytes()[0]
                    })
                    .collect()
            })
            .collect();
        for (id, n) in noise.iter().enumerate() {
            b.push(id as u128, n);
        }
        let value = b.finish_value();
        let view = View::parse(&value).unwrap();
        assert!(value.len() > 50 * 200, "random bytes do not shrink");
        for (i, n) in noise.iter().enumerate() {
            assert_eq!(view.json(i), &n[..]);
        }
    }

    #[test]
    fn values_from_before_compression_still_read_and_convert() {
        let mut old = 2u32.to_le_bytes().to_vec();
        for (id, end) in [(7u128, 7u32), (9, 9)] {
            old.extend_from_slice(&id.to_le_bytes());
            old.extend_from_slice(&end.to_le_bytes());
        }
        old.extend_from_slice(b"{\"a\":1}{}");
        let v = View::parse(&old).unwrap();
        assert_eq!(
            (v.len(), v.json(0), v.json(1)),
            (2, &b"{\"a\":1}"[..], &b"{}"[..])
        );
        assert!(member(&old).is_err());
        let info = Info {
            count: 2,
            bytes: 9,
            purpose: Purpose::Usage,
            category: Category::FeatureUsage,
            last: 9,
        };
        let new = compressed(&old, &info).unwrap();
        let v = View::parse(&new).unwrap();
        assert_eq!(
            (v.id(1), v.json(0), v.json(1)),
            (9, &b"{\"a\":1}"[..], &b"{}"[..])
        );
    }
}
