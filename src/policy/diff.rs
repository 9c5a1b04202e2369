//! What changes in collected data between two policies: fields newly allowed or removed,
//! purposes changed, retention, detectors, consent, destination. A change that collects more
//! (a new category or field, a field no longer pseudonymised, a detector switched off, consent
//! given) or serves a new purpose is *material*: the notice's owner must announce it.

use serde::Serialize;

use super::PolicyFile;
use super::schema::CategoryRules;

/// One difference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// What changed, in words (patterns and names only, never data).
    pub what: String,
    /// Whether it must be announced.
    pub material: bool,
}

fn patterns(v: &[super::PathGlob]) -> Vec<String> {
    v.iter().map(ToString::to_string).collect()
}

fn added<'a>(old: &'a [String], new: &'a [String]) -> impl Iterator<Item = &'a String> {
    new.iter().filter(move |p| !old.contains(p))
}

/// Every change from `old` to `new`, material ones first.
pub fn diff(old: &PolicyFile, new: &PolicyFile) -> Vec<Change> {
    let mut out = Vec::new();
    let mut note = |what: String, material: bool| out.push(Change { what, material });
    for (category, rules) in &new.categories {
        let Some(before) = old.categories.get(category) else {
            note(
                format!(
                    "category {category} is newly collected, for purpose {}",
                    rules.purpose
                ),
                true,
            );
            continue;
        };
        category_changes(&category.to_string(), before, rules, &mut note);
    }
    for category in old
        .categories
        .keys()
        .filter(|c| !new.categories.contains_key(c))
    {
        note(format!("category {category} is no longer collected"), false);
    }
    for rule in &new.rules {
        if !old.rules.contains(rule) {
            note(
                format!(
                    "{} events matching {} now serve purpose {}",
                    rule.category, rule.matches.event, rule.purpose
                ),
                true,
            );
        }
    }
    for rule in old.rules.iter().filter(|r| !new.rules.contains(r)) {
        note(
            format!(
                "{} events matching {} no longer get purpose {}",
                rule.category, rule.matches.event, rule.purpose
            ),
            false,
        );
    }
    if !old.consent.usage && new.consent.usage {
        note(
            "usage consent is given: usage data will be collected".into(),
            true,
        );
    }
    if old.consent.usage && !new.consent.usage {
        note(
            "usage consent is withdrawn: unsent usage records will be purged".into(),
            false,
        );
    }
    for d in &old.scrub.detectors {
        if !new.scrub.detectors.contains(d) {
            note(format!("free-text detector {d} is switched off"), true);
        }
    }
    for d in &new.scrub.detectors {
        if !old.scrub.detectors.contains(d) {
            note(format!("free-text detector {d} is switched on"), false);
        }
    }
    if old.scrub.action != new.scrub.action {
        note(
            format!(
                "free-text hits are now {:?} instead of {:?}",
                new.scrub.action, old.scrub.action
            )
            .to_lowercase(),
            false,
        );
    }
    let host = |p: &PolicyFile| {
        p.collector
            .as_ref()
            .map(|c| c.endpoint.get_ref().to_string())
    };
    if host(old) != host(new) {
        let to = host(new).unwrap_or_else(|| "nowhere (local only)".into());
        note(format!("records now go to {to}"), host(new).is_some());
    }
    let (r0, r1) = (&old.retention, &new.retention);
    if r0 != r1 {
        let longer = r1.pending_max_age.0 > r0.pending_max_age.0
            || r1.history.0 > r0.history.0
            || r1.spool_max_bytes > r0.spool_max_bytes;
        note(
            format!(
                "retention changes: unsent {} → {}, history {} → {}, spool cap {} → {} bytes, log sources when full {} → {} (and per-purpose limits, if any)",
                humantime::format_duration(r0.pending_max_age.0),
                humantime::format_duration(r1.pending_max_age.0),
                humantime::format_duration(r0.history.0),
                humantime::format_duration(r1.history.0),
                r0.spool_max_bytes,
                r1.spool_max_bytes,
                r0.when_full.as_str(),
                r1.when_full.as_str()
            ),
            longer,
        );
    }
    out.sort_by_key(|c| !c.material);
    out
}

