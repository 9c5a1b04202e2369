#!/usr/bin/env bash
# A full disk under the agent: its data_dir is a small tmpfs that a ballast file fills while
# the agent ingests a log burst. The agent must keep running, stop reading, say why in its
# log, and resume when the ballast is removed, with every line at the collector exactly once.
# Needs root (mount). Usage: tests/chaos/full_disk.sh [LINES]
set -euo pipefail
source "$(dirname "$0")/common.sh"

LINES=${1:-200000}
PORT=4397
SIZE_MB=128
BALLAST_MB=125
# The ballast leaves 3 MB, too little room for the burst; once it is gone the whole burst fits
# (stored compressed, ~12 MB). The spool's byte cap stays at common.sh's 1 GB: a smaller one
# would drop the oldest unsent records as designed (the agent reads a burst faster than a
# shipper in back-off sends it), which is the cap's behaviour, not the full disk's.
[ "$(id -u)" = 0 ] || { echo "full_disk.sh mounts a tmpfs: run it as root" >&2; exit 2; }
build
while mountpoint -q "$WORK/disk" 2> /dev/null; do umount "$WORK/disk" || break; done
rm -rf "$WORK" && mkdir -p "$WORK/logs" "$WORK/collector" "$WORK/disk"
agent=""
COLLECTOR_PID=""
cleanup() {
    kill -9 $agent $COLLECTOR_PID 2> /dev/null
    sleep 0.5
    umount "$WORK/disk" 2> /dev/null || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mount -t tmpfs -o size=${SIZE_MB}m tmpfs "$WORK/disk"
numbered_input "$LINES" "$WORK/logs/input.log"
dd if=/dev/zero of="$WORK/disk/ballast" bs=1M count=$BALLAST_MB status=none
start_collector "$WORK/collector" $PORT
agent_policy "$WORK/policy.toml" "$WORK/disk/state" "$WORK/logs/*.log" $PORT
"$NOTICED" run --policy "$WORK/policy.toml" > "$WORK/agent.log" 2>&1 &
agent=$!

echo "waiting for the disk to fill" >&2
for _ in $(seq 600); do
    grep -q "cannot store a round" "$WORK/agent.log" && break
    sleep 0.1
done
grep -q "cannot store a round" "$WORK/agent.log" || { echo "the disk never filled" >&2; exit 1; }
stalled=$(received "$WORK/collector")
sleep 3
kill -0 $agent || { echo "FAIL: the agent died on a full disk" >&2; exit 1; }
echo "disk full: the agent runs, $stalled of $LINES lines at the collector; freeing space" >&2
rm "$WORK/disk/ballast"

for _ in $(seq 1200); do
    [ "$(received "$WORK/collector")" -ge "$LINES" ] && break
    kill -0 $agent || { echo "FAIL: the agent died" >&2; exit 1; }
    sleep 0.1
done
kill -TERM $agent; wait $agent || true
echo "errors logged while full: $(grep -c 'cannot store a round' "$WORK/agent.log")" >&2
tally "$WORK/collector" "$LINES"
