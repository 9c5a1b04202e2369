//! From text to a [`PolicyFile`], keeping the position of every value for error messages.
//!
//! `[[source]]` entries are tagged by `type`; serde's tagged enums buffer the table and lose
//! positions, so each entry is deserialized here by its type from the spanned document instead.

use std::ops::Range;

use serde::Deserialize;
use serde::de::IntoDeserializer;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::scrub::PatternError;

use super::schema::{
    CollectorSection, HostConfigSpec, HostMetricsSpec, IngestSpec, JournaldSpec, LogFileSpec,
    PolicyFile, SourceSpec,
};

/// A parse failure: where (a byte range, when known) and what.
pub(super) struct Fault {
    pub span: Option<Range<usize>>,
    pub message: String,
}

impl From<toml::de::Error> for Fault {
    fn from(e: toml::de::Error) -> Self {
        Fault {
            span: e.span(),
            message: e.message().trim_end().to_owned(),
        }
    }
}

/// Parses and validates a whole policy file.
pub(super) fn policy_file(text: &str) -> Result<PolicyFile, Fault> {
    let root = DeTable::parse(text)?;
    let span = root.span();
    let (sources, rest): (Vec<_>, Vec<_>) = root
        .into_inner()
        .into_iter()
        .partition(|(k, _)| k.get_ref() == "source");
    let rest: DeTable<'_> = rest.into_iter().collect();
    let mut file = PolicyFile::deserialize(toml::de::Deserializer::from(Spanned::new(span, rest)))?;
    for (_, value) in sources {
        file.sources = source_list(value)?;
    }
    if let Some(c) = &file.collector {
        check_collector(c)?;
    }
    check_free_text(text, &file)?;
    check_patterns(&file)?;
    Ok(file)
}

/// Admin patterns: a well-formed, unique name and a regex that compiles within its limits and
/// cannot match the empty string; reported at the name or the regex.
fn check_patterns(file: &PolicyFile) -> Result<(), Fault> {
    let patterns = &file.scrub.pattern;
    if patterns.len() > crate::scrub::MAX_PATTERNS {
        return Err(Fault {
            span: Some(patterns[crate::scrub::MAX_PATTERNS].name.span()),
            message: crate::scrub::PatternError::TooMany.to_string(),
        });
    }
    let mut taken: Vec<&str> = Vec::new();
    for p in patterns {
        if let Err(e) = crate::scrub::check_pattern(&p.config(), &taken) {
            let span = match e {
                PatternError::Name(_) | PatternError::Taken(_) | PatternError::TooMany => {
                    p.name.span()
                }
                _ => p.regex.span(),
            };
            return Err(Fault {
                span: Some(span),
                message: format!("[[scrub.pattern]] `{}`: {e}", p.name.get_ref()),
            });
        }
        taken.push(p.name.get_ref());
    }
    let configs: Vec<_> = patterns.iter().map(|p| p.config()).collect();
    crate::scrub::check_pattern_set(&configs).map_err(|e| Fault {
        span: patterns.first().map(|p| p.name.span()),
        message: format!("[[scrub.pattern]]: {e}"),
    })
}

/// Fail closed on free text: a category that allows a free-text field without scrubbing it,
/// or a scrubber with every detector off, needs `[scrub] send_unscrubbed_free_text = true`.
/// Reported at the allow pattern (or the detector list) that lets the text through.
fn check_free_text(text: &str, file: &PolicyFile) -> Result<(), Fault> {
    if file.scrub.send_unscrubbed_free_text {
        return Ok(());
    }
    let ack = "set [scrub] send_unscrubbed_free_text = true to acknowledge that it is sent as it is (the notice then says so)";
    for (category, rules) in &file.categories {
        if let Some(field) = rules.unscrubbed_free_text().first() {
            let pattern = rules
                .allow
                .iter()
                .find(|g| g.covers(field))
                .map_or("", |g| g.as_str());
            return Err(Fault {
                span: find_allow(text, category.as_str(), pattern),
                message: format!(
                    "category.{category}.allow pattern `{pattern}` sends `{field}` (free text) without scrubbing it: add `{field}` to its `scrub` list, or {ack}"
                ),
            });
        }
    }
    let scrubs = file.categories.values().any(|r| !r.scrub.is_empty());
    if file.scrub.detectors.is_empty() && scrubs {
        return Err(Fault {
            span: key_span(text, "detectors"),
            message: format!(
                "[scrub] detectors is empty, so the free text categories scrub would be sent as it is: list the detectors, or {ack}"
            ),
        });
    }
    Ok(())
}

