//! Wording the notice: the model becomes a few kinds of blocks, and each format writes blocks
//! its own way (HTML escapes every text it takes from the policy).

use std::fmt::Write as _;

use super::words::{category, detector, phrase, purpose};
use super::{Format, Lang, Notice};

enum Block {
    Title(String),
    Heading(String),
    Subheading(String),
    Para(String),
    List(Vec<String>),
    Field(String, String),
}

fn blocks(n: &Notice, lang: Lang) -> Vec<Block> {
    let p = |k| phrase(lang, k).to_owned();
    let mut out = vec![
        Block::Title(n.title.clone()),
        Block::Field(p("revision"), n.version.clone()),
        Block::Para(p("intro")),
        Block::Heading(p("what")),
    ];
    for c in &n.categories {
        out.push(Block::Subheading(category(lang, c.category).to_owned()));
        out.push(Block::Field(
            p("purpose"),
            purpose(lang, c.purpose).to_owned(),
        ));
        if !c.collected {
            out.push(Block::Para(p("not_collected")));
        }
        let kept = if c.allowed.is_empty() {
            phrase(lang, "nothing_kept").to_owned()
        } else {
            c.allowed.join(", ")
        };
        out.push(Block::Field(p("kept"), kept));
        for (key, list) in [
            ("pseudonymized", &c.pseudonymized),
            ("masked", &c.masked),
            ("scrubbed", &c.scrubbed),
            ("dropped", &c.dropped),
        ] {
            if !list.is_empty() {
                out.push(Block::Field(p(key), list.join(", ")));
            }
        }
        if !c.other_purposes.is_empty() {
            let events = c
                .other_purposes
                .iter()
                .map(|(e, pp)| format!("{e}: {}", purpose(lang, *pp)))
                .collect();
            out.push(Block::Field(p("events"), String::new()));
            out.push(Block::List(events));
        }
    }
    out.push(Block::Heading(p("scrub_title")));
    let (detectors, pseudonymize) = &n.scrub;
    if detectors.is_empty() {
        out.push(Block::Para(p("scrub_off")));
    } else {
        out.push(Block::Para(p(if *pseudonymize {
            "scrub_pseudo"
        } else {
            "scrub_mask"
        })));
        let custom = n.patterns.iter().map(|name| {
            format!(
                "{name} ({})",
                detector(lang, crate::scrub::Detector::Pattern)
            )
        });
        out.push(Block::List(
            detectors
                .iter()
                .map(|d| detector(lang, *d).to_owned())
                .chain(custom)
                .collect(),
        ));
        out.push(Block::Para(p("scrub_limits")));
    }
    if !n.raw_free_text.is_empty() {
        out.push(Block::Para(p("scrub_raw")));
        out.push(Block::List(
            n.raw_free_text
                .iter()
                .map(|c| category(lang, *c).to_owned())
                .collect(),
        ));
    }
    out.push(Block::Heading(p("where")));
    out.push(Block::Para(match &n.destination {
        Some((host, true)) => format!("{} {host}.", p("to_collector")),
        Some((host, false)) => format!("{} {host}.", p("to_collector_plain")),
        None => p("stays"),
    }));
    out.push(Block::Heading(p("retention")));
    out.push(Block::List(
        n.retention
            .iter()
            .map(|(pp, pending, history)| {
                let line = phrase(lang, "retention_line")
                    .replace("{pending}", &pending.to_string())
                    .replace("{history}", &history.to_string());
                format!("{}: {line}", purpose(lang, *pp))
            })
            .collect(),
    ));
    out.push(Block::Heading(p("consent")));
    out.push(Block::Para(p(if n.usage_consent {
        "consent_given"
    } else {
        "consent_not_given"
    })));
    out.push(Block::Heading(p("rights")));
    out.push(Block::Para(p("rights_text")));
    out.push(Block::Heading(p("contact")));
    out.push(Block::Para(n.contact.clone()));
    out
}

