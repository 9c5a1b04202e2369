#!/usr/bin/env python3
"""Counts the personal data left in a scrubber's output, whole or in identifying pieces.

Usage: leaks.py OUTPUT INPUT  ->  one line such as `ipv4=0 ipv6=0 email=0 mac=0 card=0 token=0`

Whole values are found in OUTPUT by pattern: IPv4 (other than the zeroed 0.0.0.0 that mmanon
and syslog-ng write) and IPv6 addresses, e-mail addresses, MAC addresses, card numbers (13-19
digits standing alone, starting like a card network's, Luhn-valid) and 32-hex bearer tokens.
A value counts once, as a whole or, when that is gone, by the first identifying piece of it
still there (the rule of tests/support/leak.rs): an e-mail's local part, three octets of an
IPv4 address (`192.0.2.`), the host half of a MAC address, any eight digits of a card number
or twelve hex digits of a token (eight, as the Rust checks use within one line, would match
the sshd key fingerprints of other lines by chance). Pieces are learnt from the values in INPUT, so the order of
the output's lines does not matter; scrubber tokens (`[email:h:1f3a9c0d]`) are set aside
first so that a piece never matches a token's name or digest."""
import re
import sys

PATTERNS = {
    "ipv4": re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"),
    "ipv6": re.compile(r"(?<![\w:])(?:[0-9a-f]{1,4}:){2,7}:?[0-9a-f]{0,4}(?![\w:])", re.I),
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "mac": re.compile(r"(?<![\w:])(?:[0-9a-f]{2}:){5}[0-9a-f]{2}(?![\w:])", re.I),
    "card": re.compile(r"(?<![\w.])\d{13,19}(?![\w])"),
    "token": re.compile(r"Bearer ([0-9a-f]{32})"),
}
TOKEN = re.compile(r"\[[a-z_]+(?::h:[0-9a-f]+)?\]")
IPV4_PREFIX = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}(?!\d)")
WORD = re.compile(r"[\w.+-]+")
HEX_RUN = re.compile(r"[0-9a-f]{12,}", re.I)
MAC_HALF = re.compile(r"(?=([0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}))")
DIGIT_RUN = re.compile(r"\d(?:[ .-]?\d){7,}")


def luhn(number):
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def found(name, line):
    values = PATTERNS[name].findall(line)
    if name == "ipv4":
        values = [m for m in values if m != "0.0.0.0"]
    if name == "ipv6":
        values = [m for m in values if not re.fullmatch(r"[\d:]+", m) and not PATTERNS["mac"].fullmatch(m)]
    if name == "card":
        values = [m for m in values if m[0] in "23456" and luhn(m)]
    return values


def windows(value, n):
    return {value[i:i + n] for i in range(len(value) - n + 1)}


def learn(path):
    """The identifying pieces of the values in the input, by kind."""
    locals_, macs, cards, tokens = set(), set(), set(), set()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            for e in found("email", line):
                local = e.rsplit("@", 1)[0]
                if len(local) >= 3:
                    locals_.add(local)
            for m in found("mac", line):
                macs.add(m[len(m) // 2:].lstrip(":").lower())
            for c in found("card", line):
                cards |= windows(c, 8)
            for t in found("token", line):
                tokens |= windows(t.lower(), 12)
    return locals_, macs, cards, tokens


def main():
    locals_, macs, cards, tokens = learn(sys.argv[2])
    counts = dict.fromkeys(PATTERNS, 0)
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        for line in f:
            for name in PATTERNS:
                hits = found(name, line)
                counts[name] += len(hits)
                for h in hits:
                    line = line.replace(h, " ", 1)
            line = TOKEN.sub(" ", line)
            counts["email"] += sum(1 for w in WORD.findall(line) if w.split("@")[0] in locals_)
            counts["ipv4"] += len(IPV4_PREFIX.findall(line))
            low = line.lower()
            counts["mac"] += sum(
                1 for half in MAC_HALF.findall(low) if half in macs and not half.replace(":", "").isdigit()
            )
            counts["card"] += sum(
                1 for run in DIGIT_RUN.findall(line)
                if any(w in cards for w in windows(re.sub(r"\D", "", run), 8))
            )
            counts["token"] += sum(
                1 for run in HEX_RUN.findall(low) if any(w in tokens for w in windows(run, 12))
            )
    print(" ".join(f"{k}={v}" for k, v in counts.items()))


main()
