#!/usr/bin/env bash
# The idle daemon's footprint: host_metrics every 60 s, host_config every 6 h, one quiet log
# file, shipping to a reference collector on loopback. Prints resident and peak memory and the
# share of one core used between 20 s after start and the end.
#
#   benches/idle.sh [SECONDS]      # default 600: ten minutes
set -euo pipefail

DURATION=${1:-600}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=/tmp/noticed-idle
PORT=4399
(cd "$ROOT" && cargo build --release --quiet)
NOTICED=$ROOT/target/release/noticed
rm -rf "$WORK" && mkdir -p "$WORK/logs"
echo "quiet line" > "$WORK/logs/app.log"
cat > "$WORK/policy.toml" <<POLICY
[notice]
title = "idle"
version = "1"
contact = "idle@example.com"
[agent]
data_dir = "$WORK/state"
[collector]
endpoint = "http://127.0.0.1:$PORT/v1/batches"
[[source]]
type = "host_metrics"
interval = "60s"
[[source]]
type = "host_config"
interval = "6h"
[[source]]
type = "log_file"
paths = ["$WORK/logs/*.log"]
[category.performance]
purpose = "service-operational"
allow = ["cpu.*", "memory.*", "swap.*", "load.*", "disk.*", "network.*", "processes.count"]
[category.configuration]
purpose = "service-operational"
allow = ["os.*", "kernel.*", "hardware.*", "agent.*"]
[category.service-logs]
purpose = "service-operational"
allow = ["file"]
scrub = ["message"]
POLICY
"$NOTICED" collector --listen "127.0.0.1:$PORT" --data-dir "$WORK/collector" > "$WORK/collector.log" 2>&1 &
collector=$!
sleep 0.5
"$NOTICED" run --policy "$WORK/policy.toml" > "$WORK/agent.log" 2>&1 &
agent=$!
trap 'kill $agent $collector 2> /dev/null || true' EXIT
ticks() { awk '{print $14 + $15}' "/proc/$agent/stat"; }
sleep 20
t0=$(date +%s.%N); c0=$(ticks)
sleep "$DURATION"
t1=$(date +%s.%N); c1=$(ticks)
hz=$(getconf CLK_TCK)
python3 - "$t0" "$t1" "$c0" "$c1" "$hz" "/proc/$agent/status" <<'PY'
import sys
t0, t1, c0, c1, hz = map(float, sys.argv[1:6])
status = dict(line.split(":", 1) for line in open(sys.argv[6]))
kib = lambda k: int(status[k].split()[0])
print(f"after {t1 - t0:.0f} s: resident {kib('VmRSS') / 1024:.1f} MiB, peak {kib('VmHWM') / 1024:.2f} MiB, "
      f"CPU {(c1 - c0) / hz:.2f} s = {100 * (c1 - c0) / hz / (t1 - t0):.3f} % of one core")
PY
