//! The daemon's side of the admin socket.

use std::path::Path;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

use super::{Op, Request, Response, VERSION};
use crate::policy::PseudonymKey;
use crate::spool::{Spool, on_blocking_pool};

/// What the admin API works on: the spool, and the key and host pseudonym for `forget`.
#[derive(Clone)]
pub struct Context {
    /// The daemon's spool.
    pub spool: Arc<Spool>,
    /// The host's pseudonym key (never sent; used to find a subject's pseudonym).
    pub key: PseudonymKey,
    /// The host's pseudonym.
    pub host: String,
    /// Asks the daemon to re-read its policy.
    pub reload: crate::agent::ReloadSender,
    /// What the daemon knows about itself.
    pub health: Arc<crate::agent::health::Health>,
}

/// Most bytes read from one connection (requests are one short line each).
const MAX_REQUEST_BYTES: u64 = 64 * 1024;

/// Binds the admin socket at `path`. It is world-connectable (0666): who may use it is decided
/// per connection from the peer's credentials ([`super::access`]).
///
/// # Errors
/// The socket cannot be bound.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    crate::unix_socket::bind(path, 0o666)
}

/// Answers requests until `shutdown`; each connection is served on its own task.
pub async fn serve(listener: UnixListener, context: Context, shutdown: CancellationToken) {
    loop {
        let stream = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "admin socket accept failed");
                    continue;
                }
            },
        };
        let context = context.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(stream, context).await {
                tracing::debug!(error = %e, "admin connection ended with an error");
            }
        });
    }
}

async fn connection(stream: UnixStream, context: Context) -> std::io::Result<()> {
    let cred = stream.peer_cred()?;
    let peer = super::access::Peer {
        uid: cred.uid(),
        gid: cred.gid(),
        pid: cred.pid(),
    };
    let own = rustix::process::geteuid().as_raw();
    let refusal = super::access::check(peer, own).err();
    let (read, mut write) = stream.into_split();
    if let Some(message) = refusal {
        tracing::warn!(uid = peer.uid, "admin API refused a caller");
        // Read the request first, so the caller gets the answer rather than a broken pipe.
        let _ = BufReader::new(read.take(MAX_REQUEST_BYTES))
            .lines()
            .next_line()
            .await;
        let mut out = serde_json::to_vec(&Response::Error { message }).expect("serializes");
        out.push(b'\n');
        return write.write_all(&out).await;
    }
    let mut lines = BufReader::new(read.take(MAX_REQUEST_BYTES)).lines();
    while let Some(line) = lines.next_line().await? {
        let response = match serde_json::from_str::<Request>(&line) {
            Ok(req) if req.v == VERSION => answer(req.op, &context).await,
            Ok(req) => Response::Error {
                message: format!(
                    "admin API version {} is not spoken here (this daemon speaks {VERSION}); use a matching noticed CLI",
                    req.v
                ),
            },
            Err(e) => Response::Error {
                message: format!("malformed request: {e}"),
            },
        };
        let mut out = serde_json::to_vec(&response).expect("responses always serialize");
        out.push(b'\n');
        write.write_all(&out).await?;
    }
    Ok(())
}

async fn answer(op: Op, context: &Context) -> Response {
    let spool = Arc::clone(&context.spool);
    let result = match op {
        Op::Records { limit, filter } => {
            on_blocking_pool(move || spool.list_matching(limit, &filter))
                .await
                .map(|records| Response::Records { records })
        }
        Op::Status => {
            let health = context.health.snapshot();
            on_blocking_pool(move || Ok((spool.counters()?, spool.unsent()?, spool.stats()?)))
                .await
                .map(|(counters, unsent, spool)| Response::Status {
                    counters,
                    unsent,
                    daemon: Some(Box::new(health)),
                    spool: Some(Box::new(spool)),
                })
        }
        Op::DeadLetters => on_blocking_pool(move || spool.dead_letters())
            .await
            .map(|batches| Response::DeadLetters { batches }),
        Op::RetryDead { batch } => on_blocking_pool(move || spool.retry_dead(batch))
            .await
            .map(|records| Response::Retried { records }),
        Op::Reload => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            if context.reload.send(Some(tx)).await.is_err() {
                return Response::Error {
                    message: "the daemon is shutting down".into(),
                };
            }
            return match rx.await {
                Ok(Ok(summary)) => Response::Reloaded { summary },
                Ok(Err(why)) => Response::Error {
                    message: format!("reload refused, the current policy stays in force: {why}"),
                },
                Err(_) => Response::Error {
                    message: "the daemon stopped before reloading".into(),
                },
            };
        }
        Op::Forget { subject } => {
            let (key, host) = (context.key.clone(), context.host.clone());
            on_blocking_pool(move || crate::agent::rights::forget(&spool, &key, &host, &subject))
                .await
                .map(|forgotten| Response::Forgotten { forgotten })
        }
    };
    result.unwrap_or_else(|e| Response::Error {
        message: e.to_string(),
    })
}
