#!/usr/bin/env python3
"""Independent adversarial corpus generator and scorer for `noticed scrub`.

Plants personal data and secrets in realistic log framing (syslog, sshd, sudo, nginx, JSON,
logfmt, Java, k8s/CRI, XML, SQL, YAML, ...), together with benign tokens that look a bit like
them, and measures how much leaks through and how much harmless text is destroyed. The forms
were written from the log formats themselves, not from the scrubber's rules; every value is
drawn from a seeded random.Random, so a seed always gives the same corpus.

Usage:
  adversarial.py generate --seed S [--per-form N] OUT_DIR
      writes OUT_DIR/corpus.log and OUT_DIR/labels.jsonl (one JSON object per planted item:
      line (0-based index of its first line), lines (how many lines it spans), class, form,
      value, pieces (identifying strings), benign (bool)).
  adversarial.py score OUT_DIR SCRUBBED [--examples K] [--worst W] [--json]
                       [--check MAX_OVERALL MAX_CLASS MAX_BENIGN]
  adversarial.py run --seed S [--per-form N] --binary PATH [--policy FILE] [--keep DIR]
                     [--examples K] [--worst W] [--json] [--check MAX_OVERALL MAX_CLASS MAX_BENIGN]
      generates into a temporary directory (or DIR, kept), runs `PATH scrub [--policy FILE]
      corpus.log` and scores its output.
  Defaults: --seed 1, --per-form 40 (about 10k items / 18k lines), --examples 2, --worst 15.
  Example: benches/adversarial.py run --seed 1 --per-form 5 --binary target/release/noticed

Output: a table per class (planted, survived, %), the overall row, benign (planted, destroyed,
%), then the worst sensitive and worst benign forms, each with K examples (input line -> output
line, and the pieces that leaked). `--json` prints the same as one JSON object. A class marked
"(nothing caught)" had every planted value survive, which usually means no detector for it.
Exit status: 0, or 1 when a --check limit is broken, 2 when the scrubber itself fails.

Scoring rule:
  * The scrubbed file must have one line per input line; item i is judged on output lines
    [line, line + lines).
  * Scrubber tokens (regex  \\[[a-z_0-9]+(?::h:[0-9a-f]{8})?\\]  ) are cut out of those output
    lines (each replaced by a NUL so that no new text is formed across them); token-shaped
    text that was already in the input lines (`vsftpd: [k7mqz]`) is not a token. A planted
    sensitive value SURVIVES if any of its pieces still occurs in what is left.
  * A benign token is DESTROYED if it does not occur intact in its (unmodified) output lines.
  * Percentages: survived / planted per class and overall (sensitive items), destroyed /
    planted for benign items. `--check A B C` exits 1 when the overall survival % > A, any
    class's survival % > B, or the benign destruction % > C.

Pieces per class: e-mail -> local part; secrets -> whole value and every 8-char window of its
second half (values shorter than 12: whole value); URL credentials -> user and password; card
-> every 8 consecutive digits (digits only and as written); IPv4 -> first three octets plus
dot (and `a-b-c-` for dashed host forms); IPv6 -> whole address (v4-mapped: also the v4
prefix); MAC -> last three octets as written; IBAN -> everything after the first 8 chars
(compact and as written); BSN -> whole; phone -> last 7 digits (digits only and as written);
GPS -> each coordinate; user name / home path -> the name; hostname -> first label; user id ->
the uuid; private key -> each body line.
"""
import argparse
import base64
import collections
import hashlib
import json
import os
import random
import re
import string
import subprocess
import sys
import tempfile
import time

LOW = string.ascii_lowercase
UP = string.ascii_uppercase
DIG = string.digits
ALNUM = LOW + DIG
ALNUM_MIX = LOW + UP + DIG
HEX = "0123456789abcdef"
B64 = UP + LOW + DIG + "+/"
TOKEN_RE = re.compile(r"\[[a-z_0-9]+(?::h:[0-9a-f]{8})?\]")

FORMS = []  # (class, form, fn, benign)


def form(cls, name, benign=False):
    def deco(fn):
        FORMS.append((cls, name, fn, benign))
        return fn
    return deco


# --------------------------------------------------------------------------- random helpers

CONS = "bcdfghjklmnprstvwxz"
VOW = "aeiou"


def syl(r, n):
    return "".join(r.choice(CONS) + r.choice(VOW) for _ in range(n))


def rs(r, alphabet, n):
    return "".join(r.choice(alphabet) for _ in range(n))


def rname(r):
    """A made-up user name, >= 4 chars, e.g. k7mqz, jdoe42, tavoki."""
    while True:
        k = r.randrange(5)
        if k == 0:
            s = r.choice(LOW) + rs(r, ALNUM, r.randint(4, 6))
        elif k == 1:
            s = r.choice(LOW) + syl(r, 2) + str(r.randint(1, 99))
        elif k == 2:
            s = syl(r, r.randint(2, 3))
        elif k == 3:
            s = r.choice(LOW) + syl(r, 1) + r.choice(CONS) + r.choice(CONS) + str(r.randint(0, 9))
        else:
            s = syl(r, 2) + r.choice(["_", "-", ""]) + rs(r, LOW, 2) + str(r.randint(1, 9))
        if len(s) >= 4 and any(c.isalpha() for c in s[:1]):
            return s


def rlabel(r, minlen=5):
    """A random host label >= minlen chars such as db-k2q7x or qzt7m."""
    k = r.randrange(3)
    if k == 0:
        s = r.choice(["db", "srv", "app", "vpn", "mx", "web", "nas", "git", "ldap", "build"]) + "-" + rs(r, ALNUM, 5)
    elif k == 1:
        s = r.choice(LOW) + rs(r, ALNUM, r.randint(minlen - 1, 8))
    else:
        s = syl(r, 2) + r.choice(["", "-"]) + rs(r, ALNUM, 3)
    return s


def rdomain(r):
    return (syl(r, r.randint(2, 3)) + r.choice(["", "-" + rs(r, ALNUM, 3)]) + "."
            + r.choice(["com", "nl", "io", "org", "co.uk", "de", "net", "be", "fr", "eu"]))


