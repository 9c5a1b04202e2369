#!/usr/bin/env bash
# Fuzzes each target for SECONDS (default 300) one after another, with cargo-fuzz on nightly
# (both installed here if missing), and prints how long each ran and what it found.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# A crash leaves its input in fuzz/artifacts/TARGET/. After fixing the bug, copy that input
# into fuzz/regressions/TARGET/: tests/fuzz_regressions.rs replays those on stable in CI.
# Corpora grow in fuzz/corpus/ (not kept in git).
set -uo pipefail

SECONDS_EACH=${1:-300}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(policy_parse scrub ingest_event collector_batch)

cd "$(dirname "$0")/.."
rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz > /dev/null || cargo install cargo-fuzz --locked

cargo +nightly fuzz build -O || exit 1
status=0
for t in "${TARGETS[@]}"; do
    mkdir -p "fuzz/corpus/$t"
    log=fuzz/artifacts/$t.log
    mkdir -p fuzz/artifacts
    corpora=("fuzz/corpus/$t")
    [ -d "fuzz/regressions/$t" ] && corpora+=("fuzz/regressions/$t")
    cargo +nightly fuzz run -O "$t" "${corpora[@]}" -- \
        -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 > "$log" 2>&1
    rc=$?
    runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -1)
    if [ $rc -eq 0 ]; then
        echo "$t: ${SECONDS_EACH}s, ${runs:-?}, no crash"
    else
        echo "$t: CRASH (exit $rc), see $log and fuzz/artifacts/$t/"
        status=1
    fi
done
exit $status
