//! `noticed run [--once]`.

use std::path::PathBuf;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use super::{EXIT_TEMPFAIL, output};
use crate::agent::{Agent, StartError, run_once};

/// Starts the agent; with `once`, one round then a summary on stdout.
///
/// # Errors
/// Startup failures other than a bad policy (which exits with [`EXIT_CONFIG`]).
pub async fn run(policy: Option<PathBuf>, once: bool) -> anyhow::Result<ExitCode> {
    let loaded = match super::load_or_exit(policy.as_deref())? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    crate::logging::apply_policy_level(loaded.policy.file.agent.log_level.as_deref());
    for c in loaded.policy.uncollected_categories() {
        tracing::warn!(category = %c, "a source makes records of a category the policy does not collect");
    }
    // Handlers go in before anything starts: a SIGTERM right after start must stop us cleanly,
    // not kill us with the default action.
    let mut signals = Termination::install()?;
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
    let (reload_tx, reload_rx) = crate::agent::reload_channel();
    let mut hangups = signals.hangup.take();
    tokio::spawn(async move {
        signals.wait().await;
        trigger.cancel();
    });
    let on_hangup = reload_tx.clone();
    tokio::spawn(async move {
        if let Some(h) = hangups.as_mut() {
            while h.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading the policy");
                if on_hangup.send(None).await.is_err() {
                    return;
                }
            }
        }
    });
    crate::agent::run(agent, policy, shutdown, (reload_tx, reload_rx)).await?;
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM and SIGINT (Ctrl-C), and SIGHUP for reloads, registered when installed rather
/// than when first awaited (SIGHUP's default action would kill the agent).
pub struct Termination {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    /// SIGHUP, for whoever reloads.
    pub hangup: Option<tokio::signal::unix::Signal>,
}

impl Termination {
    /// Registers the handlers now.
    ///
    /// # Errors
    /// The signal handlers cannot be registered.
    pub fn install() -> std::io::Result<Termination> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Termination {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hangup: Some(signal(SignalKind::hangup())?),
        })
    }

    /// Resolves on the first of the two.
    pub async fn wait(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}
