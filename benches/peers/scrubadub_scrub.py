"""scrubadub's default Scrubber over a log file, line by line. Usage: IN OUT"""
import logging
import sys

logging.disable(logging.WARNING)
import scrubadub  # noqa: E402  (after silencing its import-time warnings)

scrubber = scrubadub.Scrubber()
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as out:
    for line in src:
        out.write(scrubber.clean(line.rstrip("\n")) + "\n")
