use super::*;

const EXAMPLE: &str = r#"
[notice]
title = "Example Cloud products and services privacy notice"
version = "2019-07-01"
contact = "privacy@example.com"

[consent]
usage = false

[agent]
data_dir = "/var/lib/noticed"
key_file = "/var/lib/noticed/pseudonym.key"

[collector]
endpoint = "http://127.0.0.1:4390/v1/batches"
batch_max_records = 500
flush_interval = "10s"

[[source]]
type = "host_metrics"
interval = "60s"

[category.performance]
purpose = "service-operational"
allow = ["cpu.*", "memory.*", "load.*", "disk.*", "network.*"]
drop = []
pseudonymize = []
mask = []
"#;

#[test]
fn the_issue_example_parses() {
    let p = Policy::parse(EXAMPLE, "example.toml").unwrap();
    assert_eq!(&*p.stamp.version, "2019-07-01");
    assert_eq!(p.stamp.sha256.len(), 64);
    let c = p.file.collector.as_ref().unwrap();
    assert_eq!(c.batch_max_records.get(), 500);
    assert_eq!(c.flush_interval.0, std::time::Duration::from_secs(10));
    assert_eq!(p.file.sources[0].kind(), "host_metrics");
    assert!(p.uncollected_categories().is_empty());
}

#[test]
fn the_embedded_default_is_local_only_and_without_usage() {
    let p = Policy::embedded_default();
    assert!(p.file.collector.is_none());
    assert!(!p.file.consent.usage);
    assert!(p.uncollected_categories().is_empty());
}

#[test]
fn the_embedded_default_keeps_mount_points_but_not_the_user_in_them() {
    use crate::record::{Category, Draft};
    let p = Policy::embedded_default();
    let key = PseudonymKey::from_bytes(&[4; KEY_LEN]);
    for (category, field) in [
        (Category::Configuration, "disks"),
        (Category::Performance, "disk"),
    ] {
        let fields = serde_json::json!({ field: { "mounts": [{ "mount": "/media/alice.smith/USB STICK" }] } });
        let serde_json::Value::Object(map) = fields else {
            unreachable!()
        };
        let crate::policy::Verdict::Keep(r) =
            crate::policy::evaluate(&p, &key, Draft::new(category, "test", map))
        else {
            panic!("{category} is collected by default");
        };
        let mount = r.fields[field]["mounts"][0]["mount"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            mount.starts_with("/media/[user_name:h:") && mount.ends_with("]/USB STICK"),
            "{mount}"
        );
    }
}

#[test]
fn the_hash_ignores_comments_and_layout_but_not_content() {
    let a = Policy::parse(EXAMPLE, "a").unwrap();
    let spaced = EXAMPLE.replace("usage = false", "usage    =   false   # still off");
    let b = Policy::parse(&spaced, "b").unwrap();
    assert_eq!(a.stamp, b.stamp);
    let changed = EXAMPLE.replace("usage = false", "usage = true");
    let c = Policy::parse(&changed, "c").unwrap();
    assert_ne!(a.stamp.sha256, c.stamp.sha256);
}

