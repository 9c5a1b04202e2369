#!/usr/bin/env python3
"""Writes log files for benches/growth.sh: LINES lines of about LENGTH bytes, of which the
fraction PII carries personal data (an e-mail, an IPv4 address, a user name, a bearer token
and a card number), spread round-robin over FILES files named OUT_DIR/fNNN.log.

    growth_input.py OUT_DIR LINES LENGTH PII FILES

Seeded and built by repetition, so a 64 KiB line costs no more to make than a short one.
"""

import os
import random
import sys


def main() -> None:
    out_dir, lines, length, pii, files = sys.argv[1:6]
    lines, length, pii, files = int(lines), int(length), float(pii), int(files)
    rng = random.Random(8)
    filler = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    os.makedirs(out_dir, exist_ok=True)
    outs = [open(os.path.join(out_dir, f"f{i:03}.log"), "w") for i in range(files)]
    pii_every = round(1 / pii) if pii > 0 else 0
    for n in range(lines):
        head = f"2026-11-30T10:00:{n % 60:02}Z app[{rng.randrange(1000, 9999)}]: req={n} status=200"
        if pii_every and n % pii_every == 0:
            head += (
                f" user=u{n % 977}@example.com from 10.{n % 250}.{(n // 250) % 250}.{n % 7 + 1}"
                f" login user alice{n % 89} token=Bearer tok{n:08}abcdefghijklmnop"
                " card 4111 1111 1111 1111"
            )
        pad = length - len(head) - 1
        if pad > 0:
            text = filler * (pad // len(filler) + 1)
            head = head + " " + text[: pad - 1]
        outs[n % files].write(head + "\n")
    for f in outs:
        f.close()


if __name__ == "__main__":
    main()
