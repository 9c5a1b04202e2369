#!/usr/bin/env python3
"""Counts the personal data left in a scrubber's output: IPv4 (other than the zeroed 0.0.0.0
that mmanon and syslog-ng write) and IPv6 addresses, e-mail addresses, MAC addresses, card
numbers (13-19 digits standing alone, starting like a card network's, Luhn-valid) and 32-hex
bearer tokens.

Usage: leaks.py FILE  ->  one line such as `ipv4=0 ipv6=0 email=0 mac=0 card=0 token=0`."""
import re
import sys

PATTERNS = {
    "ipv4": re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"),
    "ipv6": re.compile(r"(?<![\w:])(?:[0-9a-f]{1,4}:){2,7}:?[0-9a-f]{0,4}(?![\w:])", re.I),
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "mac": re.compile(r"(?<![\w:])(?:[0-9a-f]{2}:){5}[0-9a-f]{2}(?![\w:])", re.I),
    "card": re.compile(r"(?<![\w.])\d{13,19}(?![\w])"),
    "token": re.compile(r"Bearer [0-9a-f]{32}"),
}


def luhn(number):
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def main():
    counts = dict.fromkeys(PATTERNS, 0)
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        for line in f:
            for name, pattern in PATTERNS.items():
                found = pattern.findall(line)
                if name == "ipv4":
                    found = [m for m in found if m != "0.0.0.0"]
                if name == "ipv6":
                    found = [m for m in found if not re.fullmatch(r"[\d:]+", m) and not PATTERNS["mac"].fullmatch(m)]
                if name == "card":
                    found = [m for m in found if m[0] in "23456" and luhn(m)]
                counts[name] += len(found)
    print(" ".join(f"{k}={v}" for k, v in counts.items()))


main()