def ruuid(r):
    h = rs(r, HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{r.choice('89ab')}{h[17:20]}-{h[20:]}"


def rip(r):
    a = r.choice([r.randint(1, 223), 10, 172, 192, r.randint(11, 99)])
    if a == 127:
        a = 128
    return [a, r.randint(0, 255), r.randint(0, 255), r.randint(1, 254)]


def ipstr(o):
    return ".".join(map(str, o))


def ip_pieces(o):
    return [f"{o[0]}.{o[1]}.{o[2]}."]


def secret_pieces(v):
    if len(v) < 12:
        return [v]
    tail = v[-max(8, len(v) - len(v) // 2):]
    out = [v]
    for i in range(len(tail) - 7):
        w = tail[i:i + 8]
        if w not in out:
            out.append(w)
    return out


SPECIAL = "!#$%^&*()-_=+[]{};:,.<>/?~@"


def rsecret(r, kind=None, quote_safe=True):
    kind = kind or r.choice(["alnum", "alnum", "special", "hex", "b64", "edge", "short", "words"])
    if kind == "alnum":
        return rs(r, ALNUM_MIX, r.randint(12, 32))
    if kind == "special":
        n = r.randint(10, 24)
        s = list(rs(r, ALNUM_MIX, n))
        for _ in range(r.randint(2, 4)):
            s[r.randrange(n)] = r.choice(SPECIAL)
        return "".join(s)
    if kind == "hex":
        return rs(r, HEX, r.choice([32, 40, 64]))
    if kind == "b64":
        return base64.b64encode(bytes(r.randrange(256) for _ in range(r.choice([18, 24, 30, 33])))).decode()
    if kind == "edge":
        core = rs(r, ALNUM_MIX, r.randint(10, 20))
        e = r.choice("&#!`")
        return r.choice([e + core, core + e, e + core + r.choice("&#!`")])
    if kind == "short":
        return rs(r, ALNUM_MIX, r.randint(6, 11))
    if kind == "words":  # no spaces: capitalised words glued with digits
        return "".join(syl(r, 2).capitalize() for _ in range(3)) + str(r.randint(10, 9999))
    if kind == "phrase":
        return " ".join(syl(r, r.randint(2, 3)) for _ in range(r.randint(3, 4))) + " " + str(r.randint(1, 99))
    if kind == "jwt":
        def seg(n):
            return base64.urlsafe_b64encode(bytes(r.randrange(256) for _ in range(n))).decode().rstrip("=")
        hdr = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
        return f"{hdr}.{seg(r.randint(40, 90))}.{seg(32)}"
    raise ValueError(kind)


def luhn_complete(prefix, length, r):
    digits = prefix + "".join(r.choice(DIG) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return digits + str((10 - total % 10) % 10)


def digit_windows(written, n=8):
    """Every window of n consecutive digits: digits only, and as written (with separators)."""
    pos = [i for i, c in enumerate(written) if c.isdigit()]
    digits = "".join(written[i] for i in pos)
    out = []
    for i in range(len(pos) - n + 1):
        for p in (digits[i:i + n], written[pos[i]:pos[i + n - 1] + 1]):
            if p not in out:
                out.append(p)
    return out


# --------------------------------------------------------------------------- framing

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
HOSTS = ["web01", "app-2", "node3", "gw", "node-eu1", "prod-api-1", "mail", "backup"]


class Ctx:
    def __init__(self, r):
        self.r = r
        self.colour = r.random() < 0.27  # ~15% of planted lines end up coloured (not every frame has keys)
        self.style = r.choice(["esc", "esc", "rsyslog"])

    def k(self, key):
        """A key, ANSI-coloured on ~15% of lines."""
        if not self.colour:
            return key
        c = self.r.choice(["31", "32", "33", "36", "1;34", "01;31"])
        if self.style == "esc":
            return f"\x1b[{c}m{key}\x1b[0m"
        return f"#033[{c}m{key}#033[0m"

    def lvl(self, level=None):
        level = level or self.r.choice(["INFO", "INFO", "WARN", "ERROR", "DEBUG"])
        return self.k(level)

    def syslog_ts(self):
        r = self.r
        return f"{r.choice(MONTHS)} {r.randint(1, 28):2d} {r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"

    def iso(self):
        r = self.r
        return (f"2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:"
                f"{r.randint(0, 59):02d}:{r.randint(0, 59):02d}.{r.randint(0, 999):03d}Z")

    def syslog(self, prog, msg, pid=True):
        p = f"{prog}[{self.r.randint(200, 65000)}]" if pid else prog
        if self.colour and self.r.random() < 0.5:
            p = self.k(p)
        return f"{self.syslog_ts()} {self.r.choice(HOSTS)} {p}: {msg}"

    def java(self, msg, cls=None):
        r = self.r
        cls = cls or r.choice(["c.a.auth.LoginService", "com.acme.billing.PaymentClient",
                               "org.apache.catalina.core.StandardWrapperValve", "io.acme.api.UserController",
                               "o.s.web.servlet.DispatcherServlet"])
        ts = f"2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d} {r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d},{r.randint(0, 999):03d}"
        return f"{ts} {self.lvl():5s} [{r.choice(['main', 'http-nio-8080-exec-3', 'pool-2-thread-1', 'scheduler-1'])}] {cls} - {msg}"

    def k8s(self, msg):
        return f"{self.iso()[:-1]}{self.r.randint(100000, 999999)}Z {self.r.choice(['stdout', 'stderr'])} F {msg}"

    def logfmt(self, pairs):
        base = [("ts", self.iso()), ("level", self.r.choice(["info", "warn", "error", "debug"]))]
        return " ".join(f"{self.k(k)}={v}" for k, v in base + pairs)

    def json(self, pairs, raw=()):
        """pairs: (key, str value) -> quoted; raw: (key, literal json text)."""
        items = [f'"time":"{self.iso()}"', f'"level":"{self.r.choice(["info", "warn", "error"])}"']
        items += [f'"{k}":"{v}"' for k, v in pairs]
        items += [f'"{k}":{v}' for k, v in raw]
        self.r.shuffle(items)
        sep = self.r.choice([",", ", "])
        colon = self.r.choice([":", ": "])
        return "{" + sep.join(i.replace('":', '"' + colon, 1) for i in items) + "}"

    def any_frame(self, msg):
        """Wrap a free-text message in a random frame."""
        k = self.r.randrange(5)
        if k == 0:
            return self.syslog(self.r.choice(["app", "worker", "backend", "python3", "node"]), msg)
        if k == 1:
            return self.java(msg)
        if k == 2:
            return self.k8s(msg)
        if k == 3:
            return f"{self.iso()} {self.lvl()} {msg}"
        return f"[{self.iso()}] {self.lvl().lower()}: {msg}"

    def nginx(self, ip, path, ua=None, extra=""):
        r = self.r
        ua = ua or r.choice(["Mozilla/5.0 (X11; Linux x86_64)", "curl/8.5.0", "python-requests/2.31.0"])
        return (f'{ip} - - [{r.randint(1, 28):02d}/{r.choice(MONTHS)}/2024:{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:'
                f'{r.randint(0, 59):02d} +0000] "{r.choice(["GET", "POST"])} {path} HTTP/1.1" {r.choice([200, 302, 401, 404])} '
                f'{r.randint(0, 9000)} "-" "{ua}"{extra}')


def pubip(r):
    return f"{r.choice([198, 203, 192])}.{r.choice([51, 0])}.{r.choice([100, 113, 2])}.{r.randint(1, 254)}"


# --------------------------------------------------------------------------- email

def email_local(r):
    k = r.randrange(4)
    if k == 0:
        return rname(r)
    if k == 1:
        return syl(r, 2) + "." + syl(r, r.randint(2, 3))
    if k == 2:
        return r.choice(LOW) + "." + syl(r, 3) + str(r.randint(1, 99))
    return syl(r, 2) + "_" + rs(r, ALNUM, 4)


def mkemail(cls, name, build):
    @form(cls, name)
    def _f(c):
        loc = email_local(c.r)
        dom = rdomain(c.r)
        line, pieces = build(c, loc, dom)
        return [line], pieces[0] if len(pieces) == 1 else pieces[-1], pieces
    return _f


mkemail("email", "plain", lambda c, l, d: (c.any_frame(f"sending password reset link to {l}@{d}"), [l]))
mkemail("email", "quoted_local", lambda c, l, d: (c.any_frame(f'bounce for "{l}..x"@{d}: mailbox full'), [l + "..x"]))
mkemail("email", "pct_encoded", lambda c, l, d: (c.nginx(pubip(c.r), f"/api/v2/subscribe?email={l}%40{d}&list=news"), [l]))
mkemail("email", "ip_literal", lambda c, l, d: (c.syslog("postfix/smtpd", f"NOQUEUE: reject: RCPT from unknown[{pubip(c.r)}]: 550 5.1.1 <{l}@[{pubip(c.r)}]>: Recipient address rejected"), [l]))
mkemail("email", "angle", lambda c, l, d: (c.syslog("postfix/smtp", f"{rs(c.r, HEX.upper(), 10)}: to=<{l}@{d}>, relay=mx.{d}[{pubip(c.r)}]:25, delay=0.4, dsn=2.0.0, status=sent (250 OK)"), [l]))
mkemail("email", "mailto", lambda c, l, d: (c.any_frame(f'rendered footer <a href="mailto:{l}@{d}?subject=Hi">contact</a>'), [l]))
mkemail("email", "plus_tag", lambda c, l, d: (c.any_frame(f"new signup {c.k('email')}={l}+{rs(c.r, LOW, 5)}@{d} plan=pro"), [l]))
mkemail("email", "json", lambda c, l, d: (c.json([("msg", "user login"), ("email", f"{l}@{d}")]), [l]))
mkemail("email", "upper", lambda c, l, d: (c.any_frame(f"From: {l.upper()}@{d.upper()}"), [l.upper()]))
mkemail("email", "logfmt_user", lambda c, l, d: (c.logfmt([("msg", '"login ok"'), ("user", f"{l}@{d}")]), [l]))


# --------------------------------------------------------------------------- ipv4

def ipform(name, build):
    @form("ipv4", name)
    def _f(c):
        o = rip(c.r)
        line, pieces = build(c, o)
        return [line], ipstr(o), pieces
    return _f


ipform("plain", lambda c, o: (c.any_frame(f"client {ipstr(o)} blocked after 5 failed attempts"), ip_pieces(o)))
ipform("port", lambda c, o: (c.any_frame(f"upstream connect error to {ipstr(o)}:{c.r.randint(1024, 65535)} (connection refused)"), ip_pieces(o)))
ipform("nginx", lambda c, o: (c.nginx(ipstr(o), f"/static/app.{rs(c.r, HEX, 8)}.js"), ip_pieces(o)))
ipform("sshd", lambda c, o: (c.syslog("sshd", f"Connection closed by {ipstr(o)} port {c.r.randint(1024, 65535)} [preauth]"), ip_pieces(o)))
ipform("ec2_host", lambda c, o: (c.any_frame(f"resolved peer ec2-{o[0]}-{o[1]}-{o[2]}-{o[3]}.compute-1.amazonaws.com"), [f"{o[0]}-{o[1]}-{o[2]}-"]))
ipform("ip_dash_host", lambda c, o: (c.syslog("kubelet", f'Node ip-{o[0]}-{o[1]}-{o[2]}-{o[3]}.ec2.internal status is now: NodeReady'), [f"{o[0]}-{o[1]}-{o[2]}-"]))
ipform("cidr", lambda c, o: (c.any_frame(f"allow from {o[0]}.{o[1]}.{o[2]}.0/{c.r.choice([24, 28, 29])} added to acl"), ip_pieces(o)))
ipform("iptables", lambda c, o: (c.syslog("kernel", f"[UFW BLOCK] IN=eth0 OUT= MAC= SRC={ipstr(o)} DST={pubip(c.r)} LEN=60 PROTO=TCP SPT={c.r.randint(1024, 65535)} DPT=22", pid=False), ip_pieces(o)))
ipform("json", lambda c, o: (c.json([("remote_addr", ipstr(o)), ("path", "/healthz")]), ip_pieces(o)))


@form("ipv4", "xff_list")
def _xff(c):
    ips = [rip(c.r) for _ in range(c.r.randint(2, 3))]
    line = c.any_frame(f"{c.k('X-Forwarded-For')}: " + ", ".join(ipstr(o) for o in ips))
    return [line], ", ".join(ipstr(o) for o in ips), [p for o in ips for p in ip_pieces(o)]


# --------------------------------------------------------------------------- ipv6

def rv6_groups(r):
    g = [r.randint(0, 0xFFFF) for _ in range(8)]
    g[0] = r.choice([0x2001, 0x2a02, 0x2a01, 0x2600, 0x2804, r.randint(0x2000, 0x2fff)])
    return g


def v6_compress(g, start, n):
    g = list(g)
    for i in range(start, start + n):
        g[i] = 0
    left = ":".join(f"{x:x}" for x in g[:start])
    right = ":".join(f"{x:x}" for x in g[start + n:])
    return f"{left}::{right}"


def v6form(name, build):
    @form("ipv6", name)
    def _f(c):
        line, addr, pieces = build(c)
        return [line], addr, pieces
    return _f


def _v6full(c):
    a = ":".join(f"{x:04x}" for x in rv6_groups(c.r))
    return c.any_frame(f"peer {a} connected"), a, [a]


def _v6comp(c):
    g = rv6_groups(c.r)
    a = v6_compress(g, c.r.randint(2, 4), c.r.randint(2, 3))
    return c.syslog("sshd", f"Accepted publickey for deploy from {a} port {c.r.randint(1024, 65535)} ssh2: ED25519 SHA256:{rs(c.r, B64, 43)}"), a, [a]


def _v6zone(c):
    g = [0xfe80, 0, 0, 0] + [c.r.randint(1, 0xffff) for _ in range(4)]
    a = v6_compress(g, 1, 3)
    z = c.r.choice(["eth0", "wlp2s0", "ens3", "en0"])
    return c.syslog("dhclient", f"DHCPv6 advertise from {a}%{z}"), a, [a]


def _v6port(c):
    a = v6_compress(rv6_groups(c.r), 3, 2)
    return c.any_frame(f"dial tcp [{a}]:{c.r.choice([443, 5432, 6379, 8443])}: i/o timeout"), a, [a]


def _v6mapped(c):
    o = rip(c.r)
    a = f"::ffff:{ipstr(o)}"
    return c.nginx(a, "/login"), a, [a] + ip_pieces(o)


def _v6upper(c):
    a = v6_compress(rv6_groups(c.r), 4, 2).upper()
    return c.json([("client_ip", a), ("msg", "request")]), a, [a]


v6form("full", _v6full)
v6form("compressed", _v6comp)
v6form("zone", _v6zone)
v6form("bracket_port", _v6port)
v6form("v4_mapped", _v6mapped)
v6form("upper_json", _v6upper)


# --------------------------------------------------------------------------- mac

def macform(name, build):
    @form("mac", name)
    def _f(c):
        o = [c.r.randint(0, 255) for _ in range(6)]
        o[0] &= 0xFE
        line, written, piece = build(c, o)
        return [line], written, [piece]
    return _f


def _mac_colon(c, o):
    w = ":".join(f"{x:02x}" for x in o)
    return c.syslog("dhcpd", f"DHCPACK on {ipstr(rip(c.r))} to {w} via eth0"), w, w[9:]


def _mac_colon_up(c, o):
    w = ":".join(f"{x:02X}" for x in o)
    return c.syslog("kernel", f"wlan0: authenticate with {w}", pid=False), w, w[9:]


def _mac_dash(c, o):
    w = "-".join(f"{x:02X}" for x in o)
    return c.any_frame(f"Physical Address. . . . . . . . . : {w}"), w, w[9:]


def _mac_cisco(c, o):
    h = "".join(f"{x:02x}" for x in o)
    w = f"{h[0:4]}.{h[4:8]}.{h[8:12]}"
    return (f"{c.syslog_ts()}: %SW_MATM-4-MACFLAP_NOTIF: Host {w} in vlan {c.r.randint(1, 400)} is flapping between port Gi1/0/{c.r.randint(1, 48)} and port Gi1/0/{c.r.randint(1, 48)}"), w, w[7:]


def _mac_bare(c, o):
    w = "".join(f"{x:02x}" for x in o)
    key = c.r.choice(["hwaddr=", "mac_address: ", "hwaddr ", "mac_address="])
    return c.any_frame(f"interface eth{c.r.randint(0, 3)} {c.k(key.strip(' =:'))}{key[len(key.strip(' =:')):]}{w} mtu=1500"), w, w[6:]


def _mac_short(c, o):
    o[c.r.randrange(1, 6)] = c.r.randint(0, 15)
    o[c.r.randrange(3, 6)] = c.r.randint(0, 15)
    w = ":".join(f"{x:x}" for x in o)
    return c.any_frame(f"? ({ipstr(rip(c.r))}) at {w} on en0 ifscope [ethernet]"), w, ":".join(w.split(":")[3:])


for _n, _b in [("colon", _mac_colon), ("colon_upper", _mac_colon_up), ("dash", _mac_dash),
               ("cisco_dot", _mac_cisco), ("bare_hex", _mac_bare), ("short_octets", _mac_short)]:
    macform(_n, _b)


# --------------------------------------------------------------------------- card

def card_number(r, brand):
    if brand == "visa":
        return luhn_complete("4", 16, r)
    if brand == "mc":
        return luhn_complete(str(r.randint(51, 55)), 16, r)
    if brand == "mc2":
        return luhn_complete(str(r.randint(2221, 2720)), 16, r)
    if brand == "amex":
        return luhn_complete(r.choice(["34", "37"]), 15, r)
    if brand == "discover":
        return luhn_complete("6011", 16, r)
    raise ValueError(brand)


def card_write(d, sep):
    if sep == "":
        return d
    groups = [d[:4], d[4:10], d[10:]] if len(d) == 15 else [d[i:i + 4] for i in range(0, 16, 4)]
    return sep.join(groups)


def cardform(brand, sepname, sep):
    @form("card", f"{brand}_{sepname}")
    def _f(c):
        d = card_number(c.r, brand)
        w = card_write(d, sep)
        k = c.r.randrange(5)
        if k == 0:
            line = c.any_frame(f"payment declined for card {w} (insufficient funds)")
        elif k == 1:
            line = c.json([("pan", w), ("event", "authorize")])
        elif k == 2:
            line = c.logfmt([("msg", '"charge"'), ("cc_number", w), ("amount", "12.50")])
        elif k == 3:
            line = c.java(f"Tokenizing card number: {w}")
        else:
            line = c.any_frame(f"<CardNumber>{w}</CardNumber>")
        return [line], w, digit_windows(w)
    return _f


for _brand, _sn, _sep in [("visa", "plain", ""), ("visa", "spaces", " "), ("visa", "dashes", "-"), ("visa", "dots", "."),
                          ("mc", "plain", ""), ("mc", "spaces", " "), ("mc2", "dashes", "-"), ("mc2", "plain", ""),
                          ("amex", "plain", ""), ("amex", "spaces", " "), ("amex", "dashes", "-"),
                          ("discover", "plain", ""), ("discover", "dots", ".")]:
    cardform(_brand, _sn, _sep)


# --------------------------------------------------------------------------- secrets

def sform(cls, name, kinds=None, forbid=""):
    """A secret form; `forbid` lists characters the framing cannot carry unescaped."""
    def deco(build):
        @form(cls, name)
        def _f(c):
            v = rsecret(c.r, c.r.choice(kinds) if kinds else None)
            v = "".join(ch for ch in v if ch not in forbid)
            lines = build(c, v)
            if isinstance(lines, str):
                lines = [lines]
            w = getattr(c, "_written", v)  # as written, when the frame encodes the value
            return lines, v, secret_pieces(w)
        return _f
    return deco


NOQ = ["alnum", "special", "hex", "b64", "short", "words", "edge"]
SAFE = ["alnum", "hex", "b64", "short", "words"]


@sform("secret_kv", "logfmt_password", NOQ)
def _(c, v):
    return c.logfmt([("msg", '"db connect"'), (c.r.choice(["password", "passwd", "pwd", "db_password"]), v), ("retries", "3")])


@sform("secret_kv", "json_password", SAFE + ["special"])
def _(c, v):
    return c.json([("msg", "config loaded"), (c.r.choice(["password", "secret", "apiKey", "client_secret"]), v)])


@sform("secret_kv", "token_colon", SAFE + ["jwt"])
def _(c, v):
    return c.any_frame(f"{c.k(c.r.choice(['token', 'access_token', 'api_key', 'auth_token']))}: {v}")


@sform("secret_kv", "edge_chars", ["edge"])
def _(c, v):
    return c.any_frame(f"{c.k(c.r.choice(['password', 'secret', 'passphrase']))}={v} user=svc")


@sform("secret_kv", "quoted_spaces", ["phrase"])
def _(c, v):
    q = c.r.choice(['"', "'"])
    return c.any_frame(f"{c.k('password')}={q}{v}{q} source=vault")


@sform("secret_kv", "env_var", NOQ)
def _(c, v):
    return c.k8s(f"{c.r.choice(['DB_PASSWORD', 'AWS_SECRET_ACCESS_KEY', 'STRIPE_SECRET_KEY', 'REDIS_PASSWORD', 'GITHUB_TOKEN'])}={v}")


@sform("secret_kv", "query_param", SAFE)
def _(c, v):
    return c.nginx(pubip(c.r), f"/api/v1/export?{c.r.choice(['access_token', 'api_key', 'token', 'sig'])}={v}&format=csv")


@sform("secret_kv", "java_props", NOQ)
def _(c, v):
    return c.java(f"Effective config: spring.datasource.password={v}, spring.datasource.username=app")


@sform("secret_kv", "spaced_equals", SAFE)
def _(c, v):
    return c.any_frame(f"{c.k('client_secret')} = {v}")


# secret_cli

@sform("secret_cli", "long_opt_space", NOQ)
def _(c, v):
    return c.syslog(c.r.choice(["backup", "cron-wrapper", "ansible"]),
                    f"{c.r.choice(['backup-tool', 'pg_dump', 'vault login'])} --user admin --password {v} --verbose")


@sform("secret_cli", "auditd_execve", SAFE)
def _(c, v):
    return (f"type=EXECVE msg=audit({c.r.randint(1700000000, 1720000000)}.{c.r.randint(100, 999)}:{c.r.randint(100, 99999)}): "
            f'argc=5 a0="mysqldump" a1="-u" a2="backup" a3="--password" a4="{v}"')


@sform("secret_cli", "long_opt_equals", NOQ)
def _(c, v):
    return c.syslog("sudo", f"   deploy : TTY=pts/1 ; PWD=/srv/app ; USER=root ; COMMAND=/usr/local/bin/migrate --password={v} --db main")


@sform("secret_cli", "mysql_p", SAFE)
def _(c, v):
    return c.any_frame(f"exec: mysql -uroot -p{v} -h 127.0.0.1 app_db")


@sform("secret_cli", "redis_cli_a", SAFE)
def _(c, v):
    return c.syslog("CRON", f"(root) CMD (redis-cli -a {v} BGSAVE)")


@sform("secret_cli", "sshpass", SAFE + ["special"])
def _(c, v):
    return c.any_frame(f"running: sshpass -p '{v}' ssh -o StrictHostKeyChecking=no backup@{pubip(c.r)}")


@sform("secret_cli", "pgpassword_env", SAFE)
def _(c, v):
    return c.any_frame(f"+ PGPASSWORD={v} psql -h db -U app -c 'select 1'")


@sform("secret_cli", "short_p_space", SAFE)
def _(c, v):
    return c.k8s(f"command: [\"mongosh\", \"--username\", \"admin\", \"-p\", \"{v}\"]")


# secret_xml_sql

@sform("secret_xml_sql", "xml_element", SAFE + ["special"], forbid="<&")
def _(c, v):
    return c.any_frame(f"loaded datasource <password>{v}</password>")


@sform("secret_xml_sql", "dotnet_appsetting", SAFE)
def _(c, v):
    return c.any_frame(f'<add key="{c.r.choice(["Password", "DbPassword", "ApiSecret"])}" value="{v}"/>')


@sform("secret_xml_sql", "xml_attribute", SAFE)
def _(c, v):
    return c.any_frame(f'<user name="svc_{rs(c.r, LOW, 4)}" password="{v}" roles="manager-gui"/>')


@sform("secret_xml_sql", "identified_by", SAFE + ["special"], forbid="'")
def _(c, v):
    return c.any_frame(f"Query: CREATE USER 'app'@'%' IDENTIFIED BY '{v}';")


@sform("secret_xml_sql", "with_password", SAFE)
def _(c, v):
    return (f"{c.iso().replace('T', ' ')[:-1]} UTC [{c.r.randint(100, 99999)}] postgres@app LOG:  statement: "
            f"ALTER ROLE app_rw WITH LOGIN PASSWORD '{v}';")


@sform("secret_xml_sql", "set_password", SAFE)
def _(c, v):
    return c.any_frame(f"executing: SET PASSWORD FOR 'report'@'localhost' = PASSWORD('{v}')")


# secret_prose

@sform("secret_prose", "password_is", SAFE + ["special", "edge"])
def _(c, v):
    return c.any_frame(f"Hi team, the new wifi password is {v} - please don't share")


@sform("secret_prose", "set_to", SAFE)
def _(c, v):
    return c.any_frame(f"password for admin was set to {v}")


@sform("secret_prose", "use_token", SAFE + ["jwt"])
def _(c, v):
    return c.any_frame(f"Auth failed; use token {v} for the retry")


@sform("secret_prose", "temp_password", SAFE)
def _(c, v):
    return c.any_frame(f"Your temporary password: {v} (expires in 24h)")


@sform("secret_prose", "passphrase_was", SAFE)
def _(c, v):
    return c.any_frame(f"ticket #{c.r.randint(1000, 9999)}: reset done, passphrase now {v}")


# secret_http

@sform("secret_http", "bearer", ["jwt", "alnum", "b64"])
def _(c, v):
    return c.any_frame(f"{c.k('Authorization')}: Bearer {v}")


@form("secret_http", "basic")
def _basic(c):
    v = base64.b64encode(f"{rname(c.r)}:{rsecret(c.r, c.r.choice(SAFE))}".encode()).decode()
    return [c.any_frame(f"> {c.k('Authorization')}: Basic {v}")], v, secret_pieces(v)


@form("secret_http", "digest_response")
def _digest(c):
    v = rs(c.r, HEX, 32)
    line = c.any_frame(f'Authorization: Digest username="api", realm="acme", nonce="{rs(c.r, HEX, 16)}", uri="/dir/index.html", response="{v}"')
    return [line], v, secret_pieces(v)


@sform("secret_http", "cookie_session", ["alnum", "b64", "hex"])
def _(c, v):
    return c.any_frame(f"{c.k('Cookie')}: _ga=GA1.2.{c.r.randint(10**8, 10**9)}.{c.r.randint(10**8, 10**9)}; {c.r.choice(['session', 'sessionid', 'JSESSIONID', 'PHPSESSID'])}={v}; theme=dark")


@sform("secret_http", "api_key_header", ["alnum", "hex"])
def _(c, v):
    return c.any_frame(f"{c.k('X-Api-Key')}: {v}")


@sform("secret_http", "set_cookie", ["alnum", "b64"])
def _(c, v):
    return c.any_frame(f"< Set-Cookie: sid={v}; Path=/; HttpOnly; Secure")


@sform("secret_http", "curl_header", ["alnum", "jwt"])
def _(c, v):
    return c.any_frame(f"curl -s -H 'Authorization: token {v}' https://api.github.com/user")


# secret_yaml

@sform("secret_yaml", "password_colon", SAFE + ["special"], forbid="#")
def _(c, v):
    return c.r.choice(["", "  ", "    "]) + f"{c.k(c.r.choice(['password', 'secret', 'apiKey', 'token']))}: {v}"


@sform("secret_yaml", "quoted_value", SAFE + ["special"], forbid="\"\\")
def _(c, v):
    return f"    {c.k('password')}: \"{v}\""


@form("secret_yaml", "block_scalar")
def _block(c):
    ind = c.r.choice(["  ", "    "])
    n = c.r.randint(1, 3)
    vals = [rsecret(c.r, c.r.choice(["alnum", "b64", "hex"])) for _ in range(n)]
    lines = [f"{ind[:-2]}{c.k(c.r.choice(['password', 'secret', 'token']))}: {c.r.choice(['|', '>', '|-'])}"]
    lines += [ind + v for v in vals]
    return lines, "\n".join(vals), [p for v in vals for p in secret_pieces(v)]


@sform("secret_yaml", "k8s_secret_data", ["b64"])
def _(c, v):
    return f"  {c.r.choice(['password', 'db-password', 'token'])}: {v}"


# --------------------------------------------------------------------------- url credentials

def url_pw(r):
    s = list(rs(r, ALNUM_MIX, r.randint(8, 16)))
    for _ in range(r.randint(1, 3)):
        s.insert(r.randrange(1, len(s)), r.choice("#/?@%"))
    return "".join(s)


def urlform(name, build):
    @form("url_credentials", name)
    def _f(c):
        u = rname(c.r)
        p = url_pw(c.r)
        h = rlabel(c.r) + "." + rdomain(c.r)
        line = build(c, u, p, h)
        return [line], f"{u}:{p}", [u, p]
    return _f


urlform("postgres", lambda c, u, p, h: c.any_frame(f"connecting to postgres://{u}:{p}@{h}:5432/app?sslmode=require"))
urlform("redis", lambda c, u, p, h: c.k8s(f"REDIS_URL=redis://{u}:{p}@{h}:6379/0"))
urlform("amqp", lambda c, u, p, h: c.java(f"Created new connection: amqp://{u}:{p}@{h}:5672/vhost"))
urlform("jdbc", lambda c, u, p, h: c.java(f"jdbc url=jdbc:mysql://{u}:{p}@{h}:3306/orders"))
urlform("https", lambda c, u, p, h: c.any_frame(f"fetching https://{u}:{p}@{h}/repo/packages.json"))
urlform("json_dsn", lambda c, u, p, h: c.json([("dsn", f"mongodb+srv://{u}:{p}@{h}/db")]))
urlform("git_remote", lambda c, u, p, h: c.any_frame(f"remote: https://{u}:{p}@github.com/acme/infra.git"))


@form("url_credentials", "jdbc_query")
def _jdbcq(c):
    u, p = rname(c.r), rsecret(c.r, "alnum")
    line = c.java(f"Connecting jdbc:postgresql://db:5432/app?user={u}&password={p}&ssl=true")
    return [line], f"{u}:{p}", [u] + [p]


# --------------------------------------------------------------------------- private keys

def b64line(r, n=64):
    s = list(rs(r, B64, n))
    s[r.randrange(n)] = "/"
    s[r.randrange(n)] = "+"
    return "".join(s)


def keyform(name, begin, end, prefix=None, pgp=False, openssh=False):
    @form("private_key", name)
    def _f(c):
        body = [b64line(c.r) for _ in range(c.r.randint(10, 25))]
        if openssh:
            body[0] = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
        lines = [begin]
        if pgp:
            lines += ["Version: GnuPG v2", ""]
        lines += body
        if pgp:
            lines.append("=" + rs(c.r, B64, 4))
        lines.append(end)
        if prefix:
            pre = prefix(c)
            lines = [pre + l for l in lines]
        return lines, "\n".join(body), [b for b in body if not b.startswith("b3BlbnNzaC1rZXktdjEAAAAA")]
    return _f


keyform("pem_rsa", "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----")
keyform("pem_ec", "-----BEGIN EC PRIVATE KEY-----", "-----END EC PRIVATE KEY-----")
keyform("pkcs8", "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----")
keyform("pkcs8_encrypted", "-----BEGIN ENCRYPTED PRIVATE KEY-----", "-----END ENCRYPTED PRIVATE KEY-----")
keyform("openssh", "-----BEGIN OPENSSH PRIVATE KEY-----", "-----END OPENSSH PRIVATE KEY-----", openssh=True)
keyform("pgp", "-----BEGIN PGP PRIVATE KEY BLOCK-----", "-----END PGP PRIVATE KEY BLOCK-----", pgp=True)


def _k8s_prefix(c):
    return f"{c.iso()[:-1]}123456Z stdout F "


def _syslog_prefix(c):
    return f"{c.syslog_ts()} web01 app[{c.r.randint(100, 9999)}]: "


keyform("pem_rsa_k8s_prefixed", "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----", prefix=_k8s_prefix)
keyform("pkcs8_syslog_prefixed", "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----", prefix=_syslog_prefix)


@form("private_key", "json_escaped")
def _keyjson(c):
    body = [b64line(c.r) for _ in range(c.r.randint(10, 25))]
    pem = "-----BEGIN PRIVATE KEY-----\\n" + "\\n".join(body) + "\\n-----END PRIVATE KEY-----\\n"
    line = ('{"type": "service_account", "project_id": "acme-prod", "private_key_id": "' + rs(c.r, HEX, 40)
            + '", "private_key": "' + pem + '", "client_email": "svc@acme-prod.iam.gserviceaccount.com"}')
    return [line], "\n".join(body), body


# --------------------------------------------------------------------------- user names

def uform(name, build):
    @form("user_name", name)
    def _f(c):
        u = rname(c.r)
        lines = build(c, u)
        return [lines], u, [u]
    return _f


def _port(c):
    return c.r.randint(1024, 65535)


uform("sshd_accepted", lambda c, u: c.syslog("sshd", f"Accepted {c.r.choice(['password', 'publickey'])} for {u} from {pubip(c.r)} port {_port(c)} ssh2"))
uform("sshd_failed", lambda c, u: c.syslog("sshd", f"Failed password for {u} from {pubip(c.r)} port {_port(c)} ssh2"))
uform("sshd_failed_invalid", lambda c, u: c.syslog("sshd", f"Failed password for invalid user {u} from {pubip(c.r)} port {_port(c)} ssh2"))
uform("sshd_invalid_user", lambda c, u: c.syslog("sshd", f"Invalid user {u} from {pubip(c.r)} port {_port(c)}"))
uform("sshd_authenticating", lambda c, u: c.syslog("sshd", f"Connection closed by authenticating user {u} {pubip(c.r)} port {_port(c)} [preauth]"))
uform("sshd_disconnected", lambda c, u: c.syslog("sshd", f"Disconnected from user {u} {pubip(c.r)} port {_port(c)}"))
uform("sshd_pam_session", lambda c, u: c.syslog("sshd", f"pam_unix(sshd:session): session opened for user {u}(uid={c.r.randint(1000, 1999)}) by (uid=0)"))
uform("sudo", lambda c, u: c.syslog("sudo", f"{u} : TTY=pts/{c.r.randint(0, 5)} ; PWD=/home/{u} ; USER=root ; COMMAND=/bin/ls", pid=False))
uform("sudo_pwd_elsewhere", lambda c, u: c.syslog("sudo", f"    {u} : TTY=pts/0 ; PWD=/var/www ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx", pid=False))
uform("su_session", lambda c, u: c.syslog("su", f"pam_unix(su:session): session opened for user root by {u}(uid={c.r.randint(1000, 1999)})"))
uform("su_successful", lambda c, u: c.syslog("su", f"Successful su for root by {u}"))
uform("logind", lambda c, u: c.syslog("systemd-logind", f"New session {c.r.randint(1, 999)} of user {u}."))
uform("cron", lambda c, u: c.syslog("CRON", f"({u}) CMD (/usr/bin/php /var/www/cron.php >/dev/null 2>&1)"))
uform("domain_backslash", lambda c, u: c.any_frame(f"An account failed to log on. Account Name: CORP\\{u} Failure Reason: Unknown user name or bad password."))
uform("dovecot", lambda c, u: c.syslog("dovecot", f"imap-login: Login: user=<{u}>, method=PLAIN, rip={pubip(c.r)}, lip=10.0.0.5, mpid={c.r.randint(100, 9999)}, TLS", pid=False))
uform("mysql_quoted", lambda c, u: f"{c.iso()} {c.r.randint(1, 99)} [Note] Access denied for user '{u}'@'localhost' (using password: YES)")
uform("logfmt_user", lambda c, u: c.logfmt([("msg", '"login failed"'), (c.r.choice(["user", "username", "login"]), u)]))
uform("json_username", lambda c, u: c.json([("event", "auth.success"), (c.r.choice(["username", "user", "userName"]), u)]))
uform("systemd_user_unit", lambda c, u: c.syslog("systemd", f"Started User Manager for UID {c.r.randint(1000, 1999)}; user {u} logged in via gdm"))
uform("ftp", lambda c, u: c.any_frame(f'vsftpd: [{u}] OK LOGIN: Client "{pubip(c.r)}"'))


# --------------------------------------------------------------------------- iban

IBAN_LAYOUT = {"NL": [("A", 4), ("9", 10)], "DE": [("9", 18)], "GB": [("A", 4), ("9", 14)],
               "FR": [("9", 10), ("9", 11), ("9", 2)], "BE": [("9", 12)]}


def iban_make(r, cc):
    if cc == "BE":
        first = "".join(r.choice(DIG) for _ in range(10))
        chk = int(first) % 97 or 97
        bban = first + f"{chk:02d}"
    else:
        bban = "".join(rs(r, UP if t == "A" else DIG, n) for t, n in IBAN_LAYOUT[cc])
    num = "".join(str(int(ch, 36)) for ch in bban + cc + "00")
    check = 98 - int(num) % 97
    return f"{cc}{check:02d}{bban}"


def iban_ok(iban):
    s = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in s)) % 97 == 1


def ibanform(cc, grouped):
    @form("iban", f"{cc.lower()}_{'grouped' if grouped else 'plain'}")
    def _f(c):
        iban = iban_make(c.r, cc)
        assert iban_ok(iban)
        w = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)) if grouped else iban
        k = c.r.randrange(4)
        if k == 0:
            line = c.any_frame(f"SEPA mandate created, debtor account {w}")
        elif k == 1:
            line = c.json([("iban", w), ("amount", "49.95")])
        elif k == 2:
            line = c.logfmt([("msg", '"refund"'), ("account", w)])
        else:
            line = c.java(f"Rekeningnummer gewijzigd naar {w}")
        pieces = [iban[8:]]
        if grouped:
            pieces.append(w[10:])
        return [line], iban, pieces
    return _f


