//! The reference collector: accepts batches at `POST /v1/batches`, deduplicates them by batch
//! id, and appends each record as one JSON line to `DIR/<purpose>/<YYYY-MM-DD>.jsonl`.
//!
//! It never logs record values: malformed input is answered to its sender, and logged only as
//! a count and a kind.

mod incoming;
mod store;

pub use incoming::{Incoming, Line};

pub use store::{BatchStore, StoreOutcome};

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use flate2::read::MultiGzDecoder;

use crate::wire::{
    AckV1, BATCHES_PATH, CONTROL_PATH, ControlAckV1, ControlKind, ControlV1, RejectionV1,
};

/// Largest request body accepted, compressed (413 beyond).
pub const MAX_BODY_BYTES: usize = 16 << 20;
/// Largest batch accepted once decompressed by default (413 beyond): a guard against gzip
/// bombs, and the size limit senders split their batches for.
pub const MAX_DECODED_BYTES: u64 = 128 << 20;

/// How to run a collector.
#[derive(Clone, Debug)]
pub struct CollectorConfig {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Where records and the dedup index are kept.
    pub data_dir: PathBuf,
    /// Largest request accepted once decompressed; 413 beyond.
    pub max_batch_bytes: u64,
}

/// What the handlers share.
struct Shared {
    store: BatchStore,
    max_batch_bytes: u64,
}

/// The collector's TLS material: HTTPS with it, plain HTTP without.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// Certificate chain (PEM), leaf first.
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
    /// When set, clients must present a certificate issued by this CA (PEM): mutual TLS.
    pub client_ca: Option<PathBuf>,
}

