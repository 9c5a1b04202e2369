//! The notice rendered from every shipped policy (config/default.toml and config/examples/),
//! in English and Dutch, against golden files in tests/golden/notice/; run with
//! UPDATE_GOLDEN=1 to rewrite them, then review the diff. Every example must also pass
//! `noticed policy check`.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use noticed::notice::{Format, Lang, Notice, render};
use noticed::policy::Policy;

fn shipped() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = vec![root.join("config/default.toml")];
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root.join("config/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    examples.sort();
    out.extend(examples);
    out
}

#[test]
fn every_shipped_policy_checks_and_renders_its_golden_notice_in_both_languages() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/notice");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for path in shipped() {
        let check = run(&["policy", "check", path.to_str().unwrap()]);
        assert!(
            check.status.success(),
            "{}: {}",
            path.display(),
            text(&check)
        );
        let policy = Policy::parse(&std::fs::read_to_string(&path).unwrap(), "x").unwrap();
        let notice = Notice::from_policy(&policy.file);
        let stem = path.file_stem().unwrap().to_str().unwrap();
        for (lang, tag) in [(Lang::En, "en"), (Lang::Nl, "nl")] {
            let got = render(&notice, lang, Format::Markdown);
            let file = golden.join(format!("{stem}.{tag}.md"));
            if update {
                std::fs::write(&file, &got).unwrap();
            } else if std::fs::read_to_string(&file).ok().as_deref() != Some(&got) {
                mismatches.push(file.display().to_string());
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "notices differ from their golden files (UPDATE_GOLDEN=1 rewrites): {mismatches:?}"
    );
}

#[test]
fn the_notice_follows_the_policy_and_escapes_it_in_html() {
    let tmp = tempfile::tempdir().unwrap();
    let p = policy(
        tmp.path(),
        "p.toml",
        &tmp.path().join("agent"),
        "[consent]\nusage = true\n\n[category.feature-usage]\npurpose = \"usage\"\nallow = [\"feature\"]\npseudonymize = [\"user\"]\n",
    );
    let text_en = run(&["notice", "--policy", p.to_str().unwrap()]);
    let en = text(&text_en);
    assert!(text_en.status.success(), "{en}");
    assert!(
        en.contains("Feature-usage data") && en.contains("Collected: feature"),
        "{en}"
    );
    assert!(
        en.contains("keyed pseudonym") && en.contains(": user"),
        "{en}"
    );
    assert!(en.contains("has opted in"), "{en}");
    assert!(en.contains("Records stay on this host"), "{en}");
    let nl = text(&run(&[
        "notice",
        "--lang",
        "nl",
        "--policy",
        p.to_str().unwrap(),
    ]));
    assert!(
        nl.contains("Gegevens over het gebruik van functies") && nl.contains("toestemming gegeven"),
        "{nl}"
    );

    let hostile = policy(tmp.path(), "h.toml", &tmp.path().join("agent"), "");
    let t = std::fs::read_to_string(&hostile)
        .unwrap()
        .replace("Test notice", "<script>alert(1)</script> & co");
    std::fs::write(&hostile, t).unwrap();
    let html = text(&run(&[
        "notice",
        "--format",
        "html",
        "--policy",
        hostile.to_str().unwrap(),
    ]));
    assert!(
        html.contains("<!doctype html>")
            && html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "{html}");
}

#[test]
fn a_policy_that_sends_free_text_raw_says_so_in_its_notice() {
    let head = "[notice]\ntitle = \"t\"\nversion = \"1\"\ncontact = \"c\"\n";
    let raw = format!(
        "{head}[scrub]\nsend_unscrubbed_free_text = true\n[category.service-logs]\npurpose = \"service-operational\"\nallow = [\"message\"]\n"
    );
    let scrubbed = format!(
        "{head}[category.service-logs]\npurpose = \"service-operational\"\nscrub = [\"message\"]\n"
    );
    let notice = |text: &str, lang| {
        let p = Policy::parse(text, "p.toml").unwrap();
        render(&Notice::from_policy(&p.file), lang, Format::Markdown)
    };
    assert!(notice(&raw, Lang::En).contains("without scrubbing it:\n\n- Service logs"));
    assert!(notice(&raw, Lang::Nl).contains("zonder opschonen te versturen"));
    let plain = notice(&scrubbed, Lang::En);
    assert!(!plain.contains("without scrubbing"), "{plain}");
    assert!(plain.contains("Not looked for: personal names in running text"));
    let custom = format!(
        "{head}[[scrub.pattern]]\nname = \"ticket\"\nregex = \"TCK-[0-9]{{5}}\"\n[category.service-logs]\npurpose = \"service-operational\"\nscrub = [\"message\"]\n"
    );
    assert!(notice(&custom, Lang::En).contains("- ticket (a pattern set by the administrator)"));
    assert!(notice(&custom, Lang::Nl).contains("- ticket (een patroon van de beheerder)"));
}
