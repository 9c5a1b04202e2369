#!/usr/bin/env bash
# kill -9 of the agent at random moments during a large ingest, with the collector killed and
# restarted (and so failing) in between: at the end every line must be at the collector
# exactly once. Usage: tests/chaos/kills.sh [LINES] [KILLS]   (defaults: 1,000,000 and 50)
set -euo pipefail
source "$(dirname "$0")/common.sh"

LINES=${1:-1000000}
KILLS=${2:-50}
PORT=4398
build
rm -rf "$WORK" && mkdir -p "$WORK/logs" "$WORK/collector"
agent=""
COLLECTOR_PID=""
trap 'kill -9 $agent $COLLECTOR_PID 2> /dev/null || true' EXIT
trap 'exit 1' INT TERM
numbered_input "$LINES" "$WORK/logs/input.log"
agent_policy "$WORK/policy.toml" "$WORK/state" "$WORK/logs/*.log" $PORT
start_collector "$WORK/collector" $PORT
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
    echo "kill $k: $(received "$WORK/collector") records at the collector" >&2
done
[ $collector_down -gt 0 ] && start_collector "$WORK/collector" $PORT
"$NOTICED" run --policy "$WORK/policy.toml" >> "$WORK/agent.log" 2>&1 &
agent=$!
for _ in $(seq 6000); do
    [ "$(received "$WORK/collector")" -ge "$LINES" ] && break
    sleep 0.1
done
kill -TERM $agent; wait $agent || true
echo "$KILLS kills, $LINES lines:" >&2
tally "$WORK/collector" "$LINES"
