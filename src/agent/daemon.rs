//! `noticed run`: the daemon. It binds the admin socket, runs one [`Generation`] of tasks for
//! the policy in force, and on a reload request (SIGHUP, `noticed reload`) re-reads the policy:
//! a broken one is reported with its FILE:LINE:COLUMN and the current generation keeps running;
//! a good one replaces it without a restart and is recorded as a policy-change event.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::generation::Generation;
use super::health::{Health, PolicyHealth};
use super::setup::{self, LoadedPolicy};
use super::{Agent, admit, as_str, rights};
use crate::policy::{Policy, PseudonymKey};
use crate::record::{Category, Draft};
use crate::ship::Shipper;
use crate::spool::{Spool, on_blocking_pool};

/// Where a reload's outcome goes: `Ok` with a summary, or `Err` with why the old policy stays.
pub type ReloadReply = oneshot::Sender<Result<String, String>>;

/// Sends reload requests to the daemon (from SIGHUP, with no reply, or the admin API).
pub type ReloadSender = mpsc::Sender<Option<ReloadReply>>;

/// The daemon's end of the reload channel.
pub type ReloadReceiver = mpsc::Receiver<Option<ReloadReply>>;

/// A channel for reload requests; make it before the daemon starts so SIGHUP can use it.
pub fn reload_channel() -> (ReloadSender, ReloadReceiver) {
    mpsc::channel(4)
}

/// Runs the daemon until `shutdown` is cancelled, then stores what was collected and stops.
/// `policy_arg` is the `--policy` it was started with, re-read on each reload.
///
/// # Errors
/// The admin socket cannot be bound.
pub async fn run(
    agent: Agent,
    policy_arg: Option<PathBuf>,
    shutdown: CancellationToken,
    (reload_tx, mut reloads): (ReloadSender, ReloadReceiver),
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let socket = agent.admin_socket();
    let listener = crate::admin::bind(&socket)
        .with_context(|| format!("cannot bind the admin socket {}", socket.display()))?;
    let Agent {
        loaded,
        data_dir,
        key,
        spool,
        shipper,
        host,
    } = agent;
    let health = Arc::new(Health::new());
    let context = crate::admin::Context {
        spool: Arc::clone(&spool),
        key: key.clone(),
        host: host.clone(),
        reload: reload_tx,
        health: Arc::clone(&health),
    };
    let admin = tokio::spawn(crate::admin::serve(listener, context, shutdown.clone()));
    let mut origin = loaded.origin;
    health.policy(
        policy_health(&origin, &loaded.policy),
        collector(&loaded.policy),
    );
    let mut current = Generation::start(
        Arc::new(loaded.policy),
        &key,
        &spool,
        shipper,
        &data_dir,
        &health,
    );
    tracing::info!(
        policy = %origin,
        version = %current.policy.stamp.version,
        sources = current.policy.file.sources.len(),
        socket = %socket.display(),
        "noticed running"
    );
    notify_systemd("READY=1");
    let daemon = Daemon {
        key,
        spool,
        host,
        data_dir,
    };
    loop {
        let request = tokio::select! {
            () = shutdown.cancelled() => break,
            Some(request) = reloads.recv() => request,
        };
        let outcome = match daemon.prepare(policy_arg.as_deref(), &current.policy) {
            Err(why) => {
                tracing::error!(error = %why, "reload refused; the current policy stays in force");
                Err(why)
            }
            Ok((next, shipper)) => {
                crate::logging::apply_policy_level(next.policy.file.agent.log_level.as_deref());
                let previous = Arc::clone(&current.policy);
                current.stop().await;
                let summary = daemon.switch(&previous, &next).await;
                origin = next.origin.clone();
                health.policy(
                    policy_health(&origin, &next.policy),
                    collector(&next.policy),
                );
                current = Generation::start(
                    Arc::new(next.policy),
                    &daemon.key,
                    &daemon.spool,
                    shipper,
                    &daemon.data_dir,
                    &health,
                );
                tracing::info!(policy = %origin, version = %current.policy.stamp.version, "policy reloaded");
                Ok(summary)
            }
        };
        if let Some(reply) = request {
            let _ = reply.send(outcome);
        }
    }
    notify_systemd("STOPPING=1");
    tracing::info!("shutting down: stopping sources, storing what was collected");
    current.stop().await;
    let _ = admin.await;
    let _ = std::fs::remove_file(&socket);
    tracing::info!("stopped");
    Ok(())
}

