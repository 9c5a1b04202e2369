//! The policy file's schema: every section and key an admin may write, strictly typed.
//!
//! Every check that can be made on one value happens while deserializing, so each error carries
//! the position of the value at fault. Unknown keys are errors, never ignored.

use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use toml::Spanned;

use super::glob::PathGlob;
use crate::record::{Category, Purpose};
use crate::scrub::{Detector, PatternConfig, ScrubAction, ScrubConfig, Validator};

/// The whole policy file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// The notice this policy makes executable.
    pub notice: Notice,
    /// The customer's consent choices.
    #[serde(default)]
    pub consent: Consent,
    /// Where the agent keeps its state.
    #[serde(default)]
    pub agent: AgentSection,
    /// Where records go; absent means they stay on this host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collector: Option<CollectorSection>,
    /// What is collected, one entry per source (filled in by `parse.rs`).
    #[serde(default, rename = "source", skip_deserializing)]
    pub sources: Vec<SourceSpec>,
    /// How free text is scrubbed.
    #[serde(default)]
    pub scrub: ScrubSection,
    /// Per category: its purpose and which fields may leave, and how.
    #[serde(default, rename = "category")]
    pub categories: BTreeMap<Category, CategoryRules>,
    /// Per event: a purpose other than its category's (licence checks are operational).
    #[serde(default, rename = "rule")]
    pub rules: Vec<EventRule>,
    /// What `noticed bundle` adds to a support bundle.
    #[serde(default)]
    pub bundle: BundleSection,
    /// How much and how long the spool keeps.
    #[serde(default)]
    pub retention: super::retention::RetentionSection,
}

/// `[bundle]`: files an admin adds to support bundles; each is scrubbed on the way in.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleSection {
    /// Files to include, scrubbed line by line.
    #[serde(default)]
    pub files: Vec<PathBuf>,
}

/// `[[rule]]`: events of a category whose name matches get another purpose.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRule {
    /// The category the rule applies to.
    pub category: Category,
    /// Which events: `match = { event = "license.*" }`.
    #[serde(rename = "match")]
    pub matches: EventMatch,
    /// The purpose those events are collected for.
    pub purpose: Purpose,
}

/// What a rule matches on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventMatch {
    /// A glob over the dotted event name.
    pub event: PathGlob,
}

/// Fields that hold free text wherever a source writes them (log lines, journal messages,
/// event messages).
pub const FREE_TEXT_FIELDS: [&str; 1] = ["message"];

impl CategoryRules {
    /// Free-text fields this category sends without scrubbing: allowed, and neither scrubbed,
    /// dropped, pseudonymised nor masked (those rules come first).
    pub fn unscrubbed_free_text(&self) -> Vec<&'static str> {
        FREE_TEXT_FIELDS
            .into_iter()
            .filter(|f| {
                self.allow.iter().any(|g| g.covers(f))
                    && ![&self.scrub, &self.drop, &self.pseudonymize, &self.mask]
                        .iter()
                        .any(|list| list.iter().any(|g| g.covers(f)))
            })
            .collect()
    }
}

/// `[scrub]`: the detectors free text passes through, and what a hit becomes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrubSection {
    /// Detectors switched on; all of them unless said.
    #[serde(default = "all_detectors")]
    pub detectors: Vec<Detector>,
    /// `pseudonymize` (typed keyed tokens) or `mask`; secrets are always masked.
    #[serde(default)]
    pub action: ScrubAction,
    /// Names always treated as user names.
    #[serde(default)]
    pub user_names: Vec<String>,
    /// Domains of infrastructure whose host names are kept as written.
    #[serde(default)]
    pub keep_domains: Vec<String>,
    /// The admin's acknowledgement that some free text (a `message` a category allows without
    /// scrubbing, or every detector off) is sent as it is; without it such a policy is refused.
    #[serde(default)]
    pub send_unscrubbed_free_text: bool,
    /// `[[scrub.pattern]]`: the admin's own patterns, checked when the policy loads.
    #[serde(default)]
    pub pattern: Vec<PatternSection>,
}

/// `[[scrub.pattern]]`: a name, a regex, an optional keyword prefilter, checksum and action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternSection {
    /// The token label and provenance name (`[NAME:h:…]`, `scrub.pattern.NAME`).
    pub name: Spanned<String>,
    /// What to find, in Rust regex syntax.
    pub regex: Spanned<String>,
    /// Words of which one must be on the line for the regex to run.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// `luhn`, `mod97` or `bsn`: a checksum each match must pass.
    #[serde(default)]
    pub validator: Option<Validator>,
    /// `pseudonymize` or `mask`; the `[scrub]` action if not said.
    #[serde(default)]
    pub action: Option<ScrubAction>,
}

