//! `format = "otlp"`: the real agent ships OTLP/HTTP JSON logs, decoded here with the
//! OpenTelemetry project's own protobuf types (opentelemetry-proto, serde form).

mod common;

use common::scripted::{Scripted, ok};
use common::*;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;

fn attr<'a>(
    attrs: &'a [opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
) -> Option<&'a Any> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

#[test]
fn records_travel_as_otlp_logs_that_the_reference_types_decode() {
    let tmp = tempfile::tempdir().unwrap();
    let receiver = Scripted::start(|_, b| ok(b));
    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("app.log"),
        "login user=alice from 192.0.2.7\nhealth ok\n",
    )
    .unwrap();
    let body = format!(
        "[collector]\nendpoint = {:?}\nformat = \"otlp\"\n\n[[source]]\ntype = \"log_file\"\npaths = [\"{}/*.log\"]\nstart_at = \"beginning\"\n\n\
         [category.service-logs]\npurpose = \"service-operational\"\nallow = [\"file\"]\nscrub = [\"message\"]\n",
        receiver.otlp_endpoint(),
        logs.display()
    );
    let policy = policy(tmp.path(), "p.toml", &tmp.path().join("agent"), &body);

    let out = run_once(&policy);
    assert!(out.status.success(), "{}", text(&out));
    let bodies = receiver.otlp_bodies();
    assert_eq!(bodies.len(), 1);
    let request: ExportLogsServiceRequest = serde_json::from_slice(&bodies[0])
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bodies[0])));
    let resource = &request.resource_logs[0];
    let res_attrs = &resource.resource.as_ref().unwrap().attributes;
    assert_eq!(
        attr(res_attrs, "service.name"),
        Some(&Any::StringValue("noticed".into()))
    );
    assert!(matches!(attr(res_attrs, "host.id"), Some(Any::StringValue(h)) if h.starts_with("h:")));
    assert!(attr(res_attrs, "noticed.batch.id").is_some());
    let records = &resource.scope_logs[0].log_records;
    assert_eq!(records.len(), 2);
    let mut messages = Vec::new();
    for r in records {
        assert!(
            r.time_unix_nano > 1_700_000_000_000_000_000,
            "{}",
            r.time_unix_nano
        );
        assert_eq!(
            attr(&r.attributes, "noticed.purpose"),
            Some(&Any::StringValue("service-operational".into()))
        );
        assert_eq!(
            attr(&r.attributes, "noticed.category"),
            Some(&Any::StringValue("service-logs".into()))
        );
        let Some(Any::KvlistValue(fields)) = r.body.as_ref().and_then(|b| b.value.as_ref()) else {
            panic!("body is the record's fields: {:?}", r.body);
        };
        if let Some(Any::StringValue(m)) = attr(&fields.values, "message") {
            messages.push(m.clone());
        }
    }
    messages.sort();
    assert_eq!(messages[0], "health ok");
    assert!(
        messages[1].starts_with("login user=[user_name:h:")
            && messages[1].contains("from [ipv4:h:"),
        "{}",
        messages[1]
    );
    let raw = String::from_utf8_lossy(&bodies[0]);
    assert!(
        !raw.contains("alice") && !raw.contains("192.0.2.7"),
        "{raw}"
    );
}
