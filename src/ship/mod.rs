//! The shipper: takes batches from the spool, sends them as gzip JSON over HTTP(S) with
//! reqwest and rustls, and acknowledges them in the spool only after the collector's 2xx.

mod backoff;
pub mod otlp;

pub use backoff::Backoff;

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::policy::{CollectorSection, WireFormat};
use crate::record::{PolicyStamp, rfc3339};
use crate::spool::QueuedControl;
use crate::spool::{OutboundBatch, Spool, SpoolError, on_blocking_pool};
use crate::wire::{
    AckV1, AgentInfo, BATCH_JSON_TAIL, BatchHeaderV1, ControlAckV1, batch_json_head,
};

/// Why a send did not get a 2xx.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No answer: connection refused or reset, timeout, TLS failure.
    #[error("collector unreachable: {0}")]
    Transport(String),
    /// The collector answered with an error status.
    #[error("collector answered {status}: {reason}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The collector's reason, if it gave one.
        reason: String,
        /// How long the collector asked us to wait (`Retry-After`), if it did.
        retry_after: Option<Duration>,
    },
    /// The HTTP client could not be built (bad TLS setup).
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

impl SendError {
    /// Whether sending the same batch again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            SendError::Transport(_) => true,
            SendError::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            SendError::Client(_) => false,
        }
    }

    /// The wait the collector asked for with `Retry-After`, capped at [`MAX_RETRY_AFTER`].
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SendError::Status { retry_after, .. } => retry_after.map(|d| d.min(MAX_RETRY_AFTER)),
            _ => None,
        }
    }
}

/// The longest `Retry-After` honoured: a collector asking for more is waited on this long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// `Retry-After` in either form: delay-seconds or an HTTP-date.
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Why draining the spool stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    /// The spool failed.
    #[error(transparent)]
    Spool(#[from] SpoolError),
    /// The collector did not take a batch.
    #[error(transparent)]
    Send(#[from] SendError),
}

impl ShipError {
    /// The wait the collector asked for, if the failure carried one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ShipError::Send(e) => e.retry_after(),
            // The local disk, not the collector: try again soon, without growing the back-off
            // meant for the collector.
            ShipError::Spool(_) => Some(SPOOL_RETRY),
        }
    }
}

/// How soon sending is tried again after the spool (not the collector) failed.
const SPOOL_RETRY: Duration = Duration::from_secs(2);

/// Sends batches to one collector. Cheap to clone (the HTTP client is shared).
#[derive(Clone)]
pub struct Shipper {
    client: reqwest::Client,
    endpoint: url::Url,
    host: String,
    max_records: usize,
    format: WireFormat,
}