impl PatternSection {
    /// The scrubber's form of this pattern.
    pub fn config(&self) -> PatternConfig {
        PatternConfig {
            name: self.name.get_ref().clone(),
            regex: self.regex.get_ref().clone(),
            keywords: self.keywords.clone(),
            validator: self.validator,
            action: self.action,
        }
    }
}

fn all_detectors() -> Vec<Detector> {
    Detector::ALL.to_vec()
}

impl Default for ScrubSection {
    fn default() -> Self {
        ScrubSection {
            detectors: all_detectors(),
            action: ScrubAction::Pseudonymize,
            user_names: Vec::new(),
            keep_domains: Vec::new(),
            send_unscrubbed_free_text: false,
            pattern: Vec::new(),
        }
    }
}

impl ScrubSection {
    /// The scrubber's settings.
    pub fn config(&self) -> ScrubConfig {
        ScrubConfig {
            detectors: self.detectors.clone(),
            action: self.action,
            user_names: self.user_names.clone(),
            keep_domains: self.keep_domains.clone(),
            patterns: self.pattern.iter().map(PatternSection::config).collect(),
        }
    }
}

/// `[notice]`: which notice, which revision, whom to ask.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    /// The notice's title.
    pub title: String,
    /// Its revision, stamped on every record and batch.
    pub version: String,
    /// Where data subjects and customers write to.
    pub contact: String,
}

/// `[consent]`: the opt-in programmes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// Whether the customer opted in to usage-purpose collection; off unless said.
    #[serde(default)]
    pub usage: bool,
}

/// `[agent]`: local state. Unset paths get defaults that depend on who runs the agent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSection {
    /// Directory of the spool and history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// The pseudonym key file; made 0600 on first start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// The agent's own log level (`warn`, `info`, `debug`, or a tracing filter); the
    /// `NOTICED_LOG` environment variable overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
    /// The admin API's socket; default /run/noticed/admin.sock for an installed agent (root,
    /// default data directory), else `data_dir/admin.sock`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_socket: Option<PathBuf>,
}

/// `[collector]`: where and how batches are sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectorSection {
    /// The collector's batch URL: https, or http to a loopback address (or with
    /// `allow_insecure`). Kept with its position for that check's error.
    pub endpoint: toml::Spanned<Endpoint>,
    /// Trust only this CA (PEM) for the collector's certificate instead of the system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Client certificate chain (PEM) for mutual TLS; needs `client_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<PathBuf>,
    /// Private key (PEM) of `client_cert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<PathBuf>,
    /// What the batches look like: `noticed` (the native batch, docs/WIRE.md) or `otlp`
    /// (OTLP/HTTP JSON logs; the endpoint is then the receiver's `/v1/logs`).
    #[serde(default)]
    pub format: WireFormat,
    /// Allow a plain `http://` endpoint on a non-loopback host: records would cross the network
    /// unencrypted, so this must be said explicitly.
    #[serde(default)]
    pub allow_insecure: bool,
    /// Most records in one batch (which also stops at 4 MiB of record JSON).
    #[serde(default = "default_batch_max_records")]
    pub batch_max_records: NonZeroUsize,
    /// How often pending records are sent.
    #[serde(default = "default_flush_interval")]
    pub flush_interval: Interval,
    /// How long one send may take before it counts as failed.
    #[serde(default = "default_timeout")]
    pub timeout: Interval,
}

/// `[collector] format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireFormat {
    /// The native batch with its id, deduplicated by the collector.
    #[default]
    Noticed,
    /// OTLP/HTTP JSON logs (`ExportLogsServiceRequest`).
    Otlp,
}

fn default_batch_max_records() -> NonZeroUsize {
    NonZeroUsize::new(500).expect("500 is not zero")
}

fn default_flush_interval() -> Interval {
    Interval(Duration::from_secs(10))
}

fn default_timeout() -> Interval {
    Interval(Duration::from_secs(30))
}

/// `[[source]]`: one source of records, chosen by `type`. Parsed by `parse.rs`, which keeps the
/// position of each value (serde's tagged enums would lose them).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SourceSpec {
    /// CPU, memory, load, disks and network counters (category `performance`).
    HostMetrics(HostMetricsSpec),
    /// OS, kernel, hardware and agent facts (category `configuration`).
    HostConfig(HostConfigSpec),
    /// Events local applications report (category `feature-usage` unless they say otherwise).
    Ingest(IngestSpec),
    /// Lines of log files (category `service-logs` unless set).
    LogFile(LogFileSpec),
    /// Entries of the systemd journal (category `service-logs` unless set).
    Journald(JournaldSpec),
}

