#!/usr/bin/env bash
# One end-to-end run: a reference collector on loopback, the agent tailing every *.log in
# LOGDIR from the beginning (every detector on), timed from the agent's start until the
# collector's files hold LINES records (benches/count_lines.py, the poller that times the peers
# too). Prints one tab-separated line:
#   LINES  wall_s  agent_cpu_s  agent_peak_rss_MB  collector_cpu_s
#
#   benches/e2e.sh NOTICED LOGDIR LINES WORK [EXTRA_LOG_FILE_TOML]
#
# Used by compare.sh and growth.sh; WORK is emptied first. The collector's records stay in
# WORK/collector for the caller to check.
set -euo pipefail

NOTICED=$1
LOGDIR=$2
LINES=$3
WORK=$4
EXTRA=${5:-}

trap 'jobs -p | xargs -r kill 2> /dev/null || true' EXIT
rm -rf "$WORK" && mkdir -p "$WORK/collector"

"$NOTICED" collector --listen 127.0.0.1:0 --data-dir "$WORK/collector" > "$WORK/collector.out" 2>&1 &
collector=$!
while ! grep -q "listening on" "$WORK/collector.out"; do
    kill -0 "$collector" 2> /dev/null || { cat "$WORK/collector.out" >&2; exit 1; }
    sleep 0.05
done
addr=$(sed -n 's/.*listening on \([^ ]*\) .*/\1/p' "$WORK/collector.out")
cat > "$WORK/policy.toml" <<EOF
[notice]
title = "bench"
version = "1"
contact = "bench@example.com"
[agent]
data_dir = "$WORK/state"
[collector]
endpoint = "http://$addr/v1/batches"
batch_max_records = 5000
flush_interval = "1s"
[[source]]
type = "log_file"
paths = ["$LOGDIR/*.log"]
start_at = "beginning"
$EXTRA
[category.service-logs]
purpose = "service-operational"
allow = ["file"]
scrub = ["message"]
EOF

now() { date +%s.%N; }
t0=$(now)
/usr/bin/time -v -o "$WORK/agent.time" "$NOTICED" run --policy "$WORK/policy.toml" > "$WORK/agent.out" 2>&1 &
timer=$!
agent=""
while [ -z "$agent" ]; do agent=$(pgrep -P "$timer" || true); done

# Timed by the same poller as the peers in compare.sh: it reads what the collector appends to
# its files (only the new bytes each time) until they hold LINES records.
have=$(python3 "$(dirname "$0")/count_lines.py" "$LINES" "$WORK/collector/*/*.jsonl")
wall=$(python3 -c "print(round($(now) - $t0, 3))")
if [ "$have" -lt "$LINES" ]; then
    echo "only $have of $LINES records reached the collector; the agent's log:" >&2
    tail "$WORK/agent.out" >&2
    exit 1
fi
collector_cpu=$(awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$collector/stat")
kill -TERM "$agent"
wait "$timer" || true
kill -TERM "$collector"
wait "$collector" || true
awk -F': ' -v lines="$LINES" -v wall="$wall" -v ccpu="$collector_cpu" '
    /User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {r=$2}
    END {printf "%s\t%s\t%.2f\t%.1f\t%s\n", lines, wall, u + s, r / 1024, ccpu}' "$WORK/agent.time"