/// Builds the rustls server configuration for `tls`.
///
/// # Errors
/// A file is unreadable or holds no usable certificate or key; the message names it.
pub fn tls_config(tls: &TlsFiles) -> Result<rustls::ServerConfig, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    crate::ship::install_crypto_provider();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert)
        .and_then(|i| i.collect::<Result<_, _>>())
        .map_err(|e| format!("--tls-cert {}: {e}", tls.cert.display()))?;
    if certs.is_empty() {
        return Err(format!("--tls-cert {}: no certificate", tls.cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key)
        .map_err(|e| format!("--tls-key {}: {e}", tls.key.display()))?;
    let builder = rustls::ServerConfig::builder();
    let builder = match &tls.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(ca)
                .map_err(|e| format!("--client-ca {}: {e}", ca.display()))?
            {
                let cert = cert.map_err(|e| format!("--client-ca {}: {e}", ca.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("--client-ca {}: {e}", ca.display()))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
                .build()
                .map_err(|e| format!("--client-ca {}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| format!("--tls-cert/--tls-key: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Binds the listener and returns it with the address it got, so callers can report it.
///
/// # Errors
/// The bind or the store could not be set up.
pub async fn bind(
    config: &CollectorConfig,
) -> std::io::Result<(tokio::net::TcpListener, Router, SocketAddr)> {
    let store = BatchStore::open(&config.data_dir)?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    Ok((listener, router(store, config.max_batch_bytes), addr))
}

/// The collector's HTTP routes over a store, refusing requests over `max_batch_bytes`
/// decompressed with 413.
pub fn router(store: BatchStore, max_batch_bytes: u64) -> Router {
    let shared = Arc::new(Shared {
        store,
        max_batch_bytes,
    });
    Router::new()
        .route(BATCHES_PATH, post(accept_batch))
        .route(CONTROL_PATH, post(accept_control))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
}

/// Reads one batch request body as the collector does before storing it: decompressed (gzip or
/// identity) under the size cap, parsed, validated. The entry point the fuzz targets drive.
///
/// # Errors
/// The body is not a valid batch; the message is what the collector answers.
pub fn read_batch(gzip: bool, body: &[u8], max: u64) -> Result<Incoming, String> {
    let mut headers = HeaderMap::new();
    if gzip {
        headers.insert(
            header::CONTENT_ENCODING,
            header::HeaderValue::from_static("gzip"),
        );
    }
    let decoded =
        decode_body(&headers, &Bytes::copy_from_slice(body), max).map_err(|(_, why)| why)?;
    incoming::parse(decoded)
}

async fn accept_batch(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Decompressing and checking a batch is CPU work: off the runtime, like the writes.
    let result = tokio::task::spawn_blocking(move || {
        let decoded = decode_body(&headers, &body, shared.max_batch_bytes)?;
        let batch = incoming::parse(decoded).map_err(|why| {
            tracing::warn!("rejected an invalid batch");
            (StatusCode::BAD_REQUEST, why)
        })?;
        Ok::<_, (StatusCode, String)>((batch.batch_id, shared.store.store(&batch)))
    })
    .await;
    match result {
        Ok(Ok((id, Ok(outcome)))) => {
            let (stored, duplicate) = match outcome {
                StoreOutcome::Stored(n) => (n, false),
                StoreOutcome::Duplicate => (0, true),
            };
            tracing::info!(batch = %id, stored, duplicate, "batch accepted");
            (
                StatusCode::OK,
                axum::Json(AckV1 {
                    batch_id: id,
                    stored,
                    duplicate,
                }),
            )
                .into_response()
        }
        Ok(Ok((id, Err(e)))) => {
            tracing::error!(batch = %id, error = %e, "cannot store batch");
            reject(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("cannot store the batch now: {e}"),
            )
        }
        Ok(Err((status, why))) => reject(status, why),
        Err(e) => reject(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("store task failed: {e}"),
        ),
    }
}

/// A control message: a deletion request is carried out (every stored record with the
/// pseudonym goes), a consent withdrawal is recorded; both are logged to `control.log`.
async fn accept_control(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let control: ControlV1 =
        match decode(&headers, &body, shared.max_batch_bytes, "control message") {
            Ok(c) => c,
            Err((status, why)) => return reject(status, why),
        };
    let needle = match &control.kind {
        ControlKind::Forget { subject } => {
            let valid = subject.len() == 18
                && subject.starts_with("h:")
                && subject[2..].bytes().all(|b| b.is_ascii_hexdigit());
            if !valid {
                return reject(
                    StatusCode::BAD_REQUEST,
                    "forget needs a pseudonym: `h:` and 16 hex digits".into(),
                );
            }
            // Scrubbed tokens carry the first 8 hex digits, fields all 16.
            Some(subject.as_bytes()[..10].to_vec())
        }
        ControlKind::ConsentWithdrawn { .. } => None,
    };
    let id = control.id;
    let result = tokio::task::spawn_blocking(move || {
        let deleted = match needle {
            Some(n) => shared.store.forget(&n)?,
            None => 0,
        };
        shared.store.log_control(&control, deleted)?;
        Ok::<_, std::io::Error>(deleted)
    })
    .await;
    match result {
        Ok(Ok(deleted)) => {
            tracing::info!(control = %id, deleted, "control message handled");
            (StatusCode::OK, axum::Json(ControlAckV1 { id, deleted })).into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(control = %id, error = %e, "cannot handle control message");
            reject(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("cannot handle the control message now: {e}"),
            )
        }
        Err(e) => reject(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("control task failed: {e}"),
        ),
    }
}

/// The request body decompressed and parsed as `T`, or the refusal to send. A malformed body
/// is logged by kind and position only, never its content.
fn decode<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
    max: u64,
    what: &str,
) -> Result<T, (StatusCode, String)> {
    let decoded = decode_body(headers, body, max)?;
    serde_json::from_slice(&decoded).map_err(|e| {
        tracing::warn!(kind = ?e.classify(), line = e.line(), column = e.column(), "rejected a malformed {what}");
        (StatusCode::BAD_REQUEST, format!("malformed {what}: {e}"))
    })
}

fn decode_body(
    headers: &HeaderMap,
    body: &Bytes,
    max: u64,
) -> Result<Vec<u8>, (StatusCode, String)> {
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("batch exceeds {max} bytes decompressed; send smaller batches"),
        )
    };
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("identity") if body.len() as u64 > max => Err(too_large()),
        None | Some("identity") => Ok(body.to_vec()),
        Some("gzip") => {
            // Record JSON compresses about tenfold: sized for that, the buffer is not copied
            // as it grows (pages not written are never touched).
            let mut out = Vec::with_capacity(body.len().saturating_mul(16).min(max as usize));
            let mut reader = MultiGzDecoder::new(&body[..]).take(max + 1);
            reader.read_to_end(&mut out).map_err(|e| {
                (
                    StatusCode::BAD_REQUEST,
                    format!("body is not valid gzip: {e}"),
                )
            })?;
            if out.len() as u64 > max {
                return Err(too_large());
            }
            Ok(out)
        }
        Some(other) => Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported content-encoding `{other}`; send gzip or identity"),
        )),
    }
}

fn reject(status: StatusCode, error: String) -> Response {
    (status, axum::Json(RejectionV1 { error })).into_response()
}
