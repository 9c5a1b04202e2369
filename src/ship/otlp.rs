//! `format = "otlp"`: a batch as an OTLP/HTTP JSON logs export (`ExportLogsServiceRequest`),
//! so a fleet can ship into an OpenTelemetry Collector. One log record per record: its fields
//! as the body (a key-value list), its id, category, purpose, source and event as attributes;
//! the host pseudonym, policy and batch id as resource attributes. OTLP has no batch-level
//! dedup, so delivery there is at-least-once; `noticed.batch.id` lets a pipeline deduplicate.

use serde_json::{Map, Value, json};

use crate::record::{PolicyStamp, Record};

/// The export request for `batch`.
pub fn export_request(
    batch_id: uuid::Uuid,
    records: &[Record],
    host: &str,
    policy: &PolicyStamp,
) -> Value {
    let resource = [
        kv("service.name", string("noticed")),
        kv("service.version", string(env!("CARGO_PKG_VERSION"))),
        kv("host.id", string(host)),
        kv("noticed.batch.id", string(&batch_id.to_string())),
        kv("noticed.policy.version", string(&policy.version)),
        kv("noticed.policy.sha256", string(&policy.sha256)),
    ];
    let records: Vec<Value> = records.iter().map(log_record).collect();
    json!({
        "resourceLogs": [{
            "resource": {"attributes": resource},
            "scopeLogs": [{
                "scope": {"name": "noticed", "version": env!("CARGO_PKG_VERSION")},
                "logRecords": records,
            }],
        }],
    })
}

fn log_record(r: &Record) -> Value {
    let nanos = humantime::parse_rfc3339(&r.collected_at)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let mut attributes = vec![
        kv("noticed.record.id", string(&r.id.to_string())),
        kv("noticed.category", string(r.category.as_str())),
        kv("noticed.purpose", string(r.purpose.as_str())),
        kv("noticed.source", string(&r.source)),
    ];
    if let Some(event) = &r.event {
        attributes.push(kv("event.name", string(event)));
    }
    let mut body = r.fields.clone();
    if let Some(text) = &r.body {
        body.insert("body".into(), Value::String(text.clone()));
    }
    json!({
        "timeUnixNano": nanos.to_string(),
        "observedTimeUnixNano": nanos.to_string(),
        "severityNumber": 9,
        "severityText": "INFO",
        "body": any_value(&Value::Object(body)),
        "attributes": attributes,
    })
}

fn kv(key: &str, value: Value) -> Value {
    json!({"key": key, "value": value})
}

fn string(s: &str) -> Value {
    json!({"stringValue": s})
}

/// A JSON value as an OTLP `AnyValue` (int64 as a decimal string, per the protobuf JSON
/// mapping).
fn any_value(v: &Value) -> Value {
    match v {
        Value::Null => json!({}),
        Value::Bool(b) => json!({"boolValue": b}),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => json!({"intValue": i.to_string()}),
            (None, Some(f)) => json!({"doubleValue": f}),
            (None, None) => json!({"stringValue": n.to_string()}),
        },
        Value::String(s) => string(s),
        Value::Array(items) => {
            json!({"arrayValue": {"values": items.iter().map(any_value).collect::<Vec<_>>()}})
        }
        Value::Object(map) => json!({"kvlistValue": {"values": kvlist(map)}}),
    }
}

fn kvlist(map: &Map<String, Value>) -> Vec<Value> {
    map.iter().map(|(k, v)| kv(k, any_value(v))).collect()
}
