//! A collector that fails in scripted ways: a real HTTP server on loopback, in the test process,
//! that decodes each gzip batch, answers what the script says, and logs every request. It can
//! hold a request's answer until the next request arrives: proof that the agent sent again (or
//! sent another batch) without waiting for that answer.

use std::collections::HashSet;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use noticed::wire::BatchV1;

/// One request as the scripted collector saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// Its place in arrival order, from 0.
    pub n: usize,
    /// When it arrived.
    pub at: Instant,
    /// The batch id.
    pub batch: uuid::Uuid,
    /// Its record ids.
    pub records: Vec<String>,
    /// The status answered.
    pub status: u16,
}

/// The answer to one request: status, extra headers, body.
pub type Reply = (u16, Vec<(&'static str, String)>, String);

type Script = dyn Fn(usize, &BatchV1) -> Reply + Send + Sync;

struct Shared {
    script: Box<Script>,
    seen: Mutex<Vec<Seen>>,
    /// Every request body on `/v1/logs`, decompressed.
    otlp: Mutex<Vec<Vec<u8>>>,
    /// How many batch requests have arrived.
    arrived: tokio::sync::watch::Sender<usize>,
    /// Requests (by arrival index) answered only once the next one has arrived.
    held: Vec<usize>,
    /// Whether a held request gave up waiting for the next one.
    hold_expired: AtomicBool,
}

/// How long a held request waits for the next before it is answered anyway (and the test told).
const HOLD_LIMIT: Duration = Duration::from_secs(60);

/// The running server; stops with the test process.
pub struct Scripted {
    endpoint: String,
    shared: Arc<Shared>,
}

impl Scripted {
    /// Starts a server answering request `n` (from 0) with `script(n, batch)`.
    pub fn start(script: impl Fn(usize, &BatchV1) -> Reply + Send + Sync + 'static) -> Scripted {
        Scripted::start_holding(&[], script)
    }

    /// Like [`Scripted::start`], and the requests numbered in `held` (arrival order, from 0)
    /// are answered only after the request following them has arrived.
    pub fn start_holding(
        held: &[usize],
        script: impl Fn(usize, &BatchV1) -> Reply + Send + Sync + 'static,
    ) -> Scripted {
        let shared = Arc::new(Shared {
            script: Box::new(script),
            seen: Mutex::new(Vec::new()),
            otlp: Mutex::new(Vec::new()),
            arrived: tokio::sync::watch::Sender::new(0),
            held: held.to_vec(),
            hold_expired: AtomicBool::new(false),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::clone(&shared);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let app = axum::Router::new()
                    .route(noticed::wire::BATCHES_PATH, axum::routing::post(handle))
                    .route("/v1/logs", axum::routing::post(otlp))
                    .with_state(state);
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        Scripted {
            endpoint: format!("http://{addr}{}", noticed::wire::BATCHES_PATH),
            shared,
        }
    }

    /// The URL to put in `[collector] endpoint`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The OTLP receiver's URL on the same server (`/v1/logs`, always answering 200).
    pub fn otlp_endpoint(&self) -> String {
        self.endpoint
            .replace(noticed::wire::BATCHES_PATH, "/v1/logs")
    }

    /// Every body posted to `/v1/logs`, decompressed, in order.
    pub fn otlp_bodies(&self) -> Vec<Vec<u8>> {
        self.shared.otlp.lock().unwrap().clone()
    }

    /// Every request answered so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        let mut seen = self.shared.seen.lock().unwrap().clone();
        seen.sort_by_key(|s| s.n);
        seen
    }

    /// Whether a held request was answered because the next never came.
    pub fn hold_expired(&self) -> bool {
        self.shared.hold_expired.load(Ordering::SeqCst)
    }

    /// Record ids in accepted (2xx) batches, and whether any arrived twice.
    pub fn accepted(&self) -> (HashSet<String>, usize) {
        let mut ids = HashSet::new();
        let mut twice = 0;
        for s in self.seen().iter().filter(|s| s.status / 100 == 2) {
            for r in &s.records {
                if !ids.insert(r.clone()) {
                    twice += 1;
                }
            }
        }
        (ids, twice)
    }
}

async fn handle(State(shared): State<Arc<Shared>>, body: Bytes) -> (StatusCode, HeaderMap, String) {
    let mut json = Vec::new();
    flate2::read::MultiGzDecoder::new(&body[..])
        .read_to_end(&mut json)
        .expect("the agent sends gzip");
    let batch: BatchV1 = serde_json::from_slice(&json).expect("the agent sends a BatchV1");
    let at = Instant::now();
    let mut n = 0;
    shared.arrived.send_modify(|count| {
        n = *count;
        *count += 1;
    });
    // Its own task, so that a held answer is still decided and logged when the agent has
    // given up on it and closed the connection.
    let answer = tokio::spawn(async move {
        if shared.held.contains(&n) {
            let mut arrived = shared.arrived.subscribe();
            let next = tokio::time::timeout(HOLD_LIMIT, arrived.wait_for(|count| *count > n + 1));
            if next.await.is_err() {
                shared.hold_expired.store(true, Ordering::SeqCst);
            }
        }
        let reply = (shared.script)(n, &batch);
        shared.seen.lock().unwrap().push(Seen {
            n,
            at,
            batch: batch.batch_id,
            records: batch.records.iter().map(|r| r.id.to_string()).collect(),
            status: reply.0,
        });
        reply
    });
    let (status, headers, body) = answer.await.expect("the script does not panic");
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(
            HeaderName::from_static(k),
            HeaderValue::from_str(&v).unwrap(),
        );
    }
    (StatusCode::from_u16(status).unwrap(), map, body)
}

async fn otlp(State(shared): State<Arc<Shared>>, body: Bytes) -> (StatusCode, String) {
    let mut json = Vec::new();
    flate2::read::MultiGzDecoder::new(&body[..])
        .read_to_end(&mut json)
        .expect("the agent sends gzip");
    shared.otlp.lock().unwrap().push(json);
    (StatusCode::OK, "{}".into())
}

/// A 200 with an acknowledgement body.
pub fn ok(batch: &BatchV1) -> Reply {
    let ack = serde_json::json!({"batch_id": batch.batch_id, "stored": batch.records.len(), "duplicate": false});
    (200, vec![], ack.to_string())
}
