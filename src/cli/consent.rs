//! `noticed consent usage on|off`: records the customer's choice in the policy file itself
//! (only `[consent] usage` changes; comments and layout stay), then has the running daemon
//! reload it, so a withdrawal purges unsent usage records at once.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::output;
use crate::admin::{AdminClientError, Op, Response, request};
use crate::agent::setup::{DEFAULT_POLICY_PATH, admin_socket, data_dir};
use crate::policy::Policy;

/// On or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Toggle {
    /// Given.
    On,
    /// Not given, or withdrawn.
    Off,
}

/// Sets `[consent] usage` in the policy file and reloads the daemon if it runs.
///
/// # Errors
/// The file cannot be read, edited or written, or the result would not be a valid policy.
pub async fn consent(policy: Option<PathBuf>, usage: Toggle) -> anyhow::Result<ExitCode> {
    let path = match policy {
        Some(p) => p,
        None if Path::new(DEFAULT_POLICY_PATH).exists() => PathBuf::from(DEFAULT_POLICY_PATH),
        None => bail!(
            "no policy file to record consent in: the agent runs on its embedded default; copy it to {DEFAULT_POLICY_PATH} (see `noticed policy check`) and run this again"
        ),
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read policy {}", path.display()))?;
    let mut doc: toml_edit::DocumentMut = text.parse().with_context(|| {
        format!(
            "{} is not valid TOML; fix it first (`noticed policy check`)",
            path.display()
        )
    })?;
    let given = usage == Toggle::On;
    if !doc.contains_table("consent") {
        doc["consent"] = toml_edit::table();
    }
    doc["consent"]["usage"] = toml_edit::value(given);
    let edited = doc.to_string();
    let origin = path.display().to_string();
    let checked = Policy::parse(&edited, &origin).map_err(anyhow::Error::from)?;
    write_atomically(&path, &edited)?;
    let state = if given { "given" } else { "withdrawn" };
    let socket = admin_socket(&checked, &data_dir(&checked)?);
    let text = match request(&socket, Op::Reload).await {
        Ok(Response::Reloaded { summary }) => {
            format!("usage consent {state} in {origin}; the daemon reloaded: {summary}\n")
        }
        Ok(Response::Error { message }) => {
            bail!("{origin} was updated but the daemon refused it: {message}")
        }
        Ok(other) => bail!("the daemon answered something else: {other:?}"),
        Err(AdminClientError::NoDaemon(_)) => {
            format!("usage consent {state} in {origin}; it takes effect when the agent starts\n")
        }
        Err(e) => return Err(e.into()),
    };
    output::print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Replaces `path` with `text` through a temporary file in the same directory, keeping its
/// permissions, so a crash leaves the old or the new policy, never half of one.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.noticed-tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("policy")
    ));
    let perms = std::fs::metadata(path)?.permissions();
    let mut f = std::fs::File::create(&tmp)
        .with_context(|| format!("cannot write next to {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::set_permissions(&tmp, perms)?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}