for _cc in IBAN_LAYOUT:
    ibanform(_cc, False)
    ibanform(_cc, True)


# --------------------------------------------------------------------------- BSN

def bsn(r):
    while True:
        d = [r.randint(0, 9) for _ in range(8)]
        if d[0] == 0:
            continue
        s = sum(x * w for x, w in zip(d, range(9, 1, -1)))
        last = s % 11
        if last <= 9:
            v = "".join(map(str, d)) + str(last)
            return v


def bsnform(name, build):
    @form("national_id", name)
    def _f(c):
        v = bsn(c.r)
        line, pieces = build(c, v)
        return [line], v, pieces
    return _f


bsnform("bsn_kv", lambda c, v: (c.logfmt([("msg", '"patient lookup"'), ("bsn", v)]), [v]))
bsnform("burgerservicenummer", lambda c, v: (c.any_frame(f"Controle burgerservicenummer {v} geslaagd"), [v]))
bsnform("sofinummer", lambda c, v: (c.any_frame(f"sofinummer: {v}"), [v]))
bsnform("bsn_json", lambda c, v: (c.json([("BSN", v), ("action", "verify")]), [v]))
bsnform("bsn_dotted", lambda c, v: (c.any_frame(f"BSN {v[:4]}.{v[4:6]}.{v[6:]} niet gevonden"), [f"{v[:4]}.{v[4:6]}.{v[6:]}", v]))
bsnform("bsn_colon_prose", lambda c, v: (c.java(f"Validatie mislukt voor klant met BSN: {v}"), [v]))


