//! The agent's own log: to stderr (journald captures it under systemd), at the level
//! `NOTICED_LOG` sets, else the policy's `[agent] log_level`, else the command's default. The
//! level can change when a reloaded policy asks. Log lines carry ids, counts and kinds, never
//! record values.

use std::sync::OnceLock;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::reload;
use tracing_subscriber::util::SubscriberInitExt;

type Handle = reload::Handle<EnvFilter, tracing_subscriber::Registry>;

static HANDLE: OnceLock<Handle> = OnceLock::new();

/// Installs the logger at `NOTICED_LOG`, else `default`.
pub fn init(default: &str) {
    let filter = EnvFilter::try_from_env("NOTICED_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let (filter, handle) = reload::Layer::new(filter);
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    if tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .try_init()
        .is_ok()
    {
        let _ = HANDLE.set(handle);
    }
}

/// Applies a policy's `log_level`, unless `NOTICED_LOG` is set (the environment wins, so an
/// admin can turn on debugging without editing the policy).
pub fn apply_policy_level(level: Option<&str>) {
    let (Some(level), Some(handle)) = (level, HANDLE.get()) else {
        return;
    };
    if std::env::var_os("NOTICED_LOG").is_some() {
        return;
    }
    match EnvFilter::try_new(level) {
        Ok(filter) => {
            if handle.reload(filter).is_ok() {
                tracing::info!(level, "log level set by the policy");
            }
        }
        Err(e) => {
            tracing::warn!(level, error = %e, "the policy's log_level is not a valid filter; keeping the current level")
        }
    }
}
