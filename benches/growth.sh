#!/usr/bin/env bash
# Throughput and memory of the end-to-end pipeline as functions of line length, the share of
# lines carrying personal data, and the number of files tailed.
# Each point is one benches/e2e.sh run on inputs from benches/growth_input.py; prints a table.
#
#   benches/growth.sh [--work DIR] [--bytes N]
#
# --bytes is the input size of each line-length point (default 64 MB), so a point's time
# does not depend on its line length; the PII and files series use 200,000 lines of 150 B.
set -euo pipefail

WORK=/tmp/noticed-growth
BYTES=64000000
while [ $# -gt 0 ]; do
    case "$1" in
        --work) WORK=$2; shift 2 ;;
        --bytes) BYTES=$2; shift 2 ;;
        *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
command -v /usr/bin/time > /dev/null || { apt-get update -qq && apt-get install -y -qq time > /dev/null; }
(cd "$ROOT" && cargo build --release --quiet)
NOTICED=$ROOT/target/release/noticed
mkdir -p "$WORK"
RESULTS=$WORK/growth.tsv
: > "$RESULTS"

# point SERIES X LINES LENGTH PII FILES
point() {
    local series=$1 x=$2 lines=$3 length=$4 pii=$5 files=$6
    local logs=$WORK/logs
    rm -rf "$logs"
    python3 "$ROOT/benches/growth_input.py" "$logs" "$lines" "$length" "$pii" "$files"
    echo "== $series = $x ($lines lines of $length B, PII $pii, $files files)" >&2
    local out
    # Lines up to 128 KiB stay whole (the default cap is 64 KiB).
    out=$(bash "$ROOT/benches/e2e.sh" "$NOTICED" "$logs" "$lines" "$WORK/run" "max_line_bytes = 131072")
    printf '%s\t%s\t%s\n' "$series" "$x" "$out" >> "$RESULTS"
}

for length in 100 1024 8192 65536; do
    point line_bytes "$length" $((BYTES / length)) "$length" 0.5 1
done
for pii in 0 0.25 0.5 1; do
    point pii_share "$pii" 200000 150 "$pii" 1
done
for files in 1 10 100; do
    point files "$files" 200000 150 0.5 "$files"
done

printf '\n%-10s %7s %8s %10s %8s %8s %8s %9s\n' series x lines lines/s MB/s cpu_s rss_MB coll_cpu
while IFS=$'\t' read -r series x lines wall cpu rss ccpu; do
    length=150
    [ "$series" = line_bytes ] && length=$x
    printf '%-10s %7s %8s %10.0f %8.1f %8s %8s %9s\n' "$series" "$x" "$lines" \
        "$(python3 -c "print($lines / $wall)")" "$(python3 -c "print($lines * $length / $wall / 1e6)")" \
        "$cpu" "$rss" "$ccpu"
done < "$RESULTS"