# --------------------------------------------------------------------------- phone

def phone_pieces(w):
    pos = [i for i, ch in enumerate(w) if ch.isdigit()]
    digits = "".join(w[i] for i in pos)
    out = [digits[-7:], w[pos[-7]:pos[-1] + 1]]
    return list(dict.fromkeys(out))


def phform(name, make):
    @form("phone", name)
    def _f(c):
        w = make(c.r)
        kw = c.r.choice(["tel", "phone", "mobile", "gsm", "Tel.", "phone_number"])
        k = c.r.randrange(4)
        if k == 0:
            line = c.any_frame(f"{c.k(kw)}: {w}")
        elif k == 1:
            line = c.json([(kw.strip('.'), w), ("msg", "sms sent")])
        elif k == 2:
            line = c.logfmt([("msg", '"otp dispatched"'), (kw.strip('.').lower(), f'"{w}"' if " " in w else w)])
        else:
            line = c.any_frame(f"Customer called from {kw} {w} about order {c.r.randint(10000, 99999)}")
        return [line], w, phone_pieces(w)
    return _f


phform("nl_mobile_intl", lambda r: f"+31 6 {r.randint(10000000, 99999999)}")
phform("us", lambda r: f"+1 ({r.randint(201, 989)}) {r.randint(200, 999)}-{r.randint(0, 9999):04d}")
phform("nl_mobile_dash", lambda r: f"06-{r.randint(10000000, 99999999)}")
phform("uk_london", lambda r: f"+44 20 {r.randint(7000, 8999)} {r.randint(0, 9999):04d}")
phform("e164", lambda r: f"+{r.choice(['31', '49', '33', '32'])}{r.randint(600000000, 799999999)}")
phform("nl_landline", lambda r: f"020-{r.randint(1000000, 9999999)}")
phform("us_dots", lambda r: f"{r.randint(201, 989)}.{r.randint(200, 999)}.{r.randint(0, 9999):04d}")