/// Each broken policy, and the exact position and message fragment it must be reported with.
#[test]
fn broken_policies_name_line_and_column() {
    let notice = "[notice]\ntitle = \"t\"\nversion = \"1\"\ncontact = \"c\"\n";
    let cases: &[(&str, &str, (usize, usize), &str)] = &[
        (
            "unknown top-level table",
            "[colector]\n",
            (5, 2),
            "unknown field `colector`",
        ),
        (
            "unknown key in a section",
            "[consent]\nusage = false\nusagee = true\n",
            (7, 1),
            "unknown field `usagee`",
        ),
        (
            "wrong type",
            "[consent]\nusage = \"yes\"\n",
            (6, 9),
            "invalid type: string \"yes\", expected a boolean",
        ),
        (
            "unknown category",
            "[category.perf]\npurpose = \"usage\"\n",
            (5, 11),
            "unknown variant `perf`",
        ),
        (
            "unknown purpose",
            "[category.performance]\npurpose = \"analytics\"\n",
            (6, 11),
            "unknown variant `analytics`",
        ),
        (
            "missing purpose",
            "[category.performance]\nallow = []\n",
            (5, 1),
            "missing field `purpose`",
        ),
        (
            "bad glob",
            "[category.performance]\npurpose = \"usage\"\nallow = [\"cpu..x\"]\n",
            (7, 9),
            "empty segment",
        ),
        (
            "bad duration",
            "[[source]]\ntype = \"host_metrics\"\ninterval = \"soon\"\n",
            (7, 12),
            "invalid duration `soon`",
        ),
        (
            "zero duration",
            "[[source]]\ntype = \"host_metrics\"\ninterval = \"0s\"\n",
            (7, 12),
            "zero",
        ),
        (
            "unknown source type",
            "[[source]]\ntype = \"telepathy\"\n",
            (6, 8),
            "unknown source type `telepathy`",
        ),
        (
            "unknown source key",
            "[[source]]\ntype = \"host_metrics\"\nintervall = \"5s\"\n",
            (7, 1),
            "unknown field `intervall`",
        ),
        (
            "zero batch size",
            "[collector]\nendpoint = \"http://127.0.0.1:1/v1/batches\"\nbatch_max_records = 0\n",
            (7, 21),
            "nonzero",
        ),
        (
            "bad endpoint",
            "[collector]\nendpoint = \"ftp://x/\"\n",
            (6, 12),
            "http:// or https://",
        ),
        (
            "credentials in endpoint",
            "[collector]\nendpoint = \"https://u:p@x/\"\n",
            (6, 12),
            "user name or password",
        ),
        ("not toml", "[consent\n", (5, 9), "unclosed table"),
        (
            "bad journal priority",
            "[[source]]\ntype = \"journald\"\npriority = \"loud\"\n",
            (7, 12),
            "unknown priority `loud`",
        ),
        (
            "relative log path",
            "[[source]]\ntype = \"log_file\"\npaths = [\"logs/*.log\"]\n",
            (7, 9),
            "must be absolute",
        ),
        (
            "bad log glob",
            "[[source]]\ntype = \"log_file\"\npaths = [\"/var/log/[x\"]\n",
            (7, 9),
            "invalid path pattern",
        ),
        (
            "bad start_at",
            "[[source]]\ntype = \"log_file\"\npaths = [\"/x/*.log\"]\nstart_at = \"middle\"\n",
            (8, 12),
            "unknown variant `middle`",
        ),
        (
            "ingest on a public address",
            "[[source]]\ntype = \"ingest\"\nhttp = \"0.0.0.0:4391\"\n",
            (7, 8),
            "not a loopback address",
        ),
        (
            "rule without purpose",
            "[[rule]]\ncategory = \"feature-usage\"\nmatch = { event = \"a.*\" }\n",
            (5, 1),
            "missing field `purpose`",
        ),
        (
            "rule matching on something else",
            "[[rule]]\ncategory = \"feature-usage\"\nmatch = { user = \"a\" }\npurpose = \"usage\"\n",
            (7, 11),
            "unknown field `user`",
        ),
        (
            "unknown detector",
            "[scrub]\ndetectors = [\"emial\"]\n",
            (6, 14),
            "unknown variant `emial`",
        ),
        (
            "unknown scrub action",
            "[scrub]\naction = \"hash\"\n",
            (6, 10),
            "unknown variant `hash`",
        ),
        (
            "bad scrub field",
            "[category.service-logs]\npurpose = \"usage\"\nscrub = [\"\"]\n",
            (7, 9),
            "empty field pattern",
        ),
        (
            "free text allowed raw by a wildcard",
            "[category.service-logs]\npurpose = \"service-operational\"\nallow = [\"file\", \"*\"]\n",
            (7, 18),
            "sends `message` (free text) without scrubbing it",
        ),
        (
            "free text allowed raw by name",
            "[category.feature-usage]\npurpose = \"usage\"\nallow = [\"message\"]\n",
            (7, 10),
            "send_unscrubbed_free_text",
        ),
        (
            "every detector off while a category scrubs",
            "[scrub]\ndetectors = []\n[category.service-logs]\npurpose = \"usage\"\nscrub = [\"message\"]\n",
            (6, 1),
            "detectors is empty",
        ),
    ];
    for (what, body, (line, column), fragment) in cases {
        let text = format!("{notice}{body}");
        let err = Policy::parse(&text, "p.toml").expect_err(what);
        assert_eq!(err.position, Some((*line, *column)), "{what}: {err}");
        assert!(err.message.contains(fragment), "{what}: {err}");
        assert!(
            err.to_string()
                .starts_with(&format!("p.toml:{line}:{column}: ")),
            "{what}: {err}"
        );
    }
}

#[test]
fn raw_free_text_passes_only_when_acknowledged_or_scrubbed() {
    let notice = "[notice]\ntitle = \"t\"\nversion = \"1\"\ncontact = \"c\"\n";
    for body in [
        "[scrub]\nsend_unscrubbed_free_text = true\n[category.service-logs]\npurpose = \"usage\"\nallow = [\"*\"]\n",
        "[category.service-logs]\npurpose = \"usage\"\nallow = [\"*\"]\nscrub = [\"message\"]\n",
        "[category.service-logs]\npurpose = \"usage\"\nallow = [\"*\"]\ndrop = [\"message\"]\n",
        "[scrub]\ndetectors = []\n[category.performance]\npurpose = \"usage\"\nallow = [\"cpu.*\"]\n",
    ] {
        let text = format!("{notice}{body}");
        assert!(Policy::parse(&text, "p.toml").is_ok(), "{body}");
    }
}

#[test]
fn a_missing_notice_is_reported() {
    let err = Policy::parse("[consent]\nusage = true\n", "p.toml").unwrap_err();
    assert!(err.message.contains("missing field `notice`"), "{err}");
}

#[test]
fn positions_count_characters_not_bytes() {
    assert_eq!(line_column("ab\ncd", 4), (2, 2));
    assert_eq!(line_column("é=\"x", 3), (1, 3));
    assert_eq!(line_column("é", 1), (1, 1));
    assert_eq!(line_column("", 10), (1, 1));
}

