//! `noticed collector`: the reference collector in the foreground.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::output;
use crate::collector::{CollectorConfig, bind};

/// Serves until SIGTERM or Ctrl-C; prints the bound address first (tests read it).
///
/// # Errors
/// The address cannot be bound or the data directory used.
pub async fn collector(listen: SocketAddr, data_dir: PathBuf) -> anyhow::Result<ExitCode> {
    let mut signals = super::run::Termination::install()?;
    let config = CollectorConfig { listen, data_dir };
    let (listener, app, addr) = bind(&config).await.with_context(|| {
        format!(
            "cannot start the collector on {listen} with data in {}",
            config.data_dir.display()
        )
    })?;
    output::print(&format!("noticed collector listening on {addr}\n"))?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { signals.wait().await })
        .await
        .context("collector server failed")?;
    Ok(ExitCode::SUCCESS)
}