/// The notice in `lang` and `format`.
pub fn render(n: &Notice, lang: Lang, format: Format) -> String {
    let blocks = blocks(n, lang);
    match format {
        Format::Text => text(&blocks),
        Format::Markdown => markdown(&blocks),
        Format::Html => html(&blocks, lang),
    }
}

fn text(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Title(t) => {
                let _ = writeln!(out, "{t}\n{}", "=".repeat(t.chars().count()));
            }
            Block::Heading(t) => {
                let _ = writeln!(out, "\n{t}\n{}", "-".repeat(t.chars().count()));
            }
            Block::Subheading(t) => {
                let _ = writeln!(out, "\n{t}");
            }
            Block::Para(t) => {
                let _ = writeln!(out, "{t}");
            }
            Block::List(items) => {
                for i in items {
                    let _ = writeln!(out, "  - {i}");
                }
            }
            Block::Field(k, v) if v.is_empty() => {
                let _ = writeln!(out, "  {k}:");
            }
            Block::Field(k, v) => {
                let _ = writeln!(out, "  {k}: {v}");
            }
        }
    }
    out
}

fn markdown(blocks: &[Block]) -> String {
    // Patterns such as `cpu.*` and `duration_ms` would read as emphasis.
    let md = |s: &str| s.replace('*', "\\*").replace('_', "\\_");
    let mut out = String::new();
    let mut in_fields = false;
    for b in blocks {
        let field = matches!(b, Block::Field(_, v) if !v.is_empty());
        if in_fields && !field {
            out.push('\n');
        }
        in_fields = field;
        match b {
            Block::Title(t) => {
                let _ = writeln!(out, "# {t}\n");
            }
            Block::Heading(t) => {
                let _ = writeln!(out, "## {t}\n");
            }
            Block::Subheading(t) => {
                let _ = writeln!(out, "### {t}\n");
            }
            Block::Para(t) => {
                let _ = writeln!(out, "{t}\n");
            }
            Block::List(items) => {
                for i in items {
                    let _ = writeln!(out, "- {}", md(i));
                }
                out.push('\n');
            }
            Block::Field(k, v) if v.is_empty() => {
                let _ = writeln!(out, "**{k}:**\n");
            }
            Block::Field(k, v) => {
                let _ = writeln!(out, "- **{k}:** {}", md(v));
            }
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}\
h1{border-bottom:3px solid #2f6f4f;padding-bottom:.3rem}h2{margin-top:2rem;color:#2f6f4f}\
h3{margin-bottom:.3rem}dl{display:grid;grid-template-columns:minmax(6rem,14rem) minmax(0,1fr);gap:.2rem 1rem;margin:.3rem 0}\
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}code{background:#eef3ef;padding:0 .2rem}";

fn html(blocks: &[Block], lang: Lang) -> String {
    let title = blocks.iter().find_map(|b| match b {
        Block::Title(t) => Some(t.as_str()),
        _ => None,
    });
    let mut out = format!(
        "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        match lang {
            Lang::En => "en",
            Lang::Nl => "nl",
        },
        escape(title.unwrap_or("noticed"))
    );
    let mut in_dl = false;
    for b in blocks {
        let field = matches!(b, Block::Field(..));
        if in_dl && !field {
            out.push_str("</dl>\n");
            in_dl = false;
        }
        match b {
            Block::Title(t) => {
                let _ = writeln!(out, "<h1>{}</h1>", escape(t));
            }
            Block::Heading(t) => {
                let _ = writeln!(out, "<h2>{}</h2>", escape(t));
            }
            Block::Subheading(t) => {
                let _ = writeln!(out, "<h3>{}</h3>", escape(t));
            }
            Block::Para(t) => {
                let _ = writeln!(out, "<p>{}</p>", escape(t));
            }
            Block::List(items) => {
                out.push_str("<ul>\n");
                for i in items {
                    let _ = writeln!(out, "<li>{}</li>", escape(i));
                }
                out.push_str("</ul>\n");
            }
            Block::Field(k, v) => {
                if !in_dl {
                    out.push_str("<dl>\n");
                    in_dl = true;
                }
                let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v));
            }
        }
    }
    if in_dl {
        out.push_str("</dl>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}