#[test]
fn source_shape_errors_point_at_the_source() {
    let notice = "[notice]\ntitle = \"t\"\nversion = \"1\"\ncontact = \"c\"\n";
    let err =
        Policy::parse(&format!("{notice}[source]\ntype = \"host_metrics\"\n"), "p").unwrap_err();
    assert!(err.message.contains("[[source]]"), "{err}");
    let err = Policy::parse(&format!("{notice}[[source]]\ninterval = \"5s\"\n"), "p").unwrap_err();
    assert_eq!(err.position, Some((5, 1)), "{err}");
    assert!(err.message.contains("missing field `type`"), "{err}");
    let err = Policy::parse(&format!("{notice}[[source]]\ntype = 3\n"), "p").unwrap_err();
    assert_eq!(err.position, Some((6, 8)), "{err}");
}

#[test]
fn the_readme_policy_example_is_valid() {
    let readme = include_str!("../../README.md");
    let section = &readme[readme
        .find("## The policy file")
        .expect("README has the section")..];
    let start = section.find("```toml\n").expect("a TOML block") + "```toml\n".len();
    let block = &section[start..start + section[start..].find("```").unwrap()];
    let p = Policy::parse(block, "README.md").unwrap_or_else(|e| panic!("{e}"));
    let kinds: Vec<&str> = p.file.sources.iter().map(SourceSpec::kind).collect();
    assert_eq!(
        kinds,
        [
            "host_metrics",
            "host_config",
            "log_file",
            "journald",
            "ingest"
        ]
    );
    assert_eq!(p.file.rules.len(), 1);
    assert!(p.file.collector.is_some());
}

#[test]
fn the_documented_defaults_hold_where_the_policy_is_silent() {
    let p = Policy::parse(EXAMPLE, "example.toml").unwrap();
    let week = std::time::Duration::from_secs(7 * 24 * 3600);
    assert_eq!(p.file.retention.pending_max_age.0, week);
    assert_eq!(p.file.retention.history.0, week);
    assert_eq!(p.file.retention.spool_max_bytes, 256 << 20);
    let SourceSpec::HostMetrics(metrics) = &p.file.sources[0] else {
        panic!("the example's first source is host_metrics");
    };
    assert_eq!(metrics.top_processes, 5, "README: top_processes = 5");
}

#[test]
fn a_journal_priority_is_a_name_or_one_digit_from_0_to_7() {
    let with = |priority: &str| {
        let text =
            format!("{EXAMPLE}\n[[source]]\ntype = \"journald\"\npriority = \"{priority}\"\n");
        Policy::parse(&text, "p.toml")
    };
    for good in ["err", "debug", "0", "7"] {
        assert!(with(good).is_ok(), "{good}");
    }
    for bad in ["8", "07", "errr", "", "e"] {
        let e = with(bad).expect_err(bad).to_string();
        assert!(e.contains("unknown priority"), "{bad}: {e}");
    }
}

#[test]
fn policies_that_differ_in_one_value_are_not_equal() {
    let a = Policy::parse(EXAMPLE, "a").unwrap();
    let b = Policy::parse(&EXAMPLE.replace("usage = false", "usage = true"), "b").unwrap();
    assert_eq!(a, Policy::parse(EXAMPLE, "again").unwrap());
    assert_ne!(a, b);
}

#[test]
fn admin_patterns_are_checked_at_their_name_or_regex() {
    let notice = "[notice]\ntitle = \"t\"\nversion = \"1\"\ncontact = \"c\"\n";
    let policy = |body: &str| Policy::parse(&format!("{notice}{body}"), "p");
    let err = policy("[[scrub.pattern]]\nname = \"emp\"\nregex = \"E(\\\\d+\"\n").unwrap_err();
    assert_eq!(err.position, Some((7, 9)), "{err}");
    assert!(err.message.contains("invalid regex"), "{err}");
    let err = policy("[[scrub.pattern]]\nname = \"emp\"\nregex = \"\\\\d*\"\n").unwrap_err();
    assert_eq!(err.position, Some((7, 9)), "{err}");
    assert!(err.message.contains("can match empty text"), "{err}");
    let err = policy("[[scrub.pattern]]\nname = \"ipv4\"\nregex = \"x\\\\d\"\n").unwrap_err();
    assert_eq!(err.position, Some((6, 8)), "{err}");
    let err = policy("[[scrub.pattern]]\nname = \"emp\"\nregex = \"x\"\ncolour = 1\n").unwrap_err();
    assert!(err.message.contains("colour"), "{err}");
    let ok = policy(
        "[[scrub.pattern]]\nname = \"employee\"\nregex = \"EMP-\\\\d{6}\"\nkeywords = [\"employee\"]\naction = \"mask\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let scrubber = ok.scrubber();
    let key = crate::policy::PseudonymKey::from_bytes(&[3; crate::policy::KEY_LEN]);
    let (out, _) = scrubber
        .scrub_text(&key, "employee EMP-123456 badge")
        .expect("a hit");
    assert_eq!(out, "employee [employee] badge");
}
