//! `ingest`: local applications report events (feature usage, their own performance figures) as
//! JSON lines on a Unix socket, answered line by line, and optionally with `POST /v1/events` on
//! a loopback HTTP address. A bad line gets an error and a count; it never stops the source.
//! The event schema is in docs/INGEST.md.

use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Round;
use crate::policy::IngestSpec;
use crate::record::{Category, Draft};

/// The longest event name accepted.
const MAX_EVENT_NAME: usize = 200;
/// Lines one HTTP request may carry.
const MAX_HTTP_LINES: usize = 1000;

/// One event as an application sends it; only `event` and `fields` are required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Event {
    event: String,
    #[serde(default)]
    category: Option<Category>,
    #[serde(default)]
    time: Option<String>,
    fields: Map<String, Value>,
}

/// Parses one line into a draft, or says what is wrong with it.
pub fn parse_event(line: &[u8]) -> Result<Draft, String> {
    let e: Event = serde_json::from_slice(line).map_err(|e| format!("malformed event: {e}"))?;
    if e.event.is_empty()
        || e.event.len() > MAX_EVENT_NAME
        || e.event.chars().any(char::is_whitespace)
    {
        return Err(format!(
            "`event` must be a name of 1 to {MAX_EVENT_NAME} characters without spaces, such as \"report.exported\""
        ));
    }
    let collected_at = match &e.time {
        None => SystemTime::now(),
        Some(t) => humantime::parse_rfc3339(t).map_err(|_| {
            "`time` must be an RFC 3339 UTC time such as \"2026-11-29T10:00:00Z\"".to_owned()
        })?,
    };
    let mut draft = Draft::new(
        e.category.unwrap_or(Category::FeatureUsage),
        "ingest",
        e.fields,
    );
    draft.collected_at = collected_at;
    draft.event = Some(e.event);
    Ok(draft)
}

/// Accepts events until `stop`: on the Unix socket, and on HTTP when configured.
///
/// # Errors
/// The socket or the HTTP address cannot be bound.
pub async fn serve(
    spec: IngestSpec,
    socket: PathBuf,
    tx: mpsc::Sender<Round>,
    stop: CancellationToken,
) -> std::io::Result<()> {
    // World-connectable: who may report is decided per connection from peer credentials.
    let listener = crate::unix_socket::bind(&socket, 0o666)?;
    tracing::info!(socket = %socket.display(), "ingest socket listening");
    let http = match spec.http {
        Some(addr) => {
            let l = tokio::net::TcpListener::bind(addr.0).await?;
            tracing::info!(address = %l.local_addr()?, "ingest endpoint listening");
            let state = std::sync::Arc::new(HttpState {
                tx: tx.clone(),
                allowance: std::sync::Mutex::new(Allowance::new(spec.max_events_per_second)),
                rate: spec.max_events_per_second,
            });
            let app = Router::new()
                .route("/v1/events", post(http_events))
                .layer(DefaultBodyLimit::max(
                    spec.max_line_bytes.saturating_mul(MAX_HTTP_LINES),
                ))
                .with_state(state);
            let stop = stop.clone();
            Some(tokio::spawn(async move {
                let shutdown = async move { stop.cancelled().await };
                if let Err(e) = axum::serve(l, app).with_graceful_shutdown(shutdown).await {
                    tracing::error!(error = %e, "ingest endpoint failed");
                }
            }))
        }
        None => None,
    };
    loop {
        let stream = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "ingest accept failed");
                    continue;
                }
            },
        };
        let (spec, tx, stop) = (spec.clone(), tx.clone(), stop.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                r = connection(stream, &spec, &tx) => if let Err(e) = r {
                    tracing::debug!(error = %e, "ingest connection ended with an error");
                },
            }
        });
    }
    let _ = std::fs::remove_file(&socket);
    if let Some(h) = http {
        let _ = h.await;
    }
    Ok(())
}

/// A per-connection allowance of events per second, refilled as time passes (no sleeping).
struct Allowance {
    rate: f64,
    tokens: f64,
    at: Instant,
}