impl Shipper {
    /// A shipper for the `[collector]` section; `host` is this host's pseudonym.
    ///
    /// # Errors
    /// [`SendError::Client`] when the TLS stack cannot be set up.
    pub fn new(config: &CollectorSection, host: String) -> Result<Shipper, SendError> {
        install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout.0)
            .connect_timeout(config.timeout.0.min(Duration::from_secs(10)))
            .user_agent(concat!("noticed/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &config.ca_file {
            let pem = read_pem(ca, "ca_file")?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                SendError::Client(format!("ca_file {}: {}", ca.display(), error_chain(&e)))
            })?;
            if certs.is_empty() {
                return Err(SendError::Client(format!(
                    "ca_file {} holds no PEM certificate",
                    ca.display()
                )));
            }
            builder = builder.tls_certs_only(certs);
        }
        if let (Some(cert), Some(key)) = (&config.client_cert, &config.client_key) {
            let mut pem = read_pem(cert, "client_cert")?;
            pem.push(b'\n');
            pem.extend(read_pem(key, "client_key")?);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                SendError::Client(format!(
                    "client_cert {} / client_key {}: {}",
                    cert.display(),
                    key.display(),
                    error_chain(&e)
                ))
            })?;
            builder = builder.identity(identity);
        }
        let client = builder
            .build()
            .map_err(|e| SendError::Client(error_chain(&e)))?;
        Ok(Shipper {
            client,
            endpoint: config.endpoint.get_ref().0.clone(),
            host,
            max_records: config.batch_max_records.get(),
            format: config.format,
        })
    }

    /// The collector URL.
    pub fn endpoint(&self) -> &url::Url {
        &self.endpoint
    }

    /// Most records per batch.
    pub fn max_records(&self) -> usize {
        self.max_records
    }

    /// The host's pseudonym, as batches and control messages carry it.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Sends one queued control message to the collector's control path (beside the batch
    /// path); `Ok` only for a 2xx.
    ///
    /// # Errors
    /// [`SendError`] saying whether a retry may help.
    pub async fn send_control(&self, control: &QueuedControl) -> Result<ControlAckV1, SendError> {
        let url = self
            .endpoint
            .join(crate::wire::CONTROL_PATH.trim_start_matches("/v1/"))
            .map_err(|e| SendError::Client(format!("control URL: {e}")))?;
        let text = self.post(url, gzip(&control.payload)).await?;
        Ok(serde_json::from_str(&text).unwrap_or(ControlAckV1 {
            id: control.id,
            deleted: 0,
        }))
    }

    /// POSTs a gzip-compressed JSON body; the response text for a 2xx.
    async fn post(&self, url: url::Url, gz: Vec<u8>) -> Result<String, SendError> {
        let response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::CONTENT_ENCODING, "gzip")
            .body(gz)
            .send()
            .await
            .map_err(|e| SendError::Transport(error_chain(&e)))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let text = response
            .text()
            .await
            .map_err(|e| SendError::Transport(error_chain(&e)))?;
        if !status.is_success() {
            let reason = serde_json::from_str::<crate::wire::RejectionV1>(&text)
                .map(|r| r.error)
                .unwrap_or_else(|_| text.chars().take(200).collect());
            return Err(SendError::Status {
                status: status.as_u16(),
                reason,
                retry_after,
            });
        }
        Ok(text)
    }

    /// Sends one batch; `Ok` only for a 2xx.
    ///
    /// # Errors
    /// [`SendError`] saying whether a retry may help.
    pub async fn send(
        &self,
        batch: &OutboundBatch,
        policy: &PolicyStamp,
    ) -> Result<AckV1, SendError> {
        let header = BatchHeaderV1 {
            batch_id: batch.id,
            agent: AgentInfo {
                version: env!("CARGO_PKG_VERSION").to_owned(),
            },
            host: &self.host,
            sent_at: rfc3339(SystemTime::now()),
            policy,
        };
        let body = match self.format {
            // The spool keeps each segment as one gzip member of its records joined by commas,
            // and gzip allows members back to back: the body is the header's member, the
            // segments' members with a comma's member between them, and the tail's member.
            WireFormat::Noticed => {
                let (comma, tail) = separators();
                let mut body = gzip(&batch_json_head(&header));
                for (i, member) in batch.gzip_members().enumerate() {
                    if i > 0 {
                        body.extend_from_slice(comma);
                    }
                    body.extend_from_slice(member);
                }
                body.extend_from_slice(tail);
                body
            }
            WireFormat::Otlp => {
                let records = batch
                    .records()
                    .map_err(|e| SendError::Transport(format!("reading the batch: {e}")))?;
                let mut gz = GzEncoder::new(
                    Vec::with_capacity(batch.json_bytes() / 8),
                    Compression::fast(),
                );
                serde_json::to_writer(
                    &mut gz,
                    &otlp::export_request(batch.id, &records, &self.host, header.policy),
                )
                .expect("writing to memory cannot fail");
                gz.finish().expect("writing to memory cannot fail")
            }
        };
        let text = self.post(self.endpoint.clone(), body).await?;
        Ok(serde_json::from_str(&text).unwrap_or(AckV1 {
            batch_id: batch.id,
            stored: batch.len(),
            duplicate: false,
        }))
    }
}

