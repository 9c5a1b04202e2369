//! Asking about the spool: through the running daemon's admin socket, or, when no daemon runs,
//! by opening the spool directly (only one process may hold it).

use std::path::Path;

use anyhow::{Context, bail};

use crate::admin::{AdminClientError, Op, Response, request};
use crate::agent::setup::{admin_socket, data_dir};
use crate::policy::Policy;
use crate::spool::{Spool, SpoolError};

/// Sends `op` to the daemon of `policy`, or answers it with `local` on the spool.
///
/// # Errors
/// Neither the daemon nor the spool could answer; the message says which and what to do.
pub async fn ask(
    policy: &Policy,
    op: Op,
    local: impl FnOnce(&Spool) -> Result<Response, SpoolError>,
) -> anyhow::Result<Response> {
    let dir = data_dir(policy)?;
    let data_dir: &Path = &dir;
    let socket = admin_socket(policy, data_dir);
    let response = match request(&socket, op).await {
        Ok(r) => r,
        Err(AdminClientError::NoDaemon(_)) => match Spool::open(data_dir) {
            Ok(spool) => local(&spool).context("cannot read the spool")?,
            Err(SpoolError::Locked(p)) => bail!(
                "{} is held by another process but no daemon answers on {}; is a `noticed run --once` still running?",
                p.display(),
                socket.display()
            ),
            Err(e) => return Err(e).context("cannot open the spool"),
        },
        Err(e) => return Err(e.into()),
    };
    match response {
        Response::Error { message } => bail!("the daemon refused: {message}"),
        r => Ok(r),
    }
}