/// `type = "journald"`: the journal through `journalctl`, from a stored cursor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournaldSpec {
    /// Only these units (`--unit`); all when empty.
    #[serde(default)]
    pub units: Vec<String>,
    /// Only these syslog identifiers (`--identifier`); all when empty.
    #[serde(default)]
    pub identifiers: Vec<String>,
    /// Most verbose priority taken: `emerg` … `debug`, or 0–7.
    #[serde(default = "default_priority")]
    pub priority: Priority,
    /// The category of the entries.
    #[serde(default = "default_log_category")]
    pub category: Category,
    /// Where to start when there is no stored cursor.
    #[serde(default)]
    pub start_at: StartAt,
    /// The `journalctl` program.
    #[serde(default = "default_journalctl")]
    pub journalctl: PathBuf,
    /// Time between two reads of the journal.
    #[serde(default = "default_journal_interval")]
    pub interval: Interval,
}

fn default_priority() -> Priority {
    Priority("info".into())
}

fn default_journalctl() -> PathBuf {
    PathBuf::from("journalctl")
}

fn default_journal_interval() -> Interval {
    Interval(Duration::from_secs(1))
}

/// A syslog priority name or number, as `journalctl --priority` takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Priority(pub String);

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Priority {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const NAMES: [&str; 8] = [
            "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
        ];
        let text = String::deserialize(d)?;
        if NAMES.contains(&text.as_str())
            || (text.len() == 1 && matches!(text.as_bytes()[0], b'0'..=b'7'))
        {
            Ok(Priority(text))
        } else {
            Err(serde::de::Error::custom(format!(
                "unknown priority `{text}`, expected one of: {} (or 0–7)",
                NAMES.join(", ")
            )))
        }
    }
}

/// `type = "log_file"`: follows files matching globs, through rotation, from checkpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogFileSpec {
    /// Glob patterns of the files to follow (`/var/log/app/*.log`); new files are picked up.
    pub paths: Vec<FileGlob>,
    /// The category of the lines.
    #[serde(default = "default_log_category")]
    pub category: Category,
    /// Where to start in a file seen for the first time when the agent starts.
    #[serde(default)]
    pub start_at: StartAt,
    /// Longest line kept whole; longer lines are cut there and marked `truncated`.
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: usize,
    /// How often the files are looked at.
    #[serde(default = "default_poll_interval")]
    pub poll_interval: Interval,
}

fn default_log_category() -> Category {
    Category::ServiceLogs
}

fn default_poll_interval() -> Interval {
    Interval(Duration::from_millis(250))
}

/// Where a newly seen file is read from (files appearing later are always read whole).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartAt {
    /// Only lines written after the agent started.
    #[default]
    End,
    /// The whole file.
    Beginning,
}

/// A validated file-system glob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileGlob(pub String);

impl Serialize for FileGlob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for FileGlob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        glob::Pattern::new(&text)
            .map_err(|e| serde::de::Error::custom(format!("invalid path pattern `{text}`: {e}")))?;
        if !text.starts_with('/') {
            return Err(serde::de::Error::custom(format!(
                "path pattern `{text}` must be absolute"
            )));
        }
        Ok(FileGlob(text))
    }
}

/// `type = "ingest"`: JSON-lines events on a Unix socket, and optionally on loopback HTTP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestSpec {
    /// The Unix socket (mode 0660) [default: `ingest.sock` in the data directory].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket: Option<PathBuf>,
    /// A loopback address for `POST /v1/events` (port 0 picks one, logged at start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<LoopbackAddr>,
    /// Longest event line accepted; longer lines are answered with an error and skipped.
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: usize,
    /// Events accepted per second and connection; beyond, events are refused and counted.
    #[serde(default = "default_max_events_per_second")]
    pub max_events_per_second: u32,
}

fn default_max_line_bytes() -> usize {
    64 * 1024
}

fn default_max_events_per_second() -> u32 {
    1000
}

/// A socket address on the loopback interface: the ingest endpoint is for local applications.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoopbackAddr(pub std::net::SocketAddr);

impl Serialize for LoopbackAddr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for LoopbackAddr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let text = String::deserialize(d)?;
        let addr: std::net::SocketAddr = text.parse().map_err(|_| {
            Error::custom(format!(
                "`{text}` is not an address like \"127.0.0.1:4391\""
            ))
        })?;
        if !addr.ip().is_loopback() {
            return Err(Error::custom(format!(
                "`{text}` is not a loopback address; the ingest endpoint serves local applications only"
            )));
        }
        Ok(LoopbackAddr(addr))
    }
}

/// `type = "host_metrics"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostMetricsSpec {
    /// Time between rounds.
    #[serde(default = "default_metrics_interval")]
    pub interval: Interval,
    /// How many of the busiest processes (by CPU, and by memory) each round reports.
    #[serde(default = "default_top_processes")]
    pub top_processes: usize,
}

fn default_top_processes() -> usize {
    5
}

