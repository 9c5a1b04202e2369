#!/usr/bin/env bash
# What an admin sees: renders the HTML notice (English and Dutch, from the vendor example) and
# a transparency report, opens each in headless Chromium, and keeps the screenshots in
# target/screenshots/ as test artefacts. Installs Debian's `chromium` package when missing.
# Each PNG is deleted before Chromium takes it, so an old screenshot cannot pass for a new one;
# the script fails unless every page left a PNG written during this run that decodes and is not
# blank (its pixels are decoded and counted).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v chromium >/dev/null; then
  echo "installing chromium (Debian package) for the screenshot test"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi

cargo build --quiet
bin=target/debug/noticed
out=target/screenshots
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

"$bin" notice --policy config/examples/vendor-notice.toml --lang en --format html > "$work/notice-en.html"
"$bin" notice --policy config/examples/vendor-notice.toml --lang nl --format html > "$work/notice-nl.html"

# A report needs records: a local-only agent reads a small log once.
mkdir -p "$work/logs"
printf 'login user=alice from 192.0.2.7\nbackup done for bob@example.com\nhealth ok\n' > "$work/logs/app.log"
cat > "$work/policy.toml" <<POLICY
[notice]
title = "Screenshot report"
version = "1"
contact = "admin"
[agent]
data_dir = "$work/agent"
[[source]]
type = "log_file"
paths = ["$work/logs/*.log"]
start_at = "beginning"
[[source]]
type = "host_metrics"
[category.service-logs]
purpose = "service-operational"
allow = ["file"]
scrub = ["message"]
[category.performance]
purpose = "service-operational"
allow = ["memory.*"]
POLICY
"$bin" run --once --policy "$work/policy.toml" > /dev/null
"$bin" report --policy "$work/policy.toml" --format html > "$work/report.html"

# Anything written before this marker is left over from an earlier run.
touch "$work/started"
for page in notice-en notice-nl report; do
  [ -s "$work/$page.html" ] || { echo "FAIL: $page.html is empty" >&2; exit 1; }
  rm -f "$out/$page.png"
  if ! chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,1400 \
      --screenshot="$out/$page.png" "file://$work/$page.html" > "$work/$page.chromium.log" 2>&1; then
    echo "FAIL: chromium failed on $page.html:" >&2; tail -n 20 "$work/$page.chromium.log" >&2; exit 1
  fi
done

# Every PNG: present, written after the marker, a valid PNG (chunk CRCs, IHDR, IDAT stream),
# at least 800x800, and not blank: its decoded pixels have more than 20 distinct colours and at
# least 0.5% of them differ from the most common (background) colour.
python3 - "$work/started" "$out/notice-en.png" "$out/notice-nl.png" "$out/report.png" <<'PY'
import os, struct, sys, zlib
from collections import Counter

def fail(msg):
    sys.exit(f"FAIL: {msg}")

def pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path}: not a PNG")
    pos, chunks = 8, []
    while pos < len(data):
        if pos + 12 > len(data):
            fail(f"{path}: truncated chunk at byte {pos}")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = data[pos + 8 + length:pos + 12 + length]
        if len(body) != length or len(crc) != 4 or zlib.crc32(kind + body) != struct.unpack(">I", crc)[0]:
            fail(f"{path}: {kind!r} chunk is damaged")
        chunks.append((kind, body))
        pos += 12 + length
        if kind == b"IEND":
            break
    if not chunks or chunks[0][0] != b"IHDR" or chunks[-1][0] != b"IEND":
        fail(f"{path}: no IHDR first or no IEND last")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    channels = {2: 3, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        fail(f"{path}: unexpected format (depth {depth}, colour type {colour}, interlace {interlace})")
    try:
        raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    except zlib.error as e:
        fail(f"{path}: image data does not decompress ({e})")
    stride = width * channels
    if len(raw) != height * (stride + 1):
        fail(f"{path}: {len(raw)} bytes of image data for {width}x{height}")
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b, c = prev[i], (prev[i - channels] if i >= channels else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        elif kind != 0:
            fail(f"{path}: unknown filter {kind} on row {y}")
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows

started = os.stat(sys.argv[1]).st_mtime_ns
for path in sys.argv[2:]:
    if not os.path.exists(path):
        fail(f"{path}: Chromium wrote no screenshot")
    if os.stat(path).st_mtime_ns <= started:
        fail(f"{path}: older than this run")
    width, height, channels, rows = pixels(path)
    if width < 800 or height < 800:
        fail(f"{path}: {width}x{height}, expected at least 800x800")
    colours = Counter()
    for row in rows:
        colours.update(row[i:i + 3] for i in range(0, len(row), channels))
    background, count = colours.most_common(1)[0]
    ink = 1 - count / (width * height)
    if len(colours) <= 20 or ink < 0.005:
        fail(f"{path}: looks blank ({len(colours)} colours, {ink:.2%} not background #{background.hex()})")
    print(f"{path}: {width}x{height}, {len(colours)} colours, {ink:.1%} not background #{background.hex()}")
PY
echo "screenshots kept in $out/"
