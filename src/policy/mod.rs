//! The policy: the admin's TOML file that decides what is collected, for which purpose, and what
//! leaves the host in which form.
//!
//! This module is pure: it parses text and evaluates drafts, with no IO, no clock beyond what a
//! draft carries, and no tokio. Reading the file and the key is the agent's business.

mod diff;
mod eval;
mod glob;
mod parse;
mod pseudonym;
mod retention;
mod schema;

use std::fmt;
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};

pub use diff::{Change, diff};
pub use eval::{Evaluator, Refusal, Verdict, evaluate};
pub use glob::PathGlob;
pub use pseudonym::{KEY_LEN, PseudonymKey};
pub use retention::{PurposeRetention, RetentionSection, WhenFull};
pub use schema::{
    AgentSection, BundleSection, CategoryRules, CollectorSection, ConfigFileSpec, Consent,
    Endpoint, EventMatch, EventRule, FileGlob, HostConfigSpec, HostMetricsSpec, IngestSpec,
    Interval, JournaldSpec, LogFileSpec, LoopbackAddr, Notice, PolicyFile, Priority, ScrubSection,
    SourceSpec, StartAt, WireFormat,
};

use crate::record::{Category, PolicyStamp};
use crate::scrub::Scrubber;

/// The default policy compiled into the binary, used when no file is given and none is installed.
pub const EMBEDDED_DEFAULT: &str = include_str!("../../config/default.toml");

/// The name reported for the embedded default in messages and summaries.
pub const EMBEDDED_NAME: &str = "<embedded default policy>";

/// A parsed and validated policy, with its stamp and compiled scrubber.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The file's content, validated.
    pub file: PolicyFile,
    /// Its version and canonical hash, stamped on records.
    pub stamp: PolicyStamp,
    /// Compiled on first use: checking a policy does not need it.
    scrubber: Arc<OnceLock<Scrubber>>,
}

impl PartialEq for Policy {
    fn eq(&self, other: &Self) -> bool {
        self.file == other.file && self.stamp == other.stamp
    }
}

impl Policy {
    /// Parses policy text; `origin` names the file in error messages.
    ///
    /// # Errors
    /// A [`PolicyError`] pointing at the line and column at fault.
    pub fn parse(text: &str, origin: &str) -> Result<Policy, PolicyError> {
        let file = parse::policy_file(text).map_err(|fault| PolicyError {
            origin: origin.to_owned(),
            position: fault.span.map(|span| line_column(text, span.start)),
            message: fault.message,
        })?;
        let canonical = serde_json::to_vec(&file).expect("a policy always serializes");
        let stamp = PolicyStamp {
            version: file.notice.version.as_str().into(),
            sha256: hex::encode(Sha256::digest(&canonical)).into(),
        };
        Ok(Policy {
            file,
            stamp,
            scrubber: Arc::default(),
        })
    }

    /// The scrubber the `[scrub]` section describes.
    pub fn scrubber(&self) -> &Scrubber {
        self.scrubber
            .get_or_init(|| Scrubber::new(&self.file.scrub.config()))
    }

    /// The embedded default policy.
    pub fn embedded_default() -> Policy {
        Policy::parse(EMBEDDED_DEFAULT, EMBEDDED_NAME).expect("the embedded policy is valid")
    }

    /// The rules of a category, if the policy collects it at all.
    pub fn category(&self, category: Category) -> Option<&CategoryRules> {
        self.file.categories.get(&category)
    }

    /// Categories that some source produces but no `[category.X]` section admits.
    pub fn uncollected_categories(&self) -> Vec<Category> {
        let mut out: Vec<Category> = self
            .file
            .sources
            .iter()
            .map(SourceSpec::category)
            .filter(|c| !self.file.categories.contains_key(c))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// A policy that cannot be used, with where and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    /// The file (or `<embedded default policy>`).
    pub origin: String,
    /// 1-based line and column of the fault, when the parser knows it.
    pub position: Option<(usize, usize)>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => write!(f, "{}:{line}:{column}: {}", self.origin, self.message),
            None => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests;
