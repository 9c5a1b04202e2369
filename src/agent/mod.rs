//! The agent: wires sources → policy → spool → shipper, once (`run --once`) or as a daemon.
//!
//! Setup (policy, data directory, key) happens before anything is bound or spawned, so a bad
//! policy stops the agent before it touches the network.

mod admit;
mod daemon;
mod generation;
pub mod health;
mod once;
mod pressure;
pub mod rights;
pub mod setup;

pub use admit::{Ids, Tally, admit, admit_as, as_str};
pub use daemon::{ReloadReceiver, ReloadReply, ReloadSender, reload_channel, run};
pub(crate) use once::collect_round;
pub use once::{OnceSummary, run_once};

use std::path::PathBuf;
use std::sync::Arc;

use crate::policy::PseudonymKey;
use crate::ship::Shipper;
use crate::spool::Spool;
use setup::{LoadedPolicy, SetupError};

/// The admin socket's name in the data directory, when it lives there.
pub const ADMIN_SOCKET: &str = "admin.sock";

/// A ready agent: policy loaded, key read, spool open, shipper built.
pub struct Agent {
    /// The policy in force and its origin.
    pub loaded: LoadedPolicy,
    /// Where the spool and socket live.
    pub data_dir: PathBuf,
    /// The host's pseudonym key.
    pub key: PseudonymKey,
    /// The open spool (this process holds its lock).
    pub spool: Arc<Spool>,
    /// The shipper, when the policy names a collector.
    pub shipper: Option<Shipper>,
    /// This host's pseudonym, as batches and control messages carry it.
    pub host: String,
}

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Policy, data directory or key.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The spool.
    #[error(transparent)]
    Spool(#[from] crate::spool::SpoolError),
    /// The HTTP client.
    #[error(transparent)]
    Ship(#[from] crate::ship::SendError),
}

impl Agent {
    /// Opens everything the policy names, creating the data directory and key if needed.
    ///
    /// # Errors
    /// [`StartError`] saying which part failed and why.
    pub fn start(loaded: LoadedPolicy) -> Result<Agent, StartError> {
        let data_dir = setup::data_dir(&loaded.policy)?;
        let spool = Arc::new(open_spool(
            &data_dir,
            &setup::admin_socket(&loaded.policy, &data_dir),
        )?);
        let key = setup::load_or_create_key(&setup::key_path(&loaded.policy, &data_dir))?;
        let host = key.pseudonym_str(&sysinfo::System::host_name().unwrap_or_default());
        let shipper = match &loaded.policy.file.collector {
            Some(c) => Some(Shipper::new(c, host.clone())?),
            None => None,
        };
        if let Some(purged) =
            rights::apply_consent(&spool, &host, loaded.policy.file.consent.usage)?
        {
            tracing::warn!(
                purged,
                "usage consent withdrawn: unsent usage records purged; the collector will be told"
            );
        }
        Ok(Agent {
            loaded,
            data_dir,
            key,
            spool,
            shipper,
            host,
        })
    }

    /// The admin socket's path.
    pub fn admin_socket(&self) -> PathBuf {
        setup::admin_socket(&self.loaded.policy, &self.data_dir)
    }
}

/// How long a starting agent waits for a short-lived holder of the spool (such as a
/// `noticed records` reading it) to let go.
const SPOOL_LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(3);

/// Opens the spool; while another process holds it and no daemon answers on the admin socket,
/// the holder is a brief reader, so it retries for [`SPOOL_LOCK_PATIENCE`] before giving up.
fn open_spool(
    data_dir: &std::path::Path,
    socket: &std::path::Path,
) -> Result<Spool, crate::spool::SpoolError> {
    let deadline = std::time::Instant::now() + SPOOL_LOCK_PATIENCE;
    loop {
        match Spool::open(data_dir) {
            Err(crate::spool::SpoolError::Locked(_))
                if std::time::Instant::now() < deadline
                    && std::os::unix::net::UnixStream::connect(socket).is_err() =>
            {
                tracing::debug!("the spool is held by another process; retrying");
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            other => return other,
        }
    }
}