/// The gzip members of `,` and of [`BATCH_JSON_TAIL`], made once.
fn separators() -> (&'static [u8], &'static [u8]) {
    static MEMBERS: std::sync::OnceLock<(Vec<u8>, Vec<u8>)> = std::sync::OnceLock::new();
    let (comma, tail) = MEMBERS.get_or_init(|| (gzip(b","), gzip(BATCH_JSON_TAIL)));
    (comma, tail)
}

/// `json` gzip-compressed.
fn gzip(json: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(json).expect("writing to memory cannot fail");
    enc.finish().expect("writing to memory cannot fail")
}

/// What one drain achieved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drained {
    /// Records acknowledged.
    pub records: usize,
    /// Batches acknowledged.
    pub batches: usize,
}

impl std::fmt::Display for Drained {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        write!(
            f,
            "{} record{} in {} batch{}",
            self.records,
            plural(self.records),
            self.batches,
            if self.batches == 1 { "" } else { "es" }
        )
    }
}

/// Batches on their way at once: while the collector stores one, the next is read, encoded
/// and sent.
const WINDOW: usize = 2;

/// Sends every waiting batch, retrying each retryable failure up to `attempts` times (waiting
/// what `Retry-After` asks, else `backoff`); stops at the first batch that still fails.
/// A 413 splits the batch in two; any other refusal (4xx) moves it to the dead-letter set and
/// the drain goes on. Nothing is lost: a failing batch stays in the spool with its id. Up to
/// [`WINDOW`] batches are in flight; the collector deduplicates by batch id, so their order
/// does not matter.
///
/// # Errors
/// The failure that stopped the drain, with what was sent before it.
pub async fn drain(
    spool: &Arc<Spool>,
    shipper: &Shipper,
    policy: &PolicyStamp,
    attempts: u32,
    backoff: &mut Backoff,
) -> Result<Drained, (Drained, ShipError)> {
    let mut done = Drained::default();
    if let Err(e) = send_controls(spool, shipper).await {
        return Err((done, e));
    }
    // Dropping the set (an error, or the drain cancelled) aborts the sends still in flight;
    // their batches stay in the spool with their ids.
    let mut flying: tokio::task::JoinSet<(uuid::Uuid, Result<Sent, ShipError>)> =
        tokio::task::JoinSet::new();
    let mut sending: Vec<uuid::Uuid> = Vec::new();
    let mut empty = false;
    loop {
        while !empty && flying.len() < WINDOW {
            let (s, max, except) = (Arc::clone(spool), shipper.max_records(), sending.clone());
            match on_blocking_pool(move || s.next_batch_except(max, &except)).await {
                Ok(Some(batch)) => {
                    sending.push(batch.id);
                    let job = Delivery {
                        spool: Arc::clone(spool),
                        shipper: shipper.clone(),
                        policy: policy.clone(),
                        attempts,
                        backoff: backoff.clone(),
                    };
                    flying.spawn(async move { (batch.id, job.deliver(batch).await) });
                }
                Ok(None) => empty = true,
                Err(e) => return Err((done, e.into())),
            }
        }
        let Some(joined) = flying.join_next().await else {
            return Ok(done);
        };
        let (id, outcome) =
            joined.map_err(|e| (done, ShipError::Spool(SpoolError::Task(e.to_string()))))?;
        sending.retain(|b| *b != id);
        match outcome {
            Ok(Sent::Acked(n)) => {
                backoff.reset();
                done.records += n;
                done.batches += 1;
            }
            // Split halves and dead letters change what waits: look again.
            Ok(Sent::Split | Sent::DeadLettered) => empty = false,
            Err(e) => return Err((done, e)),
        }
    }
}

/// What became of one batch.
enum Sent {
    /// Acknowledged, with this many records.
    Acked(usize),
    /// Too large: replaced by two halves, still to send.
    Split,
    /// Refused: moved to the dead-letter set.
    DeadLettered,
}

/// One batch's way to the collector, run as its own task.
struct Delivery {
    spool: Arc<Spool>,
    shipper: Shipper,
    policy: PolicyStamp,
    attempts: u32,
    backoff: Backoff,
}

