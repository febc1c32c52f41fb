"""Wall-clock timings of the commands a learner and a maintainer wait for.

    python benchmarks/timings.py [--repeat 3]

Each command runs `--repeat` times after one warm-up run; the median is printed. Run it on an
idle machine: the figures quoted in notes come from here, never from a timed test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

COMMANDS = {
    "one kata's feedback (attention, references)": [
        PY,
        "-m",
        "pytest",
        "katas/attention",
        "--impl=references",
        "-q",
        "--report=none",
    ],
    "one kata's feedback (attention, stub)": [
        PY,
        "-m",
        "pytest",
        "katas/attention",
        "-q",
        "--report=none",
    ],
    "every reference against every test": [
        PY,
        "-m",
        "pytest",
        "katas",
        "--impl=references",
        "-q",
        "--report=none",
    ],
    "the harness's own tests (-n auto)": [PY, "-m", "pytest", "tests", "-q", "-n", "auto"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("-k", default="", help="only the commands whose label contains this")
    args = parser.parse_args()
    for label, command in COMMANDS.items():
        if args.k not in label:
            continue
        times = []
        for i in range(args.repeat + 1):
            start = time.perf_counter()
            subprocess.run(command, cwd=ROOT, capture_output=True)
            if i:  # the first run warms the file cache
                times.append(time.perf_counter() - start)
        print(
            f"{label:48s} median {statistics.median(times):6.2f} s  "
            f"(min {min(times):.2f}, max {max(times):.2f}, n={len(times)})"
        )


if __name__ == "__main__":
    main()