fn category_changes(
    name: &str,
    old: &CategoryRules,
    new: &CategoryRules,
    note: &mut impl FnMut(String, bool),
) {
    if old.purpose != new.purpose {
        note(
            format!("category {name}: purpose {} → {}", old.purpose, new.purpose),
            true,
        );
    }
    let (a0, a1) = (patterns(&old.allow), patterns(&new.allow));
    for p in added(&a0, &a1) {
        note(
            format!("category {name}: field {p} is newly collected"),
            true,
        );
    }
    for p in added(&a1, &a0) {
        note(
            format!("category {name}: field {p} is no longer collected"),
            false,
        );
    }
    let (d0, d1) = (patterns(&old.drop), patterns(&new.drop));
    for p in added(&d1, &d0) {
        note(
            format!("category {name}: field {p} is no longer always removed"),
            true,
        );
    }
    for p in added(&d0, &d1) {
        note(
            format!("category {name}: field {p} is now always removed"),
            false,
        );
    }
    for (kind, v0, v1) in [
        ("pseudonymised", &old.pseudonymize, &new.pseudonymize),
        ("masked", &old.mask, &new.mask),
        ("scrubbed", &old.scrub, &new.scrub),
    ] {
        let (p0, p1) = (patterns(v0), patterns(v1));
        for p in added(&p1, &p0) {
            let raw = a1.contains(p);
            note(
                format!(
                    "category {name}: field {p} is no longer {kind}{}",
                    if raw {
                        " and is now collected as is"
                    } else {
                        ""
                    }
                ),
                raw,
            );
        }
        for p in added(&p0, &p1) {
            note(
                format!("category {name}: field {p} is now {kind}"),
                !a0.contains(p) && !raw_elsewhere(old, p),
            );
        }
    }
}

/// Whether `p` was collected in some form before (so being pseudonymised now is not new data).
fn raw_elsewhere(old: &CategoryRules, p: &str) -> bool {
    [&old.pseudonymize, &old.mask, &old.scrub]
        .iter()
        .any(|v| v.iter().any(|g| g.to_string() == p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    const BASE: &str = "[notice]\ntitle = \"t\"\nversion = \"1\"\ncontact = \"c\"\n\n";

    fn file(body: &str) -> PolicyFile {
        Policy::parse(&format!("{BASE}{body}"), "t").unwrap().file
    }

    fn changes(old: &str, new: &str) -> Vec<(String, bool)> {
        diff(&file(old), &file(new))
            .into_iter()
            .map(|c| (c.what, c.material))
            .collect()
    }

    #[test]
    fn more_data_or_a_new_purpose_is_material_less_is_not() {
        let old = "[category.performance]\npurpose = \"service-operational\"\nallow = [\"cpu.*\"]\npseudonymize = [\"host\"]\n";
        let new = "[category.performance]\npurpose = \"usage\"\nallow = [\"cpu.*\", \"memory.*\", \"host\"]\n\n[category.survey]\npurpose = \"usage\"\nallow = [\"score\"]\n";
        let c = changes(old, new);
        assert!(
            c.contains(&(
                "category performance: purpose service-operational → usage".into(),
                true
            )),
            "{c:?}"
        );
        assert!(c.contains(&(
            "category performance: field memory.* is newly collected".into(),
            true
        )));
        assert!(c.contains(&("category performance: field host is no longer pseudonymised and is now collected as is".into(), true)));
        assert!(c.contains(&(
            "category survey is newly collected, for purpose usage".into(),
            true
        )));
        let back = changes(new, old);
        assert!(
            back.contains(&("category survey is no longer collected".into(), false)),
            "{back:?}"
        );
        assert!(back.contains(&(
            "category performance: field memory.* is no longer collected".into(),
            false
        )));
        assert!(
            back.contains(&(
                "category performance: field host is now pseudonymised".into(),
                false
            )),
            "{back:?}"
        );
    }

    #[test]
    fn a_field_newly_pseudonymised_is_new_data_unless_it_was_collected_in_some_form() {
        let old = "[category.performance]\npurpose = \"service-operational\"\nallow = [\"cpu.*\"]\nmask = [\"owner\"]\n";
        let new = "[category.performance]\npurpose = \"service-operational\"\nallow = [\"cpu.*\"]\npseudonymize = [\"host\", \"owner\"]\n";
        let c = changes(old, new);
        assert!(
            c.contains(&(
                "category performance: field host is now pseudonymised".into(),
                true
            )),
            "never collected before: {c:?}"
        );
        assert!(
            c.contains(&(
                "category performance: field owner is now pseudonymised".into(),
                false
            )),
            "masked before: {c:?}"
        );
    }

    #[test]
    fn consent_detectors_destination_and_retention_are_reported() {
        let old = "[scrub]\ndetectors = [\"email\", \"ipv4\"]\n";
        let new = "[consent]\nusage = true\n\n[scrub]\ndetectors = [\"email\"]\n\n[collector]\nendpoint = \"https://c.example/v1/batches\"\n\n[retention]\nhistory = \"30d\"\n";
        let c = changes(old, new);
        assert!(
            c.contains(&(
                "usage consent is given: usage data will be collected".into(),
                true
            )),
            "{c:?}"
        );
        assert!(c.contains(&("free-text detector ipv4 is switched off".into(), true)));
        assert!(c.contains(&(
            "records now go to https://c.example/v1/batches".into(),
            true
        )));
        assert!(
            c.iter()
                .any(|(w, m)| w.starts_with("retention changes") && *m)
        );
        assert!(
            c.iter().take_while(|(_, m)| *m).count() == c.iter().filter(|(_, m)| *m).count(),
            "material first"
        );
        assert!(changes(old, old).is_empty());
    }
}
