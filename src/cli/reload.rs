//! `noticed reload`: asks the running daemon to re-read its policy (as SIGHUP does) and prints
//! what happened; a broken policy is refused with its FILE:LINE:COLUMN and the old one stays.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;

use super::output;
use crate::admin::{AdminClientError, Op, Response, request};
use crate::agent::setup::{admin_socket, data_dir};

/// Exit code when the daemon refused the new policy (it keeps the old one).
const EXIT_REFUSED: u8 = super::EXIT_CONFIG;

/// Sends the reload request and reports the daemon's answer.
///
/// # Errors
/// No daemon answers, or it answered something unexpected.
pub async fn reload(policy: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let loaded = match super::load_or_exit(policy.as_deref())? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let socket = admin_socket(&loaded.policy, &data_dir(&loaded.policy)?);
    match request(&socket, Op::Reload).await {
        Ok(Response::Reloaded { summary }) => {
            output::print(&format!("{summary}\n"))?;
            Ok(ExitCode::SUCCESS)
        }
        Ok(Response::Error { message }) => {
            eprintln!("noticed: {message}");
            Ok(ExitCode::from(EXIT_REFUSED))
        }
        Ok(other) => bail!("the daemon answered something else: {other:?}"),
        Err(AdminClientError::NoDaemon(_)) => bail!(
            "no daemon answers on {}; start it with `noticed run` (a policy is read at start)",
            socket.display()
        ),
        Err(e) => Err(e.into()),
    }
}
