//! Replays every input kept in fuzz/regressions/<target>/ through that fuzz target's checks, on
//! stable Rust and in CI: what fuzzing once found stays fixed. (Fuzzing itself: fuzz/run.sh.)

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::Path;

#[test]
fn every_kept_fuzz_input_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    type Check = fn(&[u8]);
    let targets: [(&str, Check); 4] = [
        ("policy_parse", checks::policy_parse),
        ("scrub", checks::scrub),
        ("ingest_event", checks::ingest_event),
        ("collector_batch", checks::collector_batch),
    ];
    for (name, check) in targets {
        let dir = root.join(name);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("the kept inputs of {name} ({}): {e}", dir.display()));
        let mut replayed = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            check(&std::fs::read(&path).unwrap());
            replayed += 1;
        }
        assert!(
            replayed > 0,
            "no kept input for {name} in {}",
            dir.display()
        );
    }
}