# --------------------------------------------------------------------------- gps

def coord(r, lo, hi, dec):
    v = r.uniform(lo, hi)
    return f"{v:.{dec}f}"


def gpsform(name, build):
    @form("gps", name)
    def _f(c):
        dec = c.r.randint(4, 6)
        la, lo = coord(c.r, -55, 70, dec), coord(c.r, -170, 170, dec)
        line, pieces = build(c, la, lo)
        return [line], f"{la},{lo}", pieces
    return _f


def _abs(x):
    return x.lstrip("-")


gpsform("lat_lon_kv", lambda c, a, b: (c.any_frame(f"{c.k('lat')}={a}, {c.k('lon')}={b} accuracy=12m"), [_abs(a), _abs(b)]))
gpsform("pair", lambda c, a, b: (c.any_frame(f"device reported position {a},{b}"), [_abs(a), _abs(b)]))
gpsform("degrees", lambda c, a, b: (c.any_frame(f"geo: {float(_abs(a)):.4f}° {'S' if a.startswith('-') else 'N'}, {float(_abs(b)):.4f}° {'W' if b.startswith('-') else 'E'}"),
                                    [f"{float(_abs(a)):.4f}", f"{float(_abs(b)):.4f}"]))
gpsform("json_lat_lng", lambda c, a, b: (c.json([("msg", "checkin")], raw=[("lat", a), ("lng", b)]), [_abs(a), _abs(b)]))
gpsform("geo_uri", lambda c, a, b: (c.any_frame(f"share link geo:{a},{b}?z=17"), [_abs(a), _abs(b)]))
gpsform("maps_url", lambda c, a, b: (c.nginx(pubip(c.r), f"/maps?q={a},{b}"), [_abs(a), _abs(b)]))


# --------------------------------------------------------------------------- home paths

def hform(name, build):
    @form("home_path", name)
    def _f(c):
        u = rname(c.r)
        return [build(c, u)], u, [u]
    return _f


hform("linux_home", lambda c, u: c.any_frame(f"could not open /home/{u}/.config/app/settings.toml: permission denied"))
hform("macos_users", lambda c, u: c.any_frame(f"crash report written to /Users/{u}/Library/Logs/DiagnosticReports/app.ips"))
hform("windows_users", lambda c, u: c.any_frame(f"Loading C:\\Users\\{u}\\AppData\\Local\\Temp\\setup.log"))
hform("windows_json_escaped", lambda c, u: c.json([("file", f"C:\\\\Users\\\\{u}\\\\Documents\\\\report.xlsx")]))
hform("media", lambda c, u: c.syslog("udisksd", f"Mounted /dev/sdb1 at /media/{u}/USB-DISK on behalf of uid 1000"))
hform("python_traceback", lambda c, u: f'  File "/home/{u}/src/proj/.venv/lib/python3.11/site-packages/requests/api.py", line 59, in request')
hform("ssh_key_path", lambda c, u: c.syslog("sshd", f"Could not load host key: /home/{u}/.ssh/id_ed25519"))