/// `type = "host_config"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfigSpec {
    /// Time between rounds (a round sends a snapshot only when something changed).
    #[serde(default = "default_config_interval")]
    pub interval: Interval,
    /// Whether to list installed packages (dpkg, or rpm).
    #[serde(default = "yes")]
    pub packages: bool,
    /// Whether to list enabled and running systemd services.
    #[serde(default = "yes")]
    pub services: bool,
    /// Config files and the keys to read out of them; no other key is read out.
    #[serde(default)]
    pub files: Vec<ConfigFileSpec>,
}

/// `files = [{ path = "...", keys = ["server.port", "features.*"] }]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFileSpec {
    /// A TOML (`.toml`), JSON (`.json`) or `key=value` file.
    pub path: PathBuf,
    /// Globs over the file's dotted keys.
    pub keys: Vec<PathGlob>,
}

fn yes() -> bool {
    true
}

impl SourceSpec {
    /// Every source type, as written in `type = "..."`.
    pub const KINDS: &'static [&'static str] =
        &["host_metrics", "host_config", "ingest", "log_file"];

    /// The source's type name, also the `source` of its records.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceSpec::HostMetrics(_) => "host_metrics",
            SourceSpec::HostConfig(_) => "host_config",
            SourceSpec::Ingest(_) => "ingest",
            SourceSpec::LogFile(_) => "log_file",
            SourceSpec::Journald(_) => "journald",
        }
    }

    /// The category of the records this source makes.
    pub fn category(&self) -> Category {
        match self {
            SourceSpec::HostMetrics(_) => Category::Performance,
            SourceSpec::HostConfig(_) => Category::Configuration,
            SourceSpec::Ingest(_) => Category::FeatureUsage,
            SourceSpec::LogFile(s) => s.category,
            SourceSpec::Journald(s) => s.category,
        }
    }

    /// Time between two rounds, for sources polled in rounds (`None` for streaming ones).
    pub fn interval(&self) -> Option<Duration> {
        match self {
            SourceSpec::HostMetrics(s) => Some(s.interval.0),
            SourceSpec::HostConfig(s) => Some(s.interval.0),
            SourceSpec::Ingest(_) => None,
            SourceSpec::LogFile(s) => Some(s.poll_interval.0),
            SourceSpec::Journald(s) => Some(s.interval.0),
        }
    }
}

fn default_metrics_interval() -> Interval {
    Interval(Duration::from_secs(60))
}

fn default_config_interval() -> Interval {
    Interval(Duration::from_secs(6 * 3600))
}

/// `[category.NAME]`: the purpose of a category and its field rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryRules {
    /// Why records of this category are collected.
    pub purpose: Purpose,
    /// Fields that may be sent as they are.
    #[serde(default)]
    pub allow: Vec<PathGlob>,
    /// Fields always removed, whatever else matches.
    #[serde(default)]
    pub drop: Vec<PathGlob>,
    /// Fields sent as their keyed HMAC (implies allow).
    #[serde(default)]
    pub pseudonymize: Vec<PathGlob>,
    /// Fields sent as a fixed mask (implies allow).
    #[serde(default)]
    pub mask: Vec<PathGlob>,
    /// Free-text fields (and `body`) sent after scrubbing (implies allow).
    #[serde(default)]
    pub scrub: Vec<PathGlob>,
}

/// A positive duration written as text: `500ms`, `10s`, `5m`, `6h`, `1day`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval(pub Duration);

impl Serialize for Interval {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(self.0).to_string())
    }
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let dur = humantime::parse_duration(&text).map_err(|e| {
            serde::de::Error::custom(format!(
                "invalid duration `{text}` ({e}); write it like \"500ms\", \"10s\", \"5m\" or \"6h\""
            ))
        })?;
        if dur.is_zero() {
            return Err(serde::de::Error::custom(
                "a duration of zero is not allowed here",
            ));
        }
        Ok(Interval(dur))
    }
}

/// A collector URL; only `http` and `https` with a host are accepted.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint(pub url::Url);

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Endpoint({})", self.0)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Endpoint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl Endpoint {
    /// Whether records sent here cross a network unencrypted: plain http to a host that is not
    /// a loopback address or `localhost`.
    pub fn is_insecure(&self) -> bool {
        let loopback = match self.0.host() {
            Some(url::Host::Ipv4(a)) => a.is_loopback(),
            Some(url::Host::Ipv6(a)) => a.is_loopback(),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        };
        self.0.scheme() == "http" && !loopback
    }
}

impl<'de> Deserialize<'de> for Endpoint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let text = String::deserialize(d)?;
        let url = url::Url::parse(&text)
            .map_err(|e| Error::custom(format!("invalid endpoint URL `{text}`: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(Error::custom(format!(
                "endpoint `{text}` must be an http:// or https:// URL with a host"
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::custom(
                "endpoint must not carry a user name or password; remove them from the URL",
            ));
        }
        Ok(Endpoint(url))
    }
}