/// Where `pattern` stands in `[category.NAME]`'s `allow` list, found in the text (the schema
/// keeps no positions for patterns).
fn find_allow(text: &str, category: &str, pattern: &str) -> Option<Range<usize>> {
    let table = [
        format!("[category.{category}]"),
        format!("[category.\"{category}\"]"),
    ]
    .iter()
    .find_map(|h| text.find(h.as_str()))?;
    let rest = &text[table..];
    let section_end = rest[1..].find("\n[").map_or(rest.len(), |e| e + 1);
    let section = &rest[..section_end];
    let allow = section.find("allow")?;
    let quoted = format!("\"{pattern}\"");
    let at = section[allow..].find(&quoted)?;
    let start = table + allow + at;
    Some(start..start + quoted.len())
}

/// Where `key` stands in the `[scrub]` table.
fn key_span(text: &str, key: &str) -> Option<Range<usize>> {
    let table = text.find("[scrub]")?;
    let at = text[table..].find(key)?;
    Some(table + at..table + at + key.len())
}

/// Rules across `[collector]` keys, reported at the endpoint.
fn check_collector(c: &CollectorSection) -> Result<(), Fault> {
    let at = |message: String| Fault {
        span: Some(c.endpoint.span()),
        message,
    };
    if c.endpoint.get_ref().is_insecure() && !c.allow_insecure {
        return Err(at(format!(
            "endpoint `{}` would send records unencrypted over the network; use https://, or set allow_insecure = true if that is really meant",
            c.endpoint.get_ref()
        )));
    }
    if c.client_cert.is_some() != c.client_key.is_some() {
        return Err(at(
            "mutual TLS needs both client_cert and client_key in [collector]".into(),
        ));
    }
    Ok(())
}

fn source_list(value: Spanned<DeValue<'_>>) -> Result<Vec<SourceSpec>, Fault> {
    let span = value.span();
    match value.into_inner() {
        DeValue::Array(items) => items.into_iter().map(source).collect(),
        _ => Err(Fault {
            span: Some(span),
            message: "`source` must be an array of tables: start each one with [[source]]".into(),
        }),
    }
}

fn source(value: Spanned<DeValue<'_>>) -> Result<SourceSpec, Fault> {
    let span = value.span();
    let DeValue::Table(table) = value.into_inner() else {
        return Err(Fault {
            span: Some(span),
            message: "each source must be a table with a `type`".into(),
        });
    };
    let (tag, rest): (Vec<_>, Vec<_>) = table.into_iter().partition(|(k, _)| k.get_ref() == "type");
    let Some((_, tag)) = tag.into_iter().next() else {
        return Err(Fault {
            span: Some(span),
            message: format!(
                "missing field `type`, expected one of: {}",
                SourceSpec::KINDS.join(", ")
            ),
        });
    };
    let tag_span = tag.span();
    let kind = tag.get_ref().as_str().map(str::to_owned);
    let body = Spanned::new(span.clone(), DeValue::Table(rest.into_iter().collect()));
    match kind.as_deref() {
        Some("host_metrics") => Ok(SourceSpec::HostMetrics(HostMetricsSpec::deserialize(
            body.into_deserializer(),
        )?)),
        Some("host_config") => Ok(SourceSpec::HostConfig(HostConfigSpec::deserialize(
            body.into_deserializer(),
        )?)),
        Some("ingest") => Ok(SourceSpec::Ingest(IngestSpec::deserialize(
            body.into_deserializer(),
        )?)),
        Some("log_file") => Ok(SourceSpec::LogFile(LogFileSpec::deserialize(
            body.into_deserializer(),
        )?)),
        Some("journald") => Ok(SourceSpec::Journald(JournaldSpec::deserialize(
            body.into_deserializer(),
        )?)),
        other => Err(Fault {
            span: Some(tag_span),
            message: format!(
                "unknown source type {}, expected one of: {}",
                other.map_or_else(|| "(not a string)".to_owned(), |k| format!("`{k}`")),
                SourceSpec::KINDS.join(", ")
            ),
        }),
    }
}
