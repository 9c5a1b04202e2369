//! `noticed run [--once]`.

use std::path::PathBuf;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use super::{EXIT_CONFIG, EXIT_TEMPFAIL, output};
use crate::agent::setup::{SetupError, load_policy};
use crate::agent::{Agent, StartError, run_once};

/// Starts the agent; with `once`, one round then a summary on stdout.
///
/// # Errors
/// Startup failures other than a bad policy (which exits with [`EXIT_CONFIG`]).
pub async fn run(policy: Option<PathBuf>, once: bool) -> anyhow::Result<ExitCode> {
    let loaded = match load_policy(policy.as_deref()) {
        Ok(l) => l,
        Err(e @ (SetupError::Policy(_) | SetupError::ReadPolicy { .. })) => {
            eprintln!("noticed: {e}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
        Err(e) => return Err(e.into()),
    };
    for c in loaded.policy.uncollected_categories() {
        tracing::warn!(category = %c, "a source makes records of a category the policy does not collect");
    }
    let agent = Agent::start(loaded).map_err(|e: StartError| anyhow::anyhow!(e))?;
    if once {
        let summary = run_once(&agent).await?;
        output::print(&format!("{summary}\n"))?;
        return Ok(if summary.delivered() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_TEMPFAIL)
        });
    }
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        termination().await;
        trigger.cancel();
    });
    crate::agent::run(agent, shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn termination() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
