#!/usr/bin/env bash
# kill -9 of the agent at random moments during a large ingest, with the collector killed and
# restarted (and so failing) in between: at the end every line must be at the collector
# exactly once. The input reaches the watched log while the kills go on: a paced writer appends
# it at WRITE_RATE lines a second (default LINES / (KILLS x 0.8 s), so writing spans about as
# long as the kills' sleeps, which average 0.8 s). The script fails if the collector already
# holds every line at the first kill, since then no kill landed during the ingest.
# Usage: tests/chaos/kills.sh [LINES] [KILLS]   (defaults: 1,000,000 and 50)
set -euo pipefail
source "$(dirname "$0")/common.sh"

LINES=${1:-1000000}
KILLS=${2:-50}
PORT=4398
build
rm -rf "$WORK" && mkdir -p "$WORK/logs" "$WORK/collector"
WRITE_RATE=${WRITE_RATE:-$(awk -v l="$LINES" -v k="$KILLS" 'BEGIN { printf "%d", (k > 0 ? l / (k * 0.8) : l) + 1 }')}
agent=""
COLLECTOR_PID=""
WRITER_PID=""
cleanup() {
    kill -9 $agent $COLLECTOR_PID $WRITER_PID 2> /dev/null || true
    [ -z "$WRITER_PID" ] || wait "$WRITER_PID" 2> /dev/null || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# The numbered input is made outside the watched folder; the writer copies it in.
numbered_input "$LINES" "$WORK/input.txt"
agent_policy "$WORK/policy.toml" "$WORK/state" "$WORK/logs/*.log" $PORT
start_collector "$WORK/collector" $PORT
: > "$WORK/logs/input.log"
echo "writing $LINES lines at $WRITE_RATE lines/s during $KILLS kills" >&2
paced_writer "$WORK/input.txt" "$WORK/logs/input.log" "$WRITE_RATE"
collector_down=0
for k in $(seq "$KILLS"); do
    "$NOTICED" run --policy "$WORK/policy.toml" >> "$WORK/agent.log" 2>&1 &
    agent=$!
    # A random moment 0.1-1.5 s into this run.
    sleep "$(python3 -c 'import random; print(round(random.uniform(0.1, 1.5), 3))')"
    kill -9 $agent 2> /dev/null || true
    wait $agent 2> /dev/null || true
    # Every fifth kill also takes the collector down (kill -9) for the next run or two.
    if [ $((k % 5)) = 0 ] && [ $collector_down = 0 ]; then
        kill -9 $COLLECTOR_PID; wait $COLLECTOR_PID 2> /dev/null || true
        collector_down=$((1 + RANDOM % 2))
    elif [ $collector_down -gt 0 ]; then
        collector_down=$((collector_down - 1))
        [ $collector_down = 0 ] && start_collector "$WORK/collector" $PORT
    fi
    at_collector=$(received "$WORK/collector")
    echo "kill $k: $at_collector records at the collector, $(wc -l < "$WORK/logs/input.log") lines written" >&2
    if [ "$k" = 1 ] && [ "$at_collector" -ge "$LINES" ]; then
        echo "FAIL: all $LINES lines were at the collector at the first kill, so no kill landed" \
            "during the ingest (WRITE_RATE=$WRITE_RATE lines/s is too fast)" >&2
        exit 1
    fi
done
[ $collector_down -gt 0 ] && start_collector "$WORK/collector" $PORT
"$NOTICED" run --policy "$WORK/policy.toml" >> "$WORK/agent.log" 2>&1 &
agent=$!
# Every line must be in the log before the count can be complete.
wait $WRITER_PID || { echo "FAIL: the paced writer failed" >&2; exit 1; }
WRITER_PID=""
echo "all $LINES lines written" >&2
for _ in $(seq 6000); do
    [ "$(received "$WORK/collector")" -ge "$LINES" ] && break
    sleep 0.1
done
kill -TERM $agent; wait $agent || true
echo "$KILLS kills, $LINES lines:" >&2
tally "$WORK/collector" "$LINES"
