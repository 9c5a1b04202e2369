#!/usr/bin/env python3
"""Waits until the files matching GLOB hold WANT lines, or until they stop growing for STALL
seconds; prints the count. Every tool in compare.sh is timed by this one poller, so that each
pays the same for being watched: every 50 ms it reads only the bytes appended since its last
look (no re-reading of the whole output), and counts their newlines.

Usage: count_lines.py WANT GLOB [STALL]"""
import glob
import os
import sys
import time

want, pattern = int(sys.argv[1]), sys.argv[2]
stall = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
seen = {}  # path -> (offset read up to, open file)
count = 0
last_growth = time.monotonic()
while count < want:
    grew = False
    for path in glob.glob(pattern):
        if path not in seen:
            try:
                seen[path] = [0, open(path, "rb")]
            except FileNotFoundError:
                continue
        entry = seen[path]
        chunk = entry[1].read()
        if chunk:
            count += chunk.count(b"\n")
            entry[0] += len(chunk)
            grew = True
    now = time.monotonic()
    if grew:
        last_growth = now
    elif now - last_growth > stall:
        break
    if count < want:
        time.sleep(0.05)
print(count)
