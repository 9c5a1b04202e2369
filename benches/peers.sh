# Sourced by compare.sh with --peers: installs and runs each peer on $INPUT, one after another,
# and records its figures with `record`. rsyslog and syslog-ng conflict as Debian packages, so
# rsyslog runs first and syslog-ng's installation then removes it.

# Runs a daemon under /usr/bin/time until its output file holds $LINES lines (or stops
# growing for 10 s), timed by the same poller as noticed's end-to-end run (count_lines.py),
# then stops it. run_daemon NAME OUTPUT CMD...
run_daemon() {
    local name=$1 out=$2
    shift 2
    rm -f "$out"
    local t0
    t0=$(now)
    /usr/bin/time -v -o "$WORK/$name.time" "$@" > "$WORK/$name.log" 2>&1 &
    local timer=$!
    local have
    have=$(python3 "$BENCHES/count_lines.py" "$LINES" "$out")
    local wall
    wall=$(elapsed "$t0")
    pkill -TERM -P "$timer" || true
    wait "$timer" || true
    record "$name" "$have" "$wall" "$WORK/$name.time" "$out"
}

if wanted rsyslog-mmanon; then
    echo "== rsyslog imfile -> mmanon (IPs only)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsyslog > /dev/null
    rm -rf "$WORK/rsyslog" && mkdir -p "$WORK/rsyslog/work"
    cat > "$WORK/rsyslog/mmanon.conf" <<EOF
global(workDirectory="$WORK/rsyslog/work")
module(load="imfile" mode="inotify")
module(load="mmanon")
template(name="raw" type="string" string="%msg%\n")
ruleset(name="r") {
  action(type="mmanon" ipv4.enable="on" ipv4.mode="zero" ipv4.bits="32"
         ipv6.enable="on" ipv6.anonmode="zero" ipv6.bits="128"
         embeddedipv4.enable="on")
  action(type="omfile" file="$WORK/rsyslog/out.log" template="raw")
}
input(type="imfile" File="$INPUT" Tag="gen" ruleset="r")
EOF
    run_daemon rsyslog-mmanon "$WORK/rsyslog/out.log" \
        rsyslogd -n -f "$WORK/rsyslog/mmanon.conf" -i "$WORK/rsyslog/pid"
fi

if wanted syslog-ng-scrub; then
    echo "== syslog-ng with card mask, IPv4/MAC regex and e-mail hash" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq syslog-ng-core syslog-ng-scl > /dev/null
    rm -rf "$WORK/sng" && mkdir -p "$WORK/sng"
    cat > "$WORK/sng/scrub.conf" <<EOF
@version: 3.38
@include "scl.conf"
options { threaded(yes); };
source s_in { file("$INPUT" flags(no-parse) follow-freq(1) log-fetch-limit(1000) log-iw-size(20000)); };
rewrite r_scrub {
  credit-card-mask();
  subst("\\\\b(?:[0-9]{1,3}\\\\.){3}[0-9]{1,3}\\\\b", "0.0.0.0", value("MESSAGE"), type(pcre), flags(global));
  subst("\\\\b(?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}\\\\b", "xx:xx:xx:xx:xx:xx", value("MESSAGE"), type(pcre), flags(global));
  subst("[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\\\.[A-Za-z]{2,}", "email-\$(sha1 --length 12 \$0)", value("MESSAGE"), type(pcre), flags(global, store-matches));
};
destination d_out { file("$WORK/sng/out.log" template("\${MESSAGE}\n") flush-lines(1000) log-fifo-size(20000)); };
log { source(s_in); rewrite(r_scrub); destination(d_out); };
EOF
    run_daemon syslog-ng-scrub "$WORK/sng/out.log" \
        syslog-ng -F -f "$WORK/sng/scrub.conf" -R "$WORK/sng/persist" -p "$WORK/sng/pid" \
        -c "$WORK/sng/ctl"
fi

# Fluent Bit is not packaged in Debian (it builds from source with cmake in ~10 minutes, see
# shared/peers/README.md); it runs here when a build is on PATH or in FLUENT_BIT. Tail -> file,
# no scrubbing (it has none without Lua): a ceiling for reading and writing lines.
FLUENT_BIT=${FLUENT_BIT:-$(command -v fluent-bit || command -v /opt/fluent-bit/bin/fluent-bit || true)}
if wanted fluent-bit && [ -n "$FLUENT_BIT" ]; then
    echo "== Fluent Bit tail -> file (no scrubbing)" >&2
    rm -rf "$WORK/flb" && mkdir -p "$WORK/flb"
    cat > "$WORK/flb/tail.conf" <<EOF
[SERVICE]
    Flush        1
    Log_Level    warn
    HTTP_Server  Off
[INPUT]
    Name              tail
    Path              $INPUT
    Read_from_Head    true
    Tag               gen
[OUTPUT]
    Name      file
    Match     *
    Path      $WORK/flb
    File      out.log
    Format    template
    Template  {log}
EOF
    run_daemon fluent-bit-tail "$WORK/flb/out.log" "$FLUENT_BIT" -c "$WORK/flb/tail.conf"
elif wanted fluent-bit; then
    echo "== Fluent Bit: no build found (set FLUENT_BIT=/path/to/fluent-bit); skipped" >&2
fi

# The Python scrubbers run on the first 20,000 lines: at ~1,000 lines/s the full file would
# take hours. Their scripts (benches/peers/) read IN and write the scrubbed lines to OUT.
PY_LINES=$((LINES < 20000 ? LINES : 20000))
if wanted presidio || wanted scrubadub; then
    venv=$WORK/venv
    if [ ! -x "$venv/bin/python" ]; then
        echo "== installing Presidio and scrubadub in $venv" >&2
        python3 -m venv "$venv" 2> /dev/null || {
            apt-get update -qq && apt-get install -y -qq python3-venv > /dev/null
            python3 -m venv "$venv"
        }
        "$venv/bin/pip" install -q presidio-analyzer presidio-anonymizer scrubadub
    fi
    head -n "$PY_LINES" "$INPUT" > "$WORK/py-input.log"
    for tool in presidio scrubadub; do
        wanted "$tool" || continue
        echo "== $tool on $PY_LINES lines" >&2
        t0=$(now)
        /usr/bin/time -v -o "$WORK/$tool.time" "$venv/bin/python" "$BENCHES/peers/${tool}_scrub.py" \
            "$WORK/py-input.log" "$WORK/$tool.out"
        record "$tool" "$PY_LINES" "$(elapsed "$t0")" "$WORK/$tool.time" "$WORK/$tool.out"
    done
fi
