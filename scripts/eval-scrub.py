#!/usr/bin/env python3
"""Measure `noticed scrub` (and optionally Presidio and scrubadub) on third-party data.

Usage: scripts/eval-scrub.py SHARED_DIR NOTICED_BIN [--peers VENV_PYTHON]

SHARED_DIR is the workplace's shared/ folder (realdata/, peers/). Nothing here is part of the
test suite: the data is not in the repository (loghub's licence is research-only). Prints
Markdown tables for docs/SCRUBBING.md. Peers run through the scripts in benches/peers/ (the
venv that `benches/compare.sh --peers` makes has them installed: WORK/venv/bin/python).
"""
import ipaddress
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

shared, noticed = sys.argv[1], sys.argv[2]
peer_python = sys.argv[sys.argv.index("--peers") + 1] if "--peers" in sys.argv else None
work = tempfile.mkdtemp(prefix="eval-scrub-")
for pack in ["secrets-fixtures.tar.gz", "pii-presidio-research.tar.gz"]:
    with tarfile.open(os.path.join(shared, "realdata", pack)) as t:
        t.extractall(work, filter="data")
policy = os.path.join(work, "policy.toml")
with open(policy, "w") as f:
    f.write('[notice]\ntitle = "eval"\nversion = "1"\ncontact = "-"\n'
            f'[agent]\ndata_dir = "{work}/state"\n[scrub]\naction = "mask"\n')


def scrubbed(lines, tool="noticed"):
    """Scrub one-line texts with a tool; returns the output lines."""
    src = os.path.join(work, "in.txt")
    dst = os.path.join(work, f"out-{tool}.txt")
    with open(src, "w") as f:
        for line in lines:
            f.write(line.replace("\r", " ").replace("\n", " ") + "\n")
    if tool == "noticed":
        with open(dst, "w") as out:
            subprocess.run([noticed, "scrub", "--policy", policy, src], stdout=out, check=True)
    else:
        script = os.path.join(os.path.dirname(__file__), "..", "benches", "peers", f"{tool}_scrub.py")
        subprocess.run([peer_python, script, src, dst], check=True, stderr=subprocess.DEVNULL)
    with open(dst) as f:
        return [l.rstrip("\n") for l in f]


tools = ["noticed"] + (["presidio", "scrubadub"] if peer_python else [])

TOKEN = re.compile(r"\[[a-z_]+(?::h:[0-9a-f]+)?\]")


def runs(value, n):
    return [value] if len(value) <= n else [value[i:i + n] for i in range(len(value) - n + 1)]


def pieces(kind, value):
    """The pieces of a value whose survival gives it away (tests/support/leak.rs's rule)."""
    out = [value]
    if kind == "email":
        local = value.rsplit("@", 1)[0].strip('"')
        out += [local] if len(local) >= 3 else []
        out += [p for p in re.split(r"[._+-]", local) if len(p) >= 4 and not p.isdigit()]
    elif kind == "ipv4" and "." in value:
        out.append(value.rsplit(".", 1)[0] + ".")
    elif kind == "ipv6" and len(value) > 12:
        out += runs(value, 12)
    elif kind == "card":
        digits = re.sub(r"\D", "", value)
        out += runs(digits, 8)
    elif kind == "secret":
        out += runs(value, 8)
    return [p for p in out if p]


def left(kind, value, text, out):
    """Whether a piece of `value` (planted in `text`) survives in `out`; pieces the text also
    holds outside every copy of the value prove nothing, and scrubber tokens are set aside
    first."""
    elsewhere = text.replace(value, "\0")
    out = TOKEN.sub(" ", out)
    if kind == "card":
        out = re.sub(r"(?<=\d)[ .-](?=\d)", "", out)
        elsewhere = re.sub(r"(?<=\d)[ .-](?=\d)", "", elsewhere)
    fold = kind in ("email", "ipv6")
    if fold:
        out, elsewhere = out.lower(), elsewhere.lower()
    for p in pieces(kind, value):
        p = p.lower() if fold else p
        if p in out and p not in elsewhere:
            return True
    return False


# --- presidio-research: labelled PII spans -----------------------------------------------
data = json.load(open(os.path.join(work, "pii/presidio-research/synth_dataset_v2.json")))
texts = [d["full_text"] for d in data]
kinds = ["EMAIL_ADDRESS", "IP_ADDRESS", "CREDIT_CARD"]
print("## presidio-research synth_dataset_v2 (1,500 sentences): spans removed, no identifying piece left\n")
print("| entity | spans | " + " | ".join(tools) + " |")
print("| --- | ---: | " + " | ".join("---:" for _ in tools) + " |")
outs = {t: scrubbed(texts, t) for t in tools}
for kind in kinds:
    spans = [(i, s["entity_value"]) for i, d in enumerate(data) for s in d["spans"] if s["entity_type"] == kind]
    row = []
    for t in tools:
        kind_of = {"EMAIL_ADDRESS": "email", "CREDIT_CARD": "card"}
        gone = sum(
            1 for i, v in spans
            if not left(kind_of.get(kind, "ipv6" if ":" in v else "ipv4"), v.replace("\n", " "),
                        texts[i].replace("\n", " "), outs[t][i])
        )
        row.append(f"{gone}/{len(spans)} ({100 * gone / len(spans):.0f} %)")
    print(f"| {kind} | {len(spans)} | " + " | ".join(row) + " |")
# Benign retention: sentences with none of these kinds, unchanged?
clean = [i for i, d in enumerate(data) if not any(s["entity_type"] in kinds + ["PHONE_NUMBER", "IBAN_CODE", "US_SSN"] for s in d["spans"])]
row = [f"{sum(1 for i in clean if outs[t][i] == texts[i].replace(chr(10), ' '))}/{len(clean)}" for t in tools]
print(f"| sentences without those (or phone, IBAN, SSN) left unchanged | {len(clean)} | " + " | ".join(row) + " |\n")

