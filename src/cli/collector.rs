//! `noticed collector`: the reference collector in the foreground, over HTTP or HTTPS (with
//! optional client certificates).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use super::output;
use crate::collector::{CollectorConfig, TlsFiles, bind, tls_config};

/// Serves until SIGTERM or Ctrl-C; prints the bound address first (tests read it).
///
/// # Errors
/// The address cannot be bound, the data directory used, or the TLS files read.
pub async fn collector(
    listen: SocketAddr,
    data_dir: PathBuf,
    max_batch_bytes: u64,
    tls: Option<TlsFiles>,
) -> anyhow::Result<ExitCode> {
    let mut signals = super::run::Termination::install()?;
    let tls = tls
        .as_ref()
        .map(tls_config)
        .transpose()
        .map_err(anyhow::Error::msg)
        .context("cannot set up TLS for the collector")?;
    let config = CollectorConfig {
        listen,
        data_dir,
        max_batch_bytes,
    };
    let (listener, app, addr) = bind(&config).await.with_context(|| {
        format!(
            "cannot start the collector on {listen} with data in {}",
            config.data_dir.display()
        )
    })?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    output::print(&format!(
        "noticed collector listening on {addr} ({scheme})\n"
    ))?;
    match tls {
        None => axum::serve(listener, app)
            .with_graceful_shutdown(async move { signals.wait().await })
            .await
            .context("collector server failed")?,
        Some(tls) => {
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                signals.wait().await;
                stopper.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
            });
            let rustls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(tls));
            axum_server::from_tcp_rustls(listener.into_std()?, rustls)?
                .handle(handle)
                .serve(app.into_make_service())
                .await
                .context("collector server failed")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
