//! `noticed policy check FILE`.

use std::path::Path;
use std::process::ExitCode;

use super::{EXIT_CONFIG, output};
use crate::agent::setup::{SetupError, load_policy};

/// Validates a policy file and prints a one-line summary, or the fault with its position.
///
/// # Errors
/// Only when stdout cannot be written.
pub fn check(file: &Path) -> anyhow::Result<ExitCode> {
    let loaded = match load_policy(Some(file)) {
        Ok(l) => l,
        Err(e @ (SetupError::Policy(_) | SetupError::ReadPolicy { .. })) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
        Err(e) => return Err(e.into()),
    };
    let p = &loaded.policy;
    for c in p.uncollected_categories() {
        eprintln!(
            "{}: warning: a source makes `{c}` records but there is no [category.{c}]; they will not be collected",
            loaded.origin
        );
    }
    let collector = p.file.collector.as_ref().map_or_else(
        || "no collector (local only)".to_owned(),
        |c| format!("collector {}", c.endpoint),
    );
    output::print(&format!(
        "{}: valid: notice {:?} version {}, sha256 {}, {} sources, {} categories, usage consent {}, {}\n",
        loaded.origin,
        p.file.notice.title,
        p.stamp.version,
        &p.stamp.sha256[..12],
        p.file.sources.len(),
        p.file.categories.len(),
        if p.file.consent.usage { "on" } else { "off" },
        collector
    ))?;
    Ok(ExitCode::SUCCESS)
}