# --- gitleaks rule examples ----------------------------------------------------------------
rows = [json.loads(l) for l in open(os.path.join(work, "secrets/gitleaks/rule_examples.jsonl"))]
print("## gitleaks rule examples (75 true, 209 false positives)\n")
print("| set | lines | " + " | ".join(f"{t}: changed" for t in tools) + " |")
print("| --- | ---: | " + " | ".join("---:" for _ in tools) + " |")
missed = []
for label in ["tp", "fp"]:
    subset = [r for r in rows if r["label"] == label]
    texts = [r["text"] for r in subset]
    row = []
    for t in tools:
        out = scrubbed(texts, t)
        changed = [i for i in range(len(texts)) if out[i] != texts[i].replace("\n", " ").replace("\r", " ")]
        row.append(f"{len(changed)}")
        if t == "noticed" and label == "tp":
            missed = [subset[i]["rule_id"] for i in range(len(texts)) if i not in set(changed)]
    print(f"| {label} | {len(subset)} | " + " | ".join(row) + " |")
print(f"\nnoticed missed true positives: {missed or 'none'}\n")

# --- CredSweeper labelled findings ---------------------------------------------------------
found = json.load(open(os.path.join(work, "secrets/credsweeper/tests/data/output.json")))
items = []
for f in found:
    for ld in f["line_data_list"]:
        v = ld.get("value") or ""
        if len(v) >= 4 and v in ld["line"] and len(ld["line"]) < 4000:
            items.append((f["rule"], ld["line"], v))
out = scrubbed([l for _, l, _ in items])
gone = [i for i, (_, l, v) in enumerate(items) if not left("secret", v, l.replace("\n", " "), out[i])]
print("## CredSweeper labelled findings (tests/data/output.json)\n")
print(f"values removed by noticed, no run of 8 characters left: {len(gone)}/{len(items)} ({100 * len(gone) / len(items):.0f} %)\n")
by_rule = {}
for i, (rule, _, _) in enumerate(items):
    tot, ok = by_rule.get(rule, (0, 0))
    by_rule[rule] = (tot + 1, ok + (i in set(gone)))
worst = sorted(((ok / tot, rule, ok, tot) for rule, (tot, ok) in by_rule.items()))[:12]
print("rules with the most values left: " + ", ".join(f"{r} {ok}/{tot}" for _, r, ok, tot in worst) + "\n")

# --- loghub: addresses and sshd user names left ------------------------------------------
IP4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IP4DASH = re.compile(r"(?<![\d-])(?:\d{1,3}-){3}\d{1,3}(?![\d-])")
CAND6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(?![\w:])")
USER = re.compile(r"(?:password for |[Ii]nvalid user |for user |user=|publickey for )(?!\[|invalid user )([^\s\[\]]+)")


def names_a_host(address, sep="."):
    # 0.0.0.0 (every interface), broadcast and loopback name no host; the scrubber keeps them.
    # So do large networks' numbers (10.128.0.0).
    return not (address in ("0.0.0.0", "255.255.255.255") or address.startswith("127" + sep)
                or address.endswith(sep + "0" + sep + "0"))


VERSION = re.compile(r"(?:(?:version|ver|v)[ =:]*|~)$", re.I)


def v4(line):
    # A four-part number after a version word, or ending a Windows package identity
    # (`~amd64~~6.1.1.0`), is a version.
    return sum(1 for m in IP4.finditer(line)
               if all(int(p) <= 255 for p in m.group().split(".")) and names_a_host(m.group())
               and not VERSION.search(line[:m.start()])) + \
        sum(1 for m in IP4DASH.findall(line) if all(int(p) <= 255 for p in m.split("-")))


def v6(line):
    n = 0
    for c in CAND6.findall(line):
        c = c.strip(":.") if c.count(":") < 2 else c
        try:
            if c.count(":") >= 2 and any(ch not in ":." for ch in c):
                ipaddress.IPv6Address(c)
                n += 1
        except ValueError:
            pass
    return n


print("## loghub (2,000 real lines each): left after scrubbing\n")
print("| file | IPv4 before | IPv4 after | IPv6 before | IPv6 after | sshd users before | users after | lines changed |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
loghub = os.path.join(shared, "realdata", "loghub")
peer_rows = []
for name in sorted(os.listdir(loghub)):
    if not name.endswith("_2k.log"):
        continue
    lines = open(os.path.join(loghub, name), errors="replace").read().splitlines()
    out = scrubbed(lines)
    users = lambda ls: sum(len(USER.findall(l)) for l in ls) if name.split("_")[0] in ("OpenSSH", "Linux") else 0
    changed = sum(1 for a, b in zip(lines, out) if a != b)
    print(f"| {name} | {sum(map(v4, lines))} | {sum(map(v4, out))} | {sum(map(v6, lines))} | {sum(map(v6, out))} "
          f"| {users(lines)} | {users(out)} | {changed} |")
    if peer_python and name.split("_")[0] in ("OpenSSH", "Linux"):
        for t in ["presidio", "scrubadub"]:
            o = scrubbed(lines, t)
            peer_rows.append(f"| {name} | {t} | {sum(map(v4, o))} | {sum(map(v6, o))} | {users(o)} |")
if peer_rows:
    print("\nPeers on the same files (left after scrubbing):\n")
    print("| file | tool | IPv4 | IPv6 | sshd users |\n| --- | --- | ---: | ---: | ---: |")
    print("\n".join(peer_rows))
