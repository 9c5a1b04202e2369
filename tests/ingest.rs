//! The ingest source end to end: applications on a real Unix socket and loopback HTTP, the
//! daemon, the policy, the collector.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;

use common::*;
use serde_json::{Value, json};

/// The HTTP address the daemon logged for its ingest endpoint.
fn http_address(log: &[String]) -> String {
    let line = log
        .iter()
        .find(|l| l.contains("ingest endpoint listening"))
        .unwrap();
    let at = line.find("address=").unwrap() + "address=".len();
    line[at..].split_whitespace().next().unwrap().to_owned()
}

fn ask(socket: &std::path::Path, line: &str) -> Value {
    let mut s = UnixStream::connect(socket).unwrap();
    writeln!(s, "{line}").unwrap();
    let mut reply = String::new();
    BufReader::new(s).read_line(&mut reply).unwrap();
    serde_json::from_str(&reply).unwrap()
}

#[test]
fn events_from_local_applications_reach_the_collector_through_the_policy() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start(&tmp.path().join("collector"));
    let data = tmp.path().join("agent");
    let socket = tmp.path().join("ingest.sock");
    let body = format!(
        "{}[consent]\nusage = true\n\n[[source]]\ntype = \"ingest\"\nsocket = {:?}\nhttp = \"127.0.0.1:0\"\nmax_line_bytes = 1024\n\n\
         [category.feature-usage]\npurpose = \"usage\"\nallow = [\"feature\", \"duration_ms\"]\npseudonymize = [\"user.email\"]\n\n\
         [category.performance]\npurpose = \"service-operational\"\nallow = [\"ui.*\"]\n\n\
         [[rule]]\ncategory = \"feature-usage\"\nmatch = {{ event = \"license.*\" }}\npurpose = \"service-operational\"\n",
        collector_section(&collector.endpoint()),
        socket.display().to_string()
    );
    let p = policy(tmp.path(), "p.toml", &data, &body);
    let (daemon, seen) = start_daemon(
        &p,
        "info",
        &["ingest endpoint listening", "ingest socket listening"],
    );
    let http = http_address(&seen);

    let alice = "alice@example.com";
    let ok = json!({"ok": true});
    assert_eq!(
        ask(
            &socket,
            &format!(
                r#"{{"event":"report.exported","fields":{{"feature":"reports","duration_ms":41,"user":{{"email":"{alice}"}},"note":"x"}}}}"#
            )
        ),
        ok
    );
    assert_eq!(
        ask(
            &socket,
            r#"{"event":"license.check","fields":{"feature":"seats"}}"#
        ),
        ok
    );
    assert_eq!(
        ask(
            &socket,
            r#"{"event":"ui.render","category":"performance","fields":{"ui":{"response_ms":83}}}"#
        ),
        ok
    );
    let bad = [
        ("{not json".to_owned(), "malformed event"),
        (r#"{"fields":{}}"#.to_owned(), "missing field `event`"),
        (
            format!(
                r#"{{"event":"big","fields":{{"pad":"{}"}}}}"#,
                "x".repeat(2000)
            ),
            "longer than 1024 bytes",
        ),
    ];
    for (line, needle) in &bad {
        let reply = ask(&socket, line);
        assert_eq!(reply["ok"], json!(false), "{reply}");
        assert!(reply["error"].as_str().unwrap().contains(needle), "{reply}");
    }
    // Invalid UTF-8, then a good line on the same connection: the source goes on.
    let mut s = UnixStream::connect(&socket).unwrap();
    s.write_all(b"{\"event\":\"\xff\",\"fields\":{}}\n{\"event\":\"after.bad\",\"fields\":{\"feature\":\"f\"}}\n").unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let replies: Vec<Value> = BufReader::new(s)
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert_eq!(replies[0]["ok"], json!(false));
    assert_eq!(replies[1], ok);

    let payload = "{\"event\":\"export.done\",\"fields\":{\"feature\":\"csv\"}}\n{\"event\":7}\n";
    let mut tcp = std::net::TcpStream::connect(&http).unwrap();
    write!(tcp, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}", payload.len()).unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains(r#""accepted":1"#) && response.contains(r#""rejected":1"#),
        "{response}"
    );

    let records = wait_for(
        "five events at the collector",
        std::time::Duration::from_secs(30),
        || {
            let r = collector.records();
            (r.len() >= 5).then_some(r)
        },
    );
    assert_eq!(records.len(), 5, "{records:?}");
    let by_event = |name: &str| {
        records
            .iter()
            .find(|r| r["event"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let report = by_event("report.exported");
    assert_eq!(report["purpose"], "usage");
    assert_eq!(report["fields"]["duration_ms"], json!(41));
    assert!(
        report["fields"]["user"]["email"]
            .as_str()
            .unwrap()
            .starts_with("h:")
    );
    assert!(
        report["fields"].get("note").is_none(),
        "not allowed, not sent"
    );
    assert_eq!(
        by_event("license.check")["purpose"],
        "service-operational",
        "the rule overrides the category"
    );
    assert_eq!(by_event("ui.render")["category"], "performance");
    assert_eq!(by_event("after.bad")["purpose"], "usage");
    assert_eq!(by_event("export.done")["source"], "ingest");
    assert_eq!(occurs_under(&collector.dir, alice.as_bytes()), None);
    assert_eq!(occurs_under(&data, alice.as_bytes()), None);

    let status = admin_status(&data).expect("the daemon answers");
    let counter = |name: &str| counter(&status, name);
    assert_eq!(counter("ingest.accepted"), 5, "{status}");
    assert_eq!(
        counter("ingest.rejected"),
        4,
        "malformed, no event, invalid UTF-8, and one over HTTP: {status}"
    );
    assert_eq!(counter("ingest.too_long"), 1, "{status}");

    terminate(daemon);
    assert!(!socket.exists(), "the ingest socket is removed on exit");
}

#[test]
fn rate_limits_refuse_and_count_what_exceeds_them() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("agent");
    let socket = tmp.path().join("ingest.sock");
    let body = format!(
        "[consent]\nusage = true\n\n[[source]]\ntype = \"ingest\"\nsocket = {:?}\nhttp = \"127.0.0.1:0\"\nmax_events_per_second = 1\n\n\
         [category.feature-usage]\npurpose = \"usage\"\nallow = [\"n\"]\n",
        socket.display().to_string()
    );
    let p = policy(tmp.path(), "p.toml", &data, &body);
    let (daemon, seen) = start_daemon(
        &p,
        "info",
        &["ingest endpoint listening", "ingest socket listening"],
    );
    let http = http_address(&seen);

    let events: String = (0..8)
        .map(|n| format!("{{\"event\":\"tick\",\"fields\":{{\"n\":{n}}}}}\n"))
        .collect();
    let mut tcp = std::net::TcpStream::connect(&http).unwrap();
    write!(tcp, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{events}", events.len()).unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).unwrap();
    assert!(
        response.contains(r#""accepted":1"#) && response.contains(r#""rejected":7"#),
        "{response}"
    );
    assert!(response.contains("slow down"), "{response}");

    let mut s = UnixStream::connect(&socket).unwrap();
    s.write_all(events.as_bytes()).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let replies: Vec<Value> = BufReader::new(s)
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert_eq!(
        replies.iter().filter(|r| r["ok"] == json!(true)).count(),
        1,
        "{replies:?}"
    );
    assert_eq!(
        replies
            .iter()
            .filter(|r| r["error"].as_str().is_some_and(|e| e.contains("slow down")))
            .count(),
        7
    );

    let status = wait_for(
        "the refusals counted",
        std::time::Duration::from_secs(30),
        || admin_status(&data).filter(|s| counter(s, "ingest.rate_limited") == 14),
    );
    assert_eq!(counter(&status, "ingest.accepted"), 2, "{status}");
    terminate(daemon);
}

#[test]
fn the_ingest_socket_refuses_a_user_outside_the_noticed_group() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    if !common::root_or_skip("switching to another uid needs root") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let socket = tmp.path().join("ingest.sock");
    let body = format!(
        "[consent]\nusage = true\n\n[[source]]\ntype = \"ingest\"\nsocket = {:?}\n\n\
         [category.feature-usage]\npurpose = \"usage\"\nallow = [\"feature\"]\n",
        socket.display().to_string()
    );
    let data = tmp.path().join("agent");
    let p = policy(tmp.path(), "p.toml", &data, &body);
    let (daemon, _) = start_daemon(&p, "info", &["ingest socket listening"]);
    let event = r#"{"event":"report.exported","fields":{"feature":"reports"}}"#;
    assert_eq!(ask(&socket, event), json!({"ok": true}), "root may report");

    let script = "import json, socket, sys\n\
                  s = socket.socket(socket.AF_UNIX)\n\
                  s.connect(sys.argv[1])\n\
                  s.sendall(sys.argv[2].encode() + b'\\n')\n\
                  print(s.makefile().readline().strip())\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script, socket.to_str().unwrap(), event])
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    let reply: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(reply["ok"], false);
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("access denied: uid 65534"),
        "{reply}"
    );
    let status = wait_for(
        "the refusal counted",
        std::time::Duration::from_secs(10),
        || admin_status(&data).filter(|s| counter(s, "ingest.refused_peers") == 1),
    );
    assert_eq!(
        counter(&status, "ingest.accepted"),
        1,
        "only root's event was taken"
    );
    terminate(daemon);
}