impl Allowance {
    fn new(rate: u32) -> Self {
        Allowance {
            rate: f64::from(rate.max(1)),
            tokens: f64::from(rate.max(1)),
            at: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.rate);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

async fn connection(
    stream: UnixStream,
    spec: &IngestSpec,
    tx: &mpsc::Sender<Round>,
) -> std::io::Result<()> {
    let cred = stream.peer_cred()?;
    let peer = crate::admin::access::Peer {
        uid: cred.uid(),
        gid: cred.gid(),
        pid: cred.pid(),
    };
    let refusal = crate::admin::access::check(peer, rustix::process::geteuid().as_raw()).err();
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    if let Some(why) = refusal {
        // Same rule as the admin API: root, the agent's user, the `noticed` group.
        tracing::warn!(uid = peer.uid, "ingest refused a caller");
        let round = Round {
            counts: vec![("ingest.refused_peers", 1)],
            ..Round::default()
        };
        let _ = tx.send(round).await;
        let mut first = Vec::new();
        let _ = (&mut reader)
            .take(spec.max_line_bytes as u64 + 1)
            .read_until(b'\n', &mut first)
            .await;
        let mut out = json!({"ok": false, "error": why}).to_string().into_bytes();
        out.push(b'\n');
        return write.write_all(&out).await;
    }
    let mut line = Vec::new();
    let mut allowance = Allowance::new(spec.max_events_per_second);
    let limit = spec.max_line_bytes as u64;
    loop {
        line.clear();
        let n = (&mut reader)
            .take(limit + 1)
            .read_until(b'\n', &mut line)
            .await?;
        if n == 0 {
            return Ok(());
        }
        let ended = line.last() == Some(&b'\n');
        let reply: Result<(), (&'static str, String)> = if !ended && line.len() as u64 > limit {
            skip_rest_of_line(&mut reader).await?;
            Err((
                "ingest.too_long",
                format!("line longer than {limit} bytes; it was skipped"),
            ))
        } else {
            let body = line.strip_suffix(b"\n").unwrap_or(&line);
            let body = body.strip_suffix(b"\r").unwrap_or(body);
            if body.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if !allowance.take() {
                let rate = spec.max_events_per_second;
                Err((
                    "ingest.rate_limited",
                    format!("more than {rate} events a second; slow down"),
                ))
            } else {
                match parse_event(body) {
                    Ok(draft) => {
                        let round = Round {
                            counts: vec![("ingest.accepted", 1)],
                            ..Round::of(vec![draft])
                        };
                        if tx.send(round).await.is_err() {
                            return Ok(());
                        }
                        Ok(())
                    }
                    Err(e) => Err(("ingest.rejected", e)),
                }
            }
        };
        if let Err((counter, _)) = &reply {
            let round = Round {
                counts: vec![(*counter, 1)],
                ..Round::default()
            };
            if tx.send(round).await.is_err() {
                return Ok(());
            }
        }
        let answer = match reply {
            Ok(()) => json!({"ok": true}),
            Err((_, e)) => json!({"ok": false, "error": e}),
        };
        let mut out = answer.to_string().into_bytes();
        out.push(b'\n');
        write.write_all(&out).await?;
    }
}

async fn skip_rest_of_line(
    reader: &mut BufReader<tokio::net::unix::OwnedReadHalf>,
) -> std::io::Result<()> {
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(());
        }
        match memchr::memchr(b'\n', buf) {
            Some(i) => {
                reader.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    }
}

/// The HTTP endpoint's state: one allowance for all its clients.
struct HttpState {
    tx: mpsc::Sender<Round>,
    allowance: std::sync::Mutex<Allowance>,
    rate: u32,
}

async fn http_events(State(state): State<std::sync::Arc<HttpState>>, body: Bytes) -> Response {
    let tx = &state.tx;
    let mut drafts = Vec::new();
    let mut errors = Vec::new();
    let lines: Vec<&[u8]> = body
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .collect();
    if lines.len() > MAX_HTTP_LINES {
        let e =
            json!({"error": format!("more than {MAX_HTTP_LINES} events in one request; split it")});
        return (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(e)).into_response();
    }
    let mut limited = 0u64;
    for (i, line) in lines.iter().enumerate() {
        if !state
            .allowance
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            limited += 1;
            let error = format!("more than {} events a second; slow down", state.rate);
            errors.push(json!({"line": i + 1, "error": error}));
            continue;
        }
        match parse_event(line) {
            Ok(d) => drafts.push(d),
            Err(e) => errors.push(json!({"line": i + 1, "error": e})),
        }
    }
    let (accepted, rejected) = (drafts.len(), errors.len());
    let counts = vec![
        ("ingest.accepted", accepted as u64),
        ("ingest.rejected", rejected as u64 - limited),
        ("ingest.rate_limited", limited),
    ];
    if tx
        .send(Round {
            counts,
            ..Round::of(drafts)
        })
        .await
        .is_err()
    {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"error": "the agent is stopping"})),
        )
            .into_response();
    }
    let status = if accepted == 0 && rejected > 0 {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (
        status,
        axum::Json(json!({"accepted": accepted, "rejected": rejected, "errors": errors})),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_parse_with_defaults_and_bad_ones_say_why() {
        let d = parse_event(
            br#"{"event":"report.exported","fields":{"feature":"reports","duration_ms":41}}"#,
        )
        .unwrap();
        assert_eq!(d.category, Category::FeatureUsage);
        assert_eq!(d.event.as_deref(), Some("report.exported"));
        assert_eq!(d.fields["duration_ms"], json!(41));
        let d = parse_event(br#"{"event":"ui.render","category":"performance","time":"2026-11-29T10:00:00Z","fields":{}}"#).unwrap();
        assert_eq!(d.category, Category::Performance);
        assert_eq!(
            crate::record::rfc3339(d.collected_at),
            "2026-11-29T10:00:00.000Z"
        );
        for (line, needle) in [
            (&b"{not json"[..], "malformed event"),
            (br#"{"fields":{}}"#, "missing field `event`"),
            (
                br#"{"event":"x","fields":{},"extra":1}"#,
                "unknown field `extra`",
            ),
            (
                br#"{"event":"x","category":"marketing","fields":{}}"#,
                "unknown variant `marketing`",
            ),
            (
                br#"{"event":"x","time":"yesterday","fields":{}}"#,
                "RFC 3339",
            ),
            (br#"{"event":"has space","fields":{}}"#, "without spaces"),
            (br#"{"event":"x","fields":[1]}"#, "invalid type"),
            (b"{\"event\":\"\xff\",\"fields\":{}}", "malformed event"),
        ] {
            let e = parse_event(line).unwrap_err();
            assert!(e.contains(needle), "{}: {e}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn the_allowance_refills_with_time_not_sleep() {
        let mut a = Allowance::new(3);
        assert!(a.take() && a.take() && a.take());
        assert!(!a.take(), "a fourth within the same instant is refused");
        a.at -= std::time::Duration::from_secs(1);
        assert!(a.take(), "a second later the allowance is back");
    }
}
