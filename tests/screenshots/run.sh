#!/usr/bin/env bash
# What an admin sees: renders the HTML notice (English and Dutch, from the vendor example) and
# a transparency report, opens each in headless Chromium, and keeps the screenshots in
# target/screenshots/ as test artefacts. Installs Debian's `chromium` package when missing.
# Fails if a page does not render (no PNG, or a blank one).
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

for page in notice-en notice-nl report; do
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,1400 \
    --screenshot="$out/$page.png" "file://$work/$page.html" >/dev/null 2>&1
  python3 - "$out/$page.png" <<'PY'
import struct, sys, zlib
path = sys.argv[1]
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
width, height = struct.unpack(">II", data[16:24])
idat = b"".join(data[i + 8:i + 8 + struct.unpack(">I", data[i:i + 4])[0]]
                for i in range(8, len(data)) if data[i + 4:i + 8] == b"IDAT")
raw = zlib.decompress(idat)
distinct = len(set(raw[i:i + 3] for i in range(0, min(len(raw), 4_000_000), 97)))
assert width >= 800 and height >= 800, f"{path}: {width}x{height}"
assert distinct > 20, f"{path}: looks blank ({distinct} distinct samples)"
print(f"{path}: {width}x{height}, {distinct} distinct colour samples")
PY
done
echo "screenshots kept in $out/"