/// Tells systemd (Type=notify) about the daemon's state, when it runs under systemd.
fn notify_systemd(state: &str) {
    use std::os::linux::net::SocketAddrExt;
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
    let addr = match bytes.strip_prefix(b"@") {
        Some(name) => std::os::unix::net::SocketAddr::from_abstract_name(name),
        None => std::os::unix::net::SocketAddr::from_pathname(&path),
    };
    let sent = std::os::unix::net::UnixDatagram::unbound()
        .and_then(|s| addr.and_then(|a| s.send_to_addr(state.as_bytes(), &a)));
    if let Err(e) = sent {
        tracing::warn!(error = %e, state, "cannot notify systemd");
    }
}

fn policy_health(origin: &str, policy: &Policy) -> PolicyHealth {
    PolicyHealth {
        origin: origin.to_owned(),
        version: policy.stamp.version.to_string(),
        sha256: policy.stamp.sha256.to_string(),
        usage_consent: policy.file.consent.usage,
        since: crate::record::rfc3339(std::time::SystemTime::now()),
    }
}

fn collector(policy: &Policy) -> Option<String> {
    policy
        .file
        .collector
        .as_ref()
        .map(|c| c.endpoint.get_ref().to_string())
}

/// What stays across reloads.
struct Daemon {
    key: PseudonymKey,
    spool: Arc<Spool>,
    host: String,
    data_dir: PathBuf,
}

impl Daemon {
    /// Loads and checks the next policy and builds its shipper, without touching the running
    /// generation; any error leaves the current policy in force.
    fn prepare(
        &self,
        policy_arg: Option<&std::path::Path>,
        current: &Policy,
    ) -> Result<(LoadedPolicy, Option<Shipper>), String> {
        let next = setup::load_policy(policy_arg).map_err(|e| e.to_string())?;
        let dir = setup::data_dir(&next.policy).map_err(|e| e.to_string())?;
        if dir != self.data_dir
            || setup::key_path(&next.policy, &dir) != setup::key_path(current, &self.data_dir)
        {
            return Err(format!(
                "{}: agent.data_dir or agent.key_file changed; restart the agent to move its state",
                next.origin
            ));
        }
        let shipper = match &next.policy.file.collector {
            Some(c) => Some(
                Shipper::new(c, self.host.clone()).map_err(|e| format!("{}: {e}", next.origin))?,
            ),
            None => None,
        };
        Ok((next, shipper))
    }

    /// Applies what a new policy changes in the spool (withdrawn consent) and records the
    /// change as an event of the new policy; returns a summary for the admin.
    async fn switch(&self, previous: &Policy, next: &LoadedPolicy) -> String {
        let mut summary = format!(
            "policy {} (notice {}, sha256 {}) in force",
            next.origin,
            next.policy.stamp.version,
            &next.policy.stamp.sha256[..12]
        );
        let (spool, host, usage) = (
            Arc::clone(&self.spool),
            self.host.clone(),
            next.policy.file.consent.usage,
        );
        match on_blocking_pool(move || rights::apply_consent(&spool, &host, usage)).await {
            Ok(Some(purged)) => {
                tracing::warn!(
                    purged,
                    "usage consent withdrawn: unsent usage records purged; the collector will be told"
                );
                summary.push_str(&format!(
                    "; usage consent withdrawn: {purged} unsent usage record(s) purged"
                ));
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "cannot apply the consent change"),
        }
        let mut fields = serde_json::Map::new();
        fields.insert(
            "agent".into(),
            json!({"policy": {
                "version": next.policy.stamp.version,
                "sha256": next.policy.stamp.sha256,
                "previous_version": previous.stamp.version,
                "previous_sha256": previous.stamp.sha256,
            }}),
        );
        let mut draft = Draft::new(Category::Configuration, "agent", fields);
        draft.event = Some("policy-change".into());
        let (records, tally) = admit(&next.policy, &self.key, vec![draft]);
        let counters = [("policy.reloads".to_owned(), 1)]
            .into_iter()
            .chain(tally.counters())
            .collect::<Vec<_>>();
        let spool = Arc::clone(&self.spool);
        if let Err(e) =
            on_blocking_pool(move || spool.append_sealed(&records, &as_str(&counters), &[])).await
        {
            tracing::error!(error = %e, "cannot record the policy change");
        }
        summary
    }
}
