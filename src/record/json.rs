//! A record's JSON written directly: the same bytes `serde_json` writes for its serde form
//! (the wire contract), without serde's per-byte escaping of text that needs none. The policy
//! step writes every record this way, so it is on the hot path of each log line.

use serde_json::{Map, Value};

use super::{Action, Provenance, Record};

impl Record {
    /// Appends the record's JSON to `out`: byte for byte what `serde_json::to_writer` writes.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let mut id = [0u8; uuid::fmt::Hyphenated::LENGTH];
        out.extend_from_slice(b"{\"id\":\"");
        out.extend_from_slice(self.id.0.hyphenated().encode_lower(&mut id).as_bytes());
        out.extend_from_slice(b"\",\"collected_at\":");
        write_str(out, &self.collected_at);
        out.extend_from_slice(b",\"category\":\"");
        out.extend_from_slice(self.category.as_str().as_bytes());
        out.extend_from_slice(b"\",\"purpose\":\"");
        out.extend_from_slice(self.purpose.as_str().as_bytes());
        out.extend_from_slice(b"\",\"source\":");
        write_str(out, &self.source);
        if let Some(event) = &self.event {
            out.extend_from_slice(b",\"event\":");
            write_str(out, event);
        }
        out.extend_from_slice(b",\"fields\":");
        write_map(out, &self.fields);
        if let Some(body) = &self.body {
            out.extend_from_slice(b",\"body\":");
            write_str(out, body);
        }
        out.extend_from_slice(b",\"policy\":{\"version\":");
        write_str(out, &self.policy.version);
        out.extend_from_slice(b",\"sha256\":");
        write_str(out, &self.policy.sha256);
        out.extend_from_slice(b"},\"provenance\":[");
        for (i, p) in self.provenance.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_provenance(out, p);
        }
        out.extend_from_slice(b"]}");
    }
}

fn write_provenance(out: &mut Vec<u8>, p: &Provenance) {
    out.extend_from_slice(b"{\"field\":");
    write_str(out, &p.field);
    out.extend_from_slice(b",\"rule\":");
    write_str(out, &p.rule);
    out.extend_from_slice(match p.action {
        Action::Removed => b",\"action\":\"removed\"",
        Action::Pseudonymized => b",\"action\":\"pseudonymized\"",
        Action::Masked => b",\"action\":\"masked\"",
    });
    if let Some((start, end)) = p.span {
        let mut n = itoa::Buffer::new();
        out.extend_from_slice(b",\"span\":[");
        out.extend_from_slice(n.format(start).as_bytes());
        out.push(b',');
        out.extend_from_slice(n.format(end).as_bytes());
        out.push(b']');
    }
    out.push(b'}');
}

fn write_map(out: &mut Vec<u8>, map: &Map<String, Value>) {
    out.push(b'{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, k);
        out.push(b':');
        write_value(out, v);
    }
    out.push(b'}');
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::String(s) => write_str(out, s),
        Value::Object(m) => write_map(out, m),
        Value::Array(a) => {
            out.push(b'[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, v);
            }
            out.push(b']');
        }
        other => serde_json::to_writer(&mut *out, other).expect("a JSON value always serializes"),
    }
}

/// A JSON string: copied between quotes when no byte needs escaping (checked a block at a
/// time, which the compiler vectorises), else escaped run by run as `serde_json` escapes.
fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if bytes.chunks(32).all(plain) {
        out.extend_from_slice(bytes);
    } else {
        write_escaped(out, bytes);
    }
    out.push(b'"');
}

/// Whether no byte of `block` needs escaping (a fold the compiler vectorises).
fn plain(block: &[u8]) -> bool {
    !block.iter().fold(false, |bad, &b| {
        bad | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

/// The escapes `serde_json` writes: `\"`, `\\`, the short forms of five control bytes and
/// `\u00XX` (lowercase hex) for the rest below 0x20; everything else, UTF-8 included, as is.
/// Blocks of 16 bytes with nothing to escape are passed over whole.
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes.get(i..i + 16).is_some_and(plain) {
            i += 16;
            continue;
        }
        let b = bytes[i];
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..0x20 => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ],
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[run..i]);
        out.extend_from_slice(short);
        i += 1;
        run = i;
    }
    out.extend_from_slice(&bytes[run..]);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::record::{Category, PolicyStamp, Purpose, RecordId};

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9 .:=/-]{0,40}",
            any::<String>(),
            "[\"\\\\\u{0}-\u{1f}\u{7f}é€😀a]{0,12}",
            // Long plain runs around an escape, as in log lines with quotes.
            "([a-z0-9 /=é]{0,40}[\"\\\\\n\u{1}]){1,4}[a-z0-9 ]{0,40}",
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| json!(f)),
            text().prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map(text(), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn provenance() -> impl Strategy<Value = Provenance> {
        (
            text(),
            text(),
            0..3u8,
            proptest::option::of((any::<usize>(), any::<usize>())),
        )
            .prop_map(|(field, rule, a, span)| Provenance {
                field: field.into(),
                rule: rule.into(),
                action: [Action::Removed, Action::Pseudonymized, Action::Masked][usize::from(a)],
                span,
            })
    }

    prop_compose! {
        fn record()(
            id in any::<u128>(),
            collected_at in text(),
            c in 0..Category::ALL.len(),
            p in 0..Purpose::ALL.len(),
            source in text(),
            event in proptest::option::of(text()),
            fields in prop::collection::btree_map(text(), value(), 0..5),
            body in proptest::option::of(text()),
            version in text(),
            sha256 in text(),
            provenance in prop::collection::vec(provenance(), 0..4),
        ) -> Record {
            Record {
                id: RecordId::from_u128(id),
                collected_at,
                category: Category::ALL[c],
                purpose: Purpose::ALL[p],
                source,
                event,
                fields: fields.into_iter().collect(),
                body,
                policy: PolicyStamp {
                    version: version.into(),
                    sha256: sha256.into(),
                },
                provenance,
            }
        }
    }

    proptest! {
        #[test]
        fn writes_exactly_what_serde_json_writes(r in record()) {
            let mut out = Vec::new();
            r.write_json(&mut out);
            prop_assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(&r).unwrap()
            );
        }
    }
}