# --------------------------------------------------------------------------- hostnames

def fqdn(r):
    first = rlabel(r)
    rest = r.choice([f"corp-{rs(r, ALNUM, 3)}.example", "internal", f"{syl(r, 2)}.lan", f"{syl(r, 3)}-{rs(r, ALNUM, 2)}.local",
                     f"prod.{syl(r, 3)}.com", f"{syl(r, 2)}.corp", f"eu-west-1.{syl(r, 2)}.nl"])
    return first, f"{first}.{rest}"


def hostform(name, build):
    @form("hostname", name)
    def _f(c):
        first, h = fqdn(c.r)
        return [build(c, h)], h, [first]
    return _f


hostform("pg_connect", lambda c, h: c.any_frame(f'could not connect to server: Connection refused. Is the server running on host "{h}" and accepting TCP/IP connections on port 5432?'))
hostform("host_header", lambda c, h: c.any_frame(f"{c.k('Host')}: {h}"))
hostform("upstream", lambda c, h: c.any_frame(f'upstream timed out while reading response header from upstream, upstream: "http://{h}:8080/api"'))
hostform("smtp_relay", lambda c, h: c.syslog("postfix/smtp", f"{rs(c.r, HEX.upper(), 10)}: relay={h}[{pubip(c.r)}]:25, status=deferred"))
hostform("dns_query", lambda c, h: c.syslog("dnsmasq", f"query[A] {h} from {ipstr(rip(c.r))}"))
hostform("json_host", lambda c, h: c.json([("target", h), ("msg", "health check failed")]))
hostform("logfmt_host", lambda c, h: c.logfmt([("msg", '"dial"'), ("addr", f"{h}:443")]))


# --------------------------------------------------------------------------- user ids

def uidform(name, build):
    @form("user_id", name)
    def _f(c):
        u = ruuid(c.r)
        return [build(c, u)], u, [u]
    return _f


uidform("logfmt", lambda c, u: c.logfmt([("msg", '"profile updated"'), ("user_id", u)]))
uidform("json_camel", lambda c, u: c.json([("msg", "order placed"), ("userId", u)]))
uidform("header", lambda c, u: c.any_frame(f"{c.k('X-User-Id')}: {u}"))
uidform("customer_id", lambda c, u: c.any_frame(f"{c.k('customer_id')}={u} plan=premium"))
uidform("rest_path", lambda c, u: c.nginx(pubip(c.r), f"/api/v1/users/{u}/profile"))
uidform("jwt_sub", lambda c, u: c.json([("sub", u), ("iss", "https://auth.acme.example"), ("msg", "token verified")]))


# --------------------------------------------------------------------------- more variants

