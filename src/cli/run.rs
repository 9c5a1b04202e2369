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
    tokio::spawn(async move {
        signals.wait().await;
        trigger.cancel();
    });
    crate::agent::run(agent, shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM and SIGINT (Ctrl-C), registered when installed rather than when first awaited.
pub struct Termination {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
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
