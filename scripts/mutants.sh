#!/usr/bin/env bash
# Mutation testing of the code that holds noticed's guarantees: cargo-mutants breaks the code on
# purpose, one small change at a time, and runs the tests that guard it; a mutant no test
# notices ("missed") is a guarantee without a test. Results go to target/mutants/AREA/ and the
# table printed at the end is what docs/TESTING.md reports.
#
# Usage: scripts/mutants.sh [PER_AREA] [AREA...]
#   PER_AREA  about this many mutants of each area, spread over it (every k-th mutant:
#             cargo-mutants' round-robin shard 0/k); `all` runs every one (a day on two cores).
#             Default 20.
#   AREA      policy scrub spool ship access collector (default: all)
# Installs cargo-mutants from crates.io if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PER_AREA=${1:-20}
shift || true
AREAS=("$@")
[ ${#AREAS[@]} -gt 0 ] || AREAS=(policy scrub spool ship access collector)

if ! cargo mutants --version > /dev/null 2>&1; then
    cargo install cargo-mutants --locked --quiet
fi

# The source files of each area, and the tests that guard it (the library's unit tests always).
files_of() {
    case $1 in
        policy) echo "src/policy/**" ;;
        scrub) echo "src/scrub/**" ;;
        spool) echo "src/spool/**" ;;
        ship) echo "src/ship/**" ;;
        access) echo "src/admin/access.rs" ;;
        collector) echo "src/collector/**" ;;
        *) echo "unknown area $1" >&2; exit 2 ;;
    esac
}
tests_of() {
    case $1 in
        policy) echo "--lib --test policy_props --test policy_golden --test policy_cli --test rights" ;;
        scrub) echo "--lib --test scrub_props --test scrub_corpus --test scrub_cli --test fuzz_regressions" ;;
        spool) echo "--lib --test spool_model --test crash --test delivery --test delivery_faults --test rights" ;;
        ship) echo "--lib --test delivery --test delivery_faults --test crash --test otlp --test tls" ;;
        access) echo "--lib --test admin --test ingest" ;;
        collector) echo "--lib --test delivery --test crash --test rights --test fuzz_regressions" ;;
    esac
}

mkdir -p target/mutants
for area in "${AREAS[@]}"; do
    total=$(cargo mutants --list --file "$(files_of "$area")" | grep -c .)
    every=1
    [ "$PER_AREA" = all ] || every=$(( (total + PER_AREA - 1) / PER_AREA ))
    shard=()
    [ "$every" -le 1 ] || shard=(--shard "0/$every" --sharding round-robin)
    echo "== $area: $(files_of "$area"), every ${every}th of $total mutants" >&2
    # shellcheck disable=SC2046 # the test arguments are words
    cargo mutants --no-shuffle --copy-target true --baseline skip --timeout 300 \
        --file "$(files_of "$area")" "${shard[@]}" --output "target/mutants/$area" \
        -- $(tests_of "$area") > "target/mutants/$area.log" 2>&1 || true
done

echo "| area | mutants | caught | missed | unviable | timeout |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for area in "${AREAS[@]}"; do
    out="target/mutants/$area/mutants.out"
    count() { if [ -f "$out/$1.txt" ]; then grep -c . "$out/$1.txt" || true; else echo 0; fi; }
    c=$(count caught) m=$(count missed) u=$(count unviable) t=$(count timeout)
    echo "| $area | $((c + m + u + t)) | $c | $m | $u | $t |"
done
echo
for area in "${AREAS[@]}"; do
    out="target/mutants/$area/mutants.out/missed.txt"
    [ -s "$out" ] && { echo "missed in $area:"; cat "$out"; }
done
true
