#!/usr/bin/env bash
# Runs noticed and its peers one after another on the same generated log file and prints one
# table: lines/s, CPU-seconds of every process on each side (for noticed end to end: agent and
# collector), peak RSS and the personal data each left in its output. The daemons (noticed end
# to end, rsyslog, syslog-ng, Fluent Bit) are all timed by one poller, benches/count_lines.py.
#
#   benches/compare.sh [--lines N] [--peers] [--only NAME] [--work DIR]
#
# Without --peers only noticed runs (`noticed scrub`, and end to end: log_file -> policy +
# scrub -> spool -> gzip batches -> reference collector on loopback). With --peers it also
# installs (apt, pip) and runs rsyslog imfile -> mmanon, syslog-ng with its scrubbing rewrite,
# and the Python scrubbers Presidio and scrubadub (on the first 20,000 lines: they manage
# about a thousand lines a second), and Fluent Bit (tail -> file) when a build of it is present. Method and figures: docs/PERFORMANCE.md.
set -euo pipefail

LINES=1000000
PEERS=0
ONLY=""
WORK=/tmp/noticed-compare
while [ $# -gt 0 ]; do
    case "$1" in
        --lines) LINES=$2; shift 2 ;;
        --peers) PEERS=1; shift ;;
        --only) ONLY=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
    esac
done

# Whatever this script started stops with it, even when a step fails.
trap 'jobs -p | xargs -r kill 2> /dev/null; pkill -P $$ 2> /dev/null || true' EXIT

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCHES=$ROOT/benches
mkdir -p "$WORK"
INPUT=$WORK/input.log
RESULTS=$WORK/results.tsv
: > "$RESULTS"

command -v /usr/bin/time > /dev/null || { apt-get update -qq && apt-get install -y -qq time > /dev/null; }

echo "== input: $LINES lines" >&2
if [ ! -s "$INPUT" ] || [ "$(wc -l < "$INPUT")" != "$LINES" ]; then
    python3 "$BENCHES/gen_logs.py" "$LINES" "$INPUT"
fi

echo "== building noticed (release)" >&2
(cd "$ROOT" && cargo build --release --quiet)
NOTICED=$ROOT/target/release/noticed

# The figures of one `/usr/bin/time -v` report: CPU seconds (user + sys) and peak RSS in MB.
cpu_of() { awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.2f", u + s}' "$1"; }
rss_of() { awk -F': ' '/Maximum resident/ {printf "%.1f", $2 / 1024}' "$1"; }

# record NAME LINES WALL_SECONDS TIME_REPORT OUTPUT
record() {
    local rate leaks
    rate=$(python3 -c "print(round($2 / $3))")
    leaks=$(python3 "$BENCHES/leaks.py" "$5" "$INPUT")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$rate" "$3" "$(cpu_of "$4")" "$(rss_of "$4")" "$leaks" >> "$RESULTS"
}

wanted() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }

now() { date +%s.%N; }
elapsed() { python3 -c "print(round($(now) - $1, 3))"; }

POLICY=$WORK/scrub-policy.toml
cat > "$POLICY" <<EOF
[notice]
title = "compare"
version = "1"
contact = "bench@example.com"
[agent]
data_dir = "$WORK/scrub-state"
EOF

if wanted noticed-scrub; then
    echo "== noticed scrub" >&2
    out=$WORK/noticed-scrub.out
    t0=$(now)
    /usr/bin/time -v -o "$WORK/noticed-scrub.time" "$NOTICED" scrub --policy "$POLICY" "$INPUT" > "$out"
    record noticed-scrub "$LINES" "$(elapsed "$t0")" "$WORK/noticed-scrub.time" "$out"
fi

if wanted noticed-e2e; then
    echo "== noticed end to end (log_file -> collector)" >&2
    e2e=$WORK/e2e
    mkdir -p "$WORK/e2e-logs"
    ln -sf "$INPUT" "$WORK/e2e-logs/input.log"
    IFS=$'\t' read -r _ wall cpu rss collector_cpu < <(bash "$BENCHES/e2e.sh" "$NOTICED" "$WORK/e2e-logs" "$LINES" "$e2e")
    echo "   collector CPU: $collector_cpu s" >&2
    python3 -c '
import json, sys
for path in sys.argv[1:]:
    for line in open(path):
        print(json.loads(line)["fields"].get("message", ""))
' "$e2e"/collector/*/*.jsonl > "$WORK/e2e-messages.out"
    rate=$(python3 -c "print(round($LINES / $wall))")
    # Every process on noticed's side: the agent and the collector it ships to (the peers
    # write their files themselves).
    total=$(python3 -c "print(f'{$cpu + $collector_cpu:.2f}')")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' noticed-e2e "$LINES" "$rate" "$wall" "$total" "$rss" \
        "$(python3 "$BENCHES/leaks.py" "$WORK/e2e-messages.out" "$INPUT") (CPU: agent $cpu + collector $collector_cpu)" >> "$RESULTS"
fi

if [ "$PEERS" = 1 ]; then
    # shellcheck source=benches/peers.sh
    source "$BENCHES/peers.sh"
fi

printf '\n%-22s %9s %10s %8s %8s %9s  %s\n' tool lines lines/s wall_s cpu_s rss_MB "left in output"
while IFS=$'\t' read -r name n rate wall cpu rss leaks; do
    printf '%-22s %9s %10s %8s %8s %9s  %s\n' "$name" "$n" "$rate" "$wall" "$cpu" "$rss" "$leaks"
done < "$RESULTS"