mkemail("email", "pct_plus", lambda c, l, d: (c.nginx(pubip(c.r), f"/unsubscribe?e={l}%2Bpromo%40{d}"), [l]))
mkemail("email", "url_path", lambda c, l, d: (c.nginx(pubip(c.r), f"/api/users/{l}@{d}/avatar"), [l]))
mkemail("email", "x509_subject", lambda c, l, d: (c.any_frame(f"peer certificate subject=CN={syl(c.r, 2)},O=Acme,emailAddress={l}@{d}"), [l]))
mkemail("email", "display_name", lambda c, l, d: (c.any_frame(f'To: "{syl(c.r, 2).capitalize()}, {syl(c.r, 3).capitalize()}" <{l}@{d}>'), [l]))
ipform("postfix_bracket", lambda c, o: (c.syslog("postfix/smtpd", f"connect from unknown[{ipstr(o)}]"), ip_pieces(o)))
ipform("url", lambda c, o: (c.any_frame(f"GET http://{ipstr(o)}:8080/metrics failed: context deadline exceeded"), ip_pieces(o)))
ipform("pam_rhost", lambda c, o: (c.syslog("sshd", f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ipstr(o)}"), ip_pieces(o)))
uform("pam_auth_user", lambda c, u: c.syslog("sshd", f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={pubip(c.r)}  user={u}"))
uform("useradd", lambda c, u: c.syslog("useradd", f"new user: name={u}, UID={c.r.randint(1000, 1999)}, GID={c.r.randint(1000, 1999)}, home=/home/{u}, shell=/bin/bash, from=/dev/pts/0"))
uform("passwd_changed", lambda c, u: c.syslog("passwd", f"pam_unix(passwd:chauthtok): password changed for {u}"))
uform("windows_target_user", lambda c, u: c.json([("EventID", "4625"), ("TargetUserName", u), ("TargetDomainName", "CORP")]))
uform("gitlab_user", lambda c, u: c.any_frame(f"Started POST \"/users/sign_in\" for {pubip(c.r)} ... Successful Login: username={u} ip={pubip(c.r)} method=standard"))
phform("tel_uri", lambda r: f"tel:+316{r.randint(10000000, 99999999)}")
phform("nl_landline_spaced", lambda r: f"(020) {r.randint(100, 999)} {r.randint(1000, 9999)}")
gpsform("wkt_point", lambda c, a, b: (c.any_frame(f"geom=POINT({b} {a}) srid=4326"), [_abs(a), _abs(b)]))
gpsform("exif_like", lambda c, a, b: (c.any_frame(f"photo uploaded GPSLatitude={_abs(a)} GPSLatitudeRef={'S' if a.startswith('-') else 'N'} GPSLongitude={_abs(b)} GPSLongitudeRef={'W' if b.startswith('-') else 'E'}"), [_abs(a), _abs(b)]))
hform("var_home", lambda c, u: c.any_frame(f"flatpak: using /var/home/{u}/.local/share/flatpak"))
hform("unc_home_share", lambda c, u: c.any_frame(f"mapped H: to \\\\fs01\\home$\\{u}"))
hform("tilde_expanded_url", lambda c, u: c.any_frame(f"opening file:///home/{u}/Downloads/invoice.pdf"))
uidform("nested_json", lambda c, u: c.json([("msg", "session created")], raw=[("user", '{"id":"' + u + '","tier":"gold"}')]))
uidform("uid_kv", lambda c, u: c.any_frame(f"acl check uid={u} resource=/orders action=read"))
hostform("received_header", lambda c, h: c.any_frame(f"Received: from {h} ({h} [{pubip(c.r)}]) by mx.google.com with ESMTPS"))
hostform("kerberos_principal", lambda c, h: c.syslog("krb5kdc", f"AS_REQ (4 etypes) {pubip(c.r)}: ISSUE: authtime 1714742096, host/{h}@CORP.EXAMPLE"))


@sform("secret_kv", "conn_string", SAFE)
def _(c, v):
    return c.any_frame(f"using connection string Server=tcp:sql01,1433;Database=app;User Id=sa;Password={v};Encrypt=True")


@sform("secret_kv", "python_repr", SAFE + ["special"], forbid="'\\")
def _(c, v):
    return c.any_frame(f"kwargs={{'host': 'db', 'user': 'app', 'password': '{v}', 'port': 5432}}")


@sform("secret_kv", "ruby_hash", SAFE)
def _(c, v):
    return c.any_frame(f'Parameters: {{"utf8"=>"✓", "user"=>{{"login"=>"admin", "password"=>"{v}"}}, "commit"=>"Sign in"}}')


@sform("secret_kv", "ansi_wrapped_value", SAFE)
def _(c, v):
    col = c.r.choice(["\x1b[33m", "\x1b[1;31m", "\x1b[38;5;208m"])
    return c.any_frame(f"{c.k('password')}={col}{v}\x1b[0m user=app")


@sform("secret_kv", "rsyslog_escaped_value", SAFE)
def _(c, v):
    return c.syslog("app", f"#033[36msecret#033[0m=#033[33m{v}#033[0m done")


@sform("secret_http", "json_headers", ["jwt", "alnum"])
def _(c, v):
    return c.json([("msg", "outbound request")], raw=[("headers", '{"accept":"application/json","authorization":"Bearer ' + v + '"}')])


@sform("secret_http", "proxy_authorization", ["b64"])
def _(c, v):
    return c.any_frame(f"proxy-authorization: Basic {v}")


@form("private_key", "putty_ppk")
def _putty(c):
    pub = [b64line(c.r) for _ in range(6)]
    priv = [b64line(c.r) for _ in range(c.r.randint(10, 14))]
    lines = ["PuTTY-User-Key-File-3: ssh-rsa", "Encryption: none", f"Comment: rsa-key-2024{c.r.randint(1, 12):02d}{c.r.randint(1, 28):02d}",
             f"Public-Lines: {len(pub)}"] + pub + [f"Private-Lines: {len(priv)}"] + priv + [f"Private-MAC: {rs(c.r, HEX, 64)}"]
    return lines, "\n".join(priv), priv


@form("private_key", "yaml_indented")
def _keyyaml(c):
    body = [b64line(c.r) for _ in range(c.r.randint(10, 25))]
    lines = ["  tls.key: |", "    -----BEGIN EC PRIVATE KEY-----"] + ["    " + b for b in body] + ["    -----END EC PRIVATE KEY-----"]
    return lines, "\n".join(body), body


@sform("secret_kv", "long_line_tail", SAFE)
def _(c, v):
    filler = ",".join(f'"f{i}":"{rs(c.r, ALNUM, 24)}"' for i in range(c.r.randint(120, 200)))
    return "{" + filler + f',"password":"{v}"' + "}"


@sform("secret_kv", "crlf_terminated", SAFE)
def _(c, v):
    return f"{c.iso()} [WARN] Login attempt password={v} user=admin\r"


@sform("secret_kv", "tab_separated", SAFE)
def _(c, v):
    return f"{c.iso()}\tauth\tuser=admin\tpassword\t{v}\tresult=fail"


@sform("secret_kv", "form_body", SAFE + ["special"])
def _(c, v):
    from urllib.parse import quote
    q = quote(v, safe="")
    c._written = q
    return c.any_frame(f"POST /login body=username=admin&password={q}&remember=1")


# --------------------------------------------------------------------------- benign

def bform(name, build):
    @form("benign", name, benign=True)
    def _f(c):
        line, tok = build(c)
        return [line], tok, [tok]
    return _f


def semver(r):
    return f"{r.randint(0, 20)}.{r.randint(0, 40)}.{r.randint(0, 30)}"


bform("java_version_4part", lambda c: ((lambda t: (c.java(f"JVM properties: {t} java.vendor=Eclipse"), t))(f"java.version={r4(c.r)}")))
bform("windows_version", lambda c: ((lambda t: (c.any_frame(f"Microsoft Windows [{t}]"), t))(f"version {c.r.randint(5, 10)}.{c.r.randint(0, 3)}.{c.r.randint(7000, 19045)}.{c.r.randint(0, 999)}")))
bform("bare_4part_version", lambda c: ((lambda t: (c.any_frame(f"driver loaded v{t} ok"), t))(r4(c.r))))
bform("semver", lambda c: ((lambda t: (c.any_frame(f"starting noticed {t} (build {rs(c.r, HEX, 7)})"), t))(semver(c.r))))
bform("sha512_integrity", lambda c: ((lambda t: (f'      "integrity": "{t}",', t))("sha512-" + base64.b64encode(bytes(c.r.randrange(256) for _ in range(64))).decode())))
bform("sha1_hex", lambda c: ((lambda t: (c.any_frame(f"HEAD is now at {t} fix build"), t))(rs(c.r, HEX, 40))))
bform("sha256_hex", lambda c: ((lambda t: (c.any_frame(f"digest: sha256:{t} size: 1573"), t))(rs(c.r, HEX, 64))))
bform("snmp_oid", lambda c: ((lambda t: (c.syslog("snmpd", f"Received SNMP GET for {t} from udp"), t))(f"1.3.6.1.2.1.2.2.1.{c.r.randint(1, 22)}.{c.r.randint(1, 48)}")))
bform("timecode", lambda c: ((lambda t: (c.any_frame(f"frame drop at timecode {t}"), t))(f"{c.r.randint(0, 23):02d}:{c.r.randint(0, 59):02d}:{c.r.randint(0, 59):02d}:{c.r.randint(0, 29):02d}")))
bform("password_min_length", lambda c: ((lambda t: (c.any_frame(f"policy loaded {t} lockout=5"), t))(f"password_min_length={c.r.randint(8, 16)}")))
bform("token_ttl", lambda c: ((lambda t: (c.any_frame(f"oauth settings {t} refresh=true"), t))(f"token_ttl={c.r.choice([300, 900, 3600, 86400])}")))
bform("max_password_age", lambda c: ((lambda t: (f"  {t}", t))(f"max_password_age: {c.r.choice([30, 60, 90, 180])}")))
bform("auth_enabled", lambda c: ((lambda t: (c.any_frame(f"config {t} tls=false"), t))(f"auth_enabled={c.r.choice(['true', 'false'])}")))
bform("secret_count", lambda c: ((lambda t: (c.any_frame(f"vault sync done {t} errors=0"), t))(f"secret_count={c.r.randint(0, 50)}")))
bform("hdfs_block", lambda c: ((lambda t: (f"081109 {c.r.randint(100000, 235959)} {c.r.randint(10, 999)} INFO dfs.DataNode$PacketResponder: Received block {t} of size 67108864 from /10.250.19.102", t))(f"blk_{c.r.choice(['-', ''])}{c.r.randint(10**17, 9 * 10**18)}")))
bform("wifi_channels", lambda c: ((lambda t: (c.syslog("kernel", f"wlan0: Supported channels {t}", pid=False), t))("1 2 3 4 5 6 7 8 9 10 11 12 13")))
bform("fan_speeds", lambda c: ((lambda t: (c.syslog("ipmi", f"Fan speeds (RPM) {t}"), t))("( " + " ".join(str(c.r.randint(3000, 4600)) for _ in range(6)) + " )")))
bform("snort_sid", lambda c: ((lambda t: (c.any_frame(f'alert tcp any any -> any 80 (msg:"local test"; {t}; rev:1;)'), t))(f"sid:{c.r.randint(1, 9)}")))
bform("hadoop_token", lambda c: ((lambda t: (c.java(f"Renewed delegation token {t} for job_{c.r.randint(10**12, 10**13)}_{c.r.randint(1, 9999):04d}"), t))(f"Token{{{rs(c.r, HEX, 7)} kind: YARN_AM_RM_TOKEN}}")))
bform("request_id", lambda c: ((lambda t: (c.logfmt([("msg", '"handled"'), ("status", "200")]) + " " + t, t))(f"request_id={ruuid(c.r)}")))
bform("trace_id_json", lambda c: ((lambda t: (c.json([("trace_id", t), ("msg", "span end")]), t))(rs(c.r, HEX, 32))))
bform("port", lambda c: ((lambda t: (c.any_frame(f"server listening on {t}"), t))(f"port {c.r.randint(1024, 65535)}")))
bform("wildcard_bind", lambda c: ((lambda t: (c.any_frame(f"listening on {t}"), t))(f"0.0.0.0:{c.r.randint(1024, 65535)}")))
bform("mysql_using_password", lambda c: ((lambda t: (f"{c.iso()} {c.r.randint(1, 99)} [Note] Access denied for user 'root'@'localhost' {t}", t))(f"(using password: {c.r.choice(['YES', 'NO'])})")))
bform("pam_chauthtok", lambda c: ((lambda t: (c.syslog("passwd", f"{t}: authentication token manipulation error"), t))("pam_unix(passwd:chauthtok)")))
bform("sudo_pwd_system", lambda c: ((lambda t: (c.syslog("sudo", f"    root : TTY=pts/0 ; {t} ; USER=postgres ; COMMAND=/usr/bin/psql", pid=False), t))(f"PWD={c.r.choice(['/srv/app', '/var/www', '/etc/nginx', '/opt/backup'])}")))
bform("uid_zero", lambda c: ((lambda t: (c.syslog("sshd", f"pam_unix(sshd:session): session closed for user root {t}"), t))("by (uid=0)")))
bform("chrome_version", lambda c: ((lambda t: (c.nginx("-", "/", ua=f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) {t} Safari/537.36"), t))(f"Chrome/{c.r.randint(100, 126)}.0.{c.r.randint(4000, 6500)}.{c.r.randint(10, 200)}")))
bform("pid", lambda c: ((lambda t: (c.any_frame(f"worker exited {t} status=0"), t))(f"pid={c.r.randint(100, 4194304)}")))
bform("duration", lambda c: ((lambda t: (c.any_frame(f"GET /healthz completed in {t}"), t))(f"{c.r.randint(1, 9999)}.{c.r.randint(0, 999):03d}ms")))
bform("timestamp_iso", lambda c: ((lambda t: (f"{t} INFO started", t))(c.iso())))
bform("k8s_pod", lambda c: ((lambda t: (c.any_frame(f'Pod "{t}" in namespace "default" is Running'), t))(f"{c.r.choice(['api', 'worker', 'frontend'])}-{rs(c.r, 'bcdfghjklmnpqrstvwxz2456789', 9)}-{rs(c.r, 'bcdfghjklmnpqrstvwxz2456789', 5)}")))
bform("java_class", lambda c: ((lambda t: (f"\tat {t}(UserController.java:{c.r.randint(10, 900)})", t))(f"com.acme.api.{c.r.choice(['UserController', 'PasswordResetService', 'TokenValidator'])}.{c.r.choice(['handle', 'validate', 'lambda$run$0'])}")))
bform("system_path", lambda c: ((lambda t: (c.any_frame(f"open {t}: ok"), t))(c.r.choice(["/var/log/syslog", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/etc/ssl/certs/ca-certificates.crt", "/usr/share/zoneinfo/Europe/Amsterdam"]))))
bform("config_flag", lambda c: ((lambda t: (c.any_frame(f"bind settings {t} reuse_port=true"), t))(f"ipv6_only={c.r.choice(['true', 'false'])}")))
bform("snmp_oid_long", lambda c: ((lambda t: (c.syslog("snmptrapd", f"trap {t} = INTEGER: {c.r.randint(0, 9)}"), t))(f"1.3.6.1.4.1.{c.r.randint(2000, 60000)}.{c.r.randint(1, 9)}.{c.r.randint(1, 99)}.{c.r.randint(1, 9)}.{c.r.randint(1, 255)}")))
bform("windows_build", lambda c: ((lambda t: (c.any_frame(f"OS: Microsoft Windows NT {t} Service Pack 1"), t))(f"6.1.{c.r.choice([7600, 7601])}.0")))
bform("nsswitch_passwd", lambda c: ((lambda t: (c.any_frame(f"nsswitch.conf {t} systemd"), t))("passwd: files")))
bform("sshd_config_password", lambda c: ((lambda t: (c.syslog("sshd", f"config: {t}"), t))(f"PasswordAuthentication {c.r.choice(['no', 'yes'])}")))
bform("www_authenticate", lambda c: ((lambda t: (c.any_frame(f"< WWW-Authenticate: {t}"), t))('Bearer realm="api", error="invalid_token"')))
bform("epoch_ms", lambda c: ((lambda t: (c.logfmt([("msg", '"tick"'), ("epoch_ms", t)]), t))(str(c.r.randint(1700000000000, 1730000000000)))))
bform("kafka_offset", lambda c: ((lambda t: (c.java(f"Committed {t} for partition orders-{c.r.randint(0, 11)}"), t))(f"offset {c.r.randint(10**9, 10**13)}")))
bform("byte_counter", lambda c: ((lambda t: (c.syslog("vnstatd", f"eth0 {t} tx_bytes={c.r.randint(10**6, 10**12)}"), t))(f"rx_bytes={c.r.randint(10**9, 10**13)}")))
bform("memtotal", lambda c: ((lambda t: (c.any_frame(t), t))(f"MemTotal:       {c.r.randint(10**6, 10**8)} kB")))
bform("latency_kv", lambda c: ((lambda t: (c.logfmt([("msg", '"query"'), ("latency", t)]), t))(f"{c.r.randint(1, 999)}.{c.r.randint(100, 99999)}")))
bform("date_version", lambda c: ((lambda t: (c.any_frame(f"loaded ruleset {t}"), t))(f"2024.{c.r.randint(1, 12):02d}.{c.r.randint(1, 28):02d}.{c.r.randint(1, 9)}")))
bform("password_reset_flag", lambda c: ((lambda t: (c.logfmt([("msg", '"user loaded"'), ("must_change", "false")]) + " " + t, t))(f"password_expired={c.r.choice(['true', 'false'])}")))
bform("token_type", lambda c: ((lambda t: (c.json([("token_type", t), ("expires_in", "3600")]), t))("Bearer")))
bform("docker_short_id", lambda c: ((lambda t: (c.any_frame(f"container {t} started"), t))(rs(c.r, HEX, 12))))
bform("git_describe", lambda c: ((lambda t: (c.any_frame(f"build {t}"), t))(f"v{semver(c.r)}-{c.r.randint(1, 99)}-g{rs(c.r, HEX, 7)}")))
bform("uuid_trace_in_kv", lambda c: ((lambda t: (c.any_frame(f"job {t} finished"), t))(f"job_id={ruuid(c.r)}")))


def r4(r):
    return f"{r.randint(1, 17)}.{r.randint(0, 9)}.{r.randint(0, 9)}.{r.randint(0, 9)}"


# --------------------------------------------------------------------------- generate

def generate(seed, per_form, out_dir):
    r = random.Random(seed)
    items = []
    for cls, name, fn, benign in FORMS:
        for _ in range(per_form):
            c = Ctx(r)
            lines, value, pieces = fn(c)
            pieces = [p for p in pieces if p]
            text = "\n".join(lines)
            # every piece must be planted, except digit-only card windows of separated numbers
            for p in pieces:
                assert p in text or (cls in ("card", "phone", "iban", "national_id") and p.isalnum()), (cls, name, p, text)
            for l in lines:
                assert "\n" not in l and "\r" not in l[:-1], (cls, name, l)
            items.append({"class": cls, "form": name, "value": value, "pieces": pieces,
                          "benign": benign, "_lines": lines})
    r.shuffle(items)
    os.makedirs(out_dir, exist_ok=True)
    n = 0
    with open(os.path.join(out_dir, "corpus.log"), "w", encoding="utf-8", newline="") as corpus, \
            open(os.path.join(out_dir, "labels.jsonl"), "w", encoding="utf-8") as labels:
        for it in items:
            lines = it.pop("_lines")
            for l in lines:
                corpus.write(l + "\n")
            rec = {"line": n, "lines": len(lines), **it}
            labels.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += len(lines)
    return n, len(items)


# --------------------------------------------------------------------------- score

def read_lines(path):
    with open(path, "rb") as f:
        data = f.read().decode("utf-8", errors="replace")
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def pct(a, b):
    return 100.0 * a / b if b else 0.0


def score(out_dir, scrubbed, examples=2, as_json=False, check=None, worst=15, stream=sys.stdout):
    labels = [json.loads(l) for l in open(os.path.join(out_dir, "labels.jsonl"), encoding="utf-8")]
    inp = read_lines(os.path.join(out_dir, "corpus.log"))
    out = read_lines(scrubbed)
    warn = []
    if len(out) != len(inp):
        warn.append(f"line count mismatch: input {len(inp)} lines, output {len(out)} lines")
    cls_stats = collections.OrderedDict()
    form_stats = collections.OrderedDict()
    for it in labels:
        a, b = it["line"], it["line"] + it["lines"]
        o = out[a:b]
        key = (it["class"], it["form"])
        fs = form_stats.setdefault(key, {"planted": 0, "bad": 0, "benign": it["benign"], "examples": []})
        if it["benign"]:
            bad = not all(p in "\n".join(o) for p in it["pieces"])
        else:
            src = "\n".join(inp[a:b])
            # strip scrubber tokens, but not token-shaped text that was already in the input
            # (e.g. `vsftpd: [k7mqz] OK LOGIN`): left alone, that is a leak, not a token
            left = TOKEN_RE.sub(lambda m: m.group(0) if m.group(0) in src else "\x00", "\n".join(o))
            hits = [p for p in it["pieces"] if p in left]
            bad = bool(hits)
        cs = cls_stats.setdefault(it["class"], [0, 0])
        cs[0] += 1
        cs[1] += bad
        fs["planted"] += 1
        if bad:
            fs["bad"] += 1
            if len(fs["examples"]) < examples:
                fs["examples"].append({"in": inp[a:b], "out": o,
                                       "leaked": hits if not it["benign"] else None})
    order = list(dict.fromkeys(c for c, _, _, _ in FORMS))
    sens = sorted(((c, v) for c, v in cls_stats.items() if c != "benign"),
                  key=lambda cv: order.index(cv[0]) if cv[0] in order else len(order))
    tot = sum(v[0] for _, v in sens)
    surv = sum(v[1] for _, v in sens)
    ben = cls_stats.get("benign", [0, 0])
    result = {
        "warnings": warn,
        "classes": {c: {"planted": v[0], "survived": v[1], "pct": round(pct(v[1], v[0]), 2)} for c, v in sens},
        "overall": {"planted": tot, "survived": surv, "pct": round(pct(surv, tot), 2)},
        "benign": {"planted": ben[0], "destroyed": ben[1], "pct": round(pct(ben[1], ben[0]), 2)},
        "forms": [{"class": c, "form": f, "planted": s["planted"], "bad": s["bad"], "benign": s["benign"],
                   "pct": round(pct(s["bad"], s["planted"]), 2), "examples": s["examples"]}
                  for (c, f), s in form_stats.items()],
    }
    failed = []
    if check:
        mo, mc, mb = check
        if result["overall"]["pct"] > mo:
            failed.append(f"overall survival {result['overall']['pct']}% > {mo}%")
        for c, v in result["classes"].items():
            if v["pct"] > mc:
                failed.append(f"class {c} survival {v['pct']}% > {mc}%")
        if result["benign"]["pct"] > mb:
            failed.append(f"benign destruction {result['benign']['pct']}% > {mb}%")
    result["check_failed"] = failed
    if as_json:
        json.dump(result, stream, indent=1, ensure_ascii=False)
        stream.write("\n")
    else:
        w = stream.write
        for x in warn:
            w(f"WARNING: {x}\n")
        w(f"{'class':<18}{'planted':>8}{'survived':>10}{'%':>8}\n")
        for c, v in result["classes"].items():
            note = "   (nothing caught)" if v["survived"] == v["planted"] else ""
            w(f"{c:<18}{v['planted']:>8}{v['survived']:>10}{v['pct']:>8.1f}{note}\n")
        w(f"{'OVERALL':<18}{tot:>8}{surv:>10}{result['overall']['pct']:>8.1f}\n\n")
        w(f"{'':<18}{'planted':>8}{'destroyed':>10}{'%':>8}\n")
        w(f"{'benign':<18}{ben[0]:>8}{ben[1]:>10}{result['benign']['pct']:>8.1f}\n")
        for benign in (False, True):
            bad_forms = sorted((f for f in result["forms"] if f["bad"] and f["benign"] == benign),
                               key=lambda f: (-f["pct"], -f["bad"], f["class"], f["form"]))
            if bad_forms and worst > 0:
                w(f"\nworst {'benign' if benign else 'sensitive'} forms ({len(bad_forms)} with failures; showing {min(worst, len(bad_forms))}):\n")
            show_forms(w, bad_forms[:worst], examples)
        for x in failed:
            w(f"CHECK FAILED: {x}\n")
    return 1 if failed else 0


def show_forms(w, forms, examples):
        for f in forms:
            tag = "destroyed" if f["benign"] else "survived"
            w(f"  {f['class']}/{f['form']}: {f['bad']}/{f['planted']} {tag} ({f['pct']:.0f}%)\n")
            for ex in f["examples"][:examples]:
                outs = ex["out"] + ["<missing>"] * (len(ex["in"]) - len(ex["out"]))
                shown = 0
                for j, (i, o) in enumerate(zip(ex["in"], outs)):
                    # multi-line items: show the first line and the first two lines that leak
                    if j > 0 and len(ex["in"]) > 3 and (shown >= 3 or not (ex["leaked"] and any(p in o for p in ex["leaked"]))):
                        continue
                    shown += 1
                    w(f"    in : {i!r}\n    out: {o!r}\n")
                if ex["leaked"]:
                    w(f"    leaked: {ex['leaked'][:4]!r}\n")


# --------------------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--per-form", type=int, default=40)
    g.add_argument("out_dir")
    s = sub.add_parser("score")
    s.add_argument("out_dir")
    s.add_argument("scrubbed")
    rn = sub.add_parser("run")
    rn.add_argument("--seed", type=int, default=1)
    rn.add_argument("--per-form", type=int, default=40)
    rn.add_argument("--binary", default="target/release/noticed")
    rn.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it")
    rn.add_argument("--policy", metavar="FILE", help="pass --policy FILE to the scrubber (default: none)")
    for p in (s, rn):
        p.add_argument("--examples", type=int, default=2)
        p.add_argument("--worst", type=int, default=15, help="how many worst forms to list")
        p.add_argument("--json", action="store_true")
        p.add_argument("--check", nargs=3, type=float, metavar=("MAX_OVERALL", "MAX_CLASS", "MAX_BENIGN"))
    a = ap.parse_args(argv)
    if a.cmd == "generate":
        n, k = generate(a.seed, a.per_form, a.out_dir)
        print(f"wrote {k} items on {n} lines to {a.out_dir}", file=sys.stderr)
        return 0
    if a.cmd == "score":
        return score(a.out_dir, a.scrubbed, a.examples, a.json, a.check, a.worst)
    tmp = None
    if a.keep:
        d = a.keep
    else:
        tmp = tempfile.TemporaryDirectory(prefix="adversarial-")
        d = tmp.name
    try:
        n, k = generate(a.seed, a.per_form, d)
        scrubbed = os.path.join(d, "scrubbed.log")
        t0 = time.monotonic()
        with open(scrubbed, "wb") as f:
            cmd = [a.binary, "scrub"] + (["--policy", a.policy] if a.policy else []) + [os.path.join(d, "corpus.log")]
            p = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE)
        if p.returncode != 0:
            print(f"scrubber exited {p.returncode}: {p.stderr.decode(errors='replace')[-2000:]}", file=sys.stderr)
            return 2
        if not a.json:
            print(f"{k} items on {n} lines, scrubbed in {time.monotonic() - t0:.2f}s\n")
        return score(d, scrubbed, a.examples, a.json, a.check, a.worst)
    finally:
        if tmp:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
