//! `noticed notice`: the privacy notice rendered from the policy, in English or Dutch, as text,
//! Markdown or HTML.

use std::path::PathBuf;
use std::process::ExitCode;

use super::output;
use crate::notice::{Format, Lang, Notice, render};

/// Prints the notice the policy makes.
///
/// # Errors
/// Writing to stdout failed.
pub fn notice(policy: Option<PathBuf>, lang: Lang, format: Format) -> anyhow::Result<ExitCode> {
    let loaded = match super::load_or_exit(policy.as_deref())? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    output::print(&render(
        &Notice::from_policy(&loaded.policy.file),
        lang,
        format,
    ))?;
    Ok(ExitCode::SUCCESS)
}
