# Shared by the chaos scripts: the binary, a numbered input and a paced writer for it, the
# reference collector, and counting what reached it. Every line of the input starts with its number, `nNNNNNNN`.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NOTICED=${NOTICED:-$ROOT/target/release/noticed}
WORK=${WORK:-/tmp/noticed-chaos}

build() {
    [ -n "${SKIP_BUILD:-}" ] || (cd "$ROOT" && cargo build --release --quiet)
}

# numbered_input LINES FILE: the peers' generator's lines, each prefixed with its number.
numbered_input() {
    python3 "$ROOT/benches/gen_logs.py" "$1" "$2.raw"
    awk '{ printf "n%07d %s\n", NR, $0 }' "$2.raw" > "$2"
    rm -f "$2.raw"
}

# paced_writer SRC DEST RATE: appends SRC's lines to DEST in the background, RATE lines a
# second, a chunk of whole lines every 50 ms (as a busy service would log), so that the agent
# reads while it is being killed; sets WRITER_PID. The writer exits once SRC is written.
paced_writer() {
    python3 - "$1" "$2" "$3" <<'PY' &
import sys, time
src, dest, rate = sys.argv[1], sys.argv[2], float(sys.argv[3])
tick, start, written, ticks = 0.05, time.monotonic(), 0, 0
with open(src, "rb") as lines, open(dest, "ab") as out:
    done = False
    while not done:
        due, chunk = rate * (time.monotonic() - start), []
        while written < due:
            line = lines.readline()
            if not line:
                done = True
                break
            chunk.append(line)
            written += 1
        if chunk:
            out.write(b"".join(chunk))
            out.flush()
        ticks += 1
        time.sleep(max(0.0, start + ticks * tick - time.monotonic()))
PY
    WRITER_PID=$!
}

# start_collector DIR PORT: the reference collector on a fixed port (so a restarted one is
# found again by the agent); sets COLLECTOR_PID.
start_collector() {
    "$NOTICED" collector --listen "127.0.0.1:$2" --data-dir "$1" >> "$WORK/collector.log" 2>&1 &
    COLLECTOR_PID=$!
    for _ in $(seq 100); do
        grep -q "listening on 127.0.0.1:$2" "$WORK/collector.log" 2> /dev/null && return 0
        sleep 0.05
    done
    echo "the collector did not start (see $WORK/collector.log)" >&2
    return 1
}

# agent_policy FILE DATA_DIR LOG_GLOB PORT
agent_policy() {
    cat > "$1" <<POLICY
[notice]
title = "chaos"
version = "1"
contact = "chaos@example.com"
[agent]
data_dir = "$2"
[collector]
endpoint = "http://127.0.0.1:$4/v1/batches"
batch_max_records = 2000
flush_interval = "200ms"
[[source]]
type = "log_file"
paths = ["$3"]
start_at = "beginning"
poll_interval = "50ms"
[retention]
spool_max_bytes = ${SPOOL_MAX_BYTES:-1000000000}
[category.service-logs]
purpose = "service-operational"
allow = ["file"]
scrub = ["message"]
POLICY
}

# tally COLLECTOR_DIR LINES: prints "distinct=… twice=… lost=…" and fails unless every line
# arrived exactly once.
tally() {
    python3 - "$1" "$2" <<'PY'
import glob, json, sys
seen = {}
for path in glob.glob(sys.argv[1] + "/*/*.jsonl"):
    for line in open(path):
        message = json.loads(line)["fields"].get("message", "")
        n = int(message[1:8])
        seen[n] = seen.get(n, 0) + 1
want = int(sys.argv[2])
twice = sum(1 for c in seen.values() if c > 1)
lost = sum(1 for n in range(1, want + 1) if n not in seen)
print(f"distinct={len(seen)} twice={twice} lost={lost}")
sys.exit(0 if twice == 0 and lost == 0 and len(seen) == want else 1)
PY
}

# received COLLECTOR_DIR: how many records the collector holds.
received() {
    (cat "$1"/*/*.jsonl 2> /dev/null || true) | wc -l
}