impl Delivery {
    async fn deliver(mut self, batch: OutboundBatch) -> Result<Sent, ShipError> {
        let mut tries = 0;
        let e = loop {
            tries += 1;
            crate::crashpoint::reach(crate::crashpoint::SHIP_BEFORE_SEND);
            let e = match self.shipper.send(&batch, &self.policy).await {
                Ok(ack) => {
                    tracing::debug!(batch = %batch.id, records = batch.len(), duplicate = ack.duplicate, "batch acknowledged");
                    crate::crashpoint::reach(crate::crashpoint::SHIP_BEFORE_ACK);
                    let (s, id) = (Arc::clone(&self.spool), batch.id);
                    on_blocking_pool(move || s.ack(id, SystemTime::now())).await?;
                    return Ok(Sent::Acked(batch.len()));
                }
                Err(e) => e,
            };
            if !e.is_retryable() || tries >= self.attempts {
                break e;
            }
            let wait = e.retry_after().unwrap_or_else(|| self.backoff.next_delay());
            tracing::warn!(batch = %batch.id, error = %e, retry_in = ?wait, "send failed; will retry");
            tokio::time::sleep(wait).await;
        };
        let SendError::Status { status, reason, .. } = &e else {
            return Err(e.into());
        };
        if e.is_retryable() {
            return Err(e.into());
        }
        let (id, status, reason) = (batch.id, *status, reason.clone());
        let s = Arc::clone(&self.spool);
        if status == 413 && on_blocking_pool(move || s.split_batch(id)).await? {
            tracing::warn!(batch = %id, records = batch.len(), "collector found the batch too large; sending it in halves");
            return Ok(Sent::Split);
        }
        let (s, r) = (Arc::clone(&self.spool), reason.clone());
        on_blocking_pool(move || s.dead_letter(id, status, &r, SystemTime::now())).await?;
        tracing::error!(batch = %id, records = batch.len(), status, reason = %reason, "collector refused the batch; kept as a dead letter (see `noticed dead-letters`)");
        Ok(Sent::DeadLettered)
    }
}

fn read_pem(path: &std::path::Path, key: &str) -> Result<Vec<u8>, SendError> {
    std::fs::read(path).map_err(|e| {
        SendError::Client(format!(
            "cannot read {key} {}: {e}; fix the path in [collector]",
            path.display()
        ))
    })
}

/// Sends queued control messages, oldest first, before any batch: a deletion request must
/// reach the collector. A refused one stays queued (retried on the next drain) and does not
/// hold the data back.
async fn send_controls(spool: &Arc<Spool>, shipper: &Shipper) -> Result<(), ShipError> {
    if shipper.format == WireFormat::Otlp {
        // OTLP has no control channel: requests stay queued for a native collector.
        return Ok(());
    }
    let s = Arc::clone(spool);
    for control in on_blocking_pool(move || s.queued_controls()).await? {
        match shipper.send_control(&control).await {
            Ok(ack) => {
                let s = Arc::clone(spool);
                let id = control.id;
                on_blocking_pool(move || s.control_done(id, ack.deleted)).await?;
                tracing::info!(control = %id, deleted = ack.deleted, "collector acknowledged a control message");
            }
            Err(e) if e.is_retryable() => return Err(e.into()),
            Err(e) => {
                tracing::error!(control = %control.id, error = %e, "collector refused a control message; it stays queued");
            }
        }
    }
    Ok(())
}

/// The error and its causes on one line, as reqwest's top-level message alone is vague.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}

/// Installs rustls' ring provider once; reqwest is built without a provider of its own.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Sun, 29 Nov 2026 10:00:00 GMT").unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 29 Nov 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 29 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn huge_retry_after_is_capped() {
        let e = SendError::Status {
            status: 429,
            reason: String::new(),
            retry_after: Some(Duration::from_secs(86_400 * 30)),
        };
        assert_eq!(e.retry_after(), Some(MAX_RETRY_AFTER));
        assert!(e.is_retryable());
    }
}
