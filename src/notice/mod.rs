//! The human-readable notice, rendered from the policy itself: per category what is collected,
//! for which purpose, what is removed, pseudonymised or masked, how free text is scrubbed, how
//! long data is kept, the consent state and how to withdraw it, and whom to contact. The
//! policy is what the agent enforces, so the notice cannot drift from the behaviour.
//!
//! Pure: a [`Notice`] model is built from a [`PolicyFile`] and rendered in English or Dutch
//! (the seed notice's language) as text, Markdown or HTML.

mod render;
mod words;

pub use render::render;
pub use words::Lang;

use crate::policy::PolicyFile;
use crate::record::{Category, Purpose};
use crate::scrub::Detector;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain text, for terminals and e-mail.
    Text,
    /// Markdown, for wikis and repositories.
    Markdown,
    /// A standalone HTML page.
    Html,
}

/// What the notice says, before wording.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    /// Title, revision and contact from `[notice]`.
    pub title: String,
    /// The notice's revision.
    pub version: String,
    /// Where to write.
    pub contact: String,
    /// Whether the usage programme is opted in.
    pub usage_consent: bool,
    /// Where records go: the collector's host and whether the connection is encrypted, or
    /// `None` (they stay on the host).
    pub destination: Option<(String, bool)>,
    /// One entry per category the policy collects.
    pub categories: Vec<CategoryNotice>,
    /// Detectors on for free text, and whether hits are pseudonymised (else masked).
    pub scrub: (Vec<Detector>, bool),
    /// The names of the administrator's own patterns, also looked for.
    pub patterns: Vec<String>,
    /// Categories whose free text goes out unscrubbed (the admin acknowledged it).
    pub raw_free_text: Vec<Category>,
    /// Unsent and sent-history retention per purpose, in days (rounded up).
    pub retention: Vec<(Purpose, u64, u64)>,
}

/// One category's entry.
#[derive(Clone, Debug, PartialEq)]
pub struct CategoryNotice {
    /// The category.
    pub category: Category,
    /// Its purpose.
    pub purpose: Purpose,
    /// Events of it that serve another purpose (`[[rule]]`).
    pub other_purposes: Vec<(String, Purpose)>,
    /// Fields kept (patterns, as written).
    pub allowed: Vec<String>,
    /// Fields always removed.
    pub dropped: Vec<String>,
    /// Fields replaced by keyed pseudonyms.
    pub pseudonymized: Vec<String>,
    /// Fields masked.
    pub masked: Vec<String>,
    /// Free-text fields, scrubbed.
    pub scrubbed: Vec<String>,
    /// Whether records of it are collected at all right now (usage needs consent).
    pub collected: bool,
}

impl Notice {
    /// The notice a policy makes.
    pub fn from_policy(p: &PolicyFile) -> Notice {
        let strings = |v: &[crate::policy::PathGlob]| v.iter().map(|g| g.to_string()).collect();
        let categories = p
            .categories
            .iter()
            .map(|(category, rules)| CategoryNotice {
                category: *category,
                purpose: rules.purpose,
                other_purposes: p
                    .rules
                    .iter()
                    .filter(|r| r.category == *category && r.purpose != rules.purpose)
                    .map(|r| (r.matches.event.to_string(), r.purpose))
                    .collect(),
                allowed: strings(&rules.allow),
                dropped: strings(&rules.drop),
                pseudonymized: strings(&rules.pseudonymize),
                masked: strings(&rules.mask),
                scrubbed: strings(&rules.scrub),
                collected: rules.purpose != Purpose::Usage || p.consent.usage,
            })
            .collect();
        let r = &p.retention;
        let days = |purpose: &Purpose, pending: bool| {
            let over = r.purpose.get(purpose).and_then(|o| {
                if pending {
                    o.pending_max_age.as_ref()
                } else {
                    o.history.as_ref()
                }
            });
            let base = if pending {
                &r.pending_max_age
            } else {
                &r.history
            };
            over.unwrap_or(base).0.as_secs().div_ceil(86_400)
        };
        Notice {
            title: p.notice.title.clone(),
            version: p.notice.version.clone(),
            contact: p.notice.contact.clone(),
            usage_consent: p.consent.usage,
            destination: p.collector.as_ref().and_then(|c| {
                let url = &c.endpoint.get_ref().0;
                url.host_str()
                    .map(|h| (h.to_owned(), url.scheme() == "https"))
            }),
            categories,
            scrub: (
                p.scrub.detectors.clone(),
                p.scrub.action == crate::scrub::ScrubAction::Pseudonymize,
            ),
            patterns: p
                .scrub
                .pattern
                .iter()
                .map(|pat| pat.name.get_ref().clone())
                .collect(),
            raw_free_text: p
                .categories
                .iter()
                .filter(|(_, r)| !r.unscrubbed_free_text().is_empty())
                .map(|(c, _)| *c)
                .collect(),
            retention: Purpose::ALL
                .iter()
                .map(|p| (*p, days(p, true), days(p, false)))
                .collect(),
        }
    }
}
