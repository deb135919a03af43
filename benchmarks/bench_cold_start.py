"""Handler cold start: importing each handler module (which also creates its clients) against `import boto3` alone.

Each measurement runs in a fresh interpreter, as a Lambda cold start does, with the shared layer on the path and
the environment the runtime provides; the time is taken inside the interpreter around the import, so process
start-up is left out of both. Best of several runs. Target: at most 1.5x.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_ROOT = ROOT / "lambda"
TARGET = 1.5
RUNS = 9
PROBE = (
    "import sys, time\n"
    "sys.path[:0] = [{folder!r}, {shared!r}]\n"
    "started = time.perf_counter()\n"
    "import {module}\n"
    "print(time.perf_counter() - started)\n"
)


def import_seconds(module: str, folder: Path) -> float:
    environment = {
        **os.environ,
        "AWS_REGION": "us-west-2",
        "AWS_DEFAULT_REGION": "us-west-2",
        "AWS_ACCESS_KEY_ID": "benchmark",
        "AWS_SECRET_ACCESS_KEY": "benchmark",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    probe = PROBE.format(folder=str(folder), shared=str(LAMBDA_ROOT / "shared" / "python"), module=module)
    times = []
    for _ in range(RUNS):
        result = subprocess.run(
            [sys.executable, "-c", probe], env=environment, capture_output=True, text=True, check=True
        )
        times.append(float(result.stdout))
    return min(times)


def main() -> int:
    floor = import_seconds("boto3", LAMBDA_ROOT)
    print(f"import boto3 alone (floor): {floor * 1000:.1f} ms")
    worst = 0.0
    for folder in sorted(p for p in LAMBDA_ROOT.iterdir() if (p / "index.py").exists()):
        seconds = import_seconds("index", folder)
        ratio = seconds / floor
        worst = max(worst, ratio)
        print(f"  {folder.name:<24} {seconds * 1000:6.1f} ms  {ratio:.2f}x")
    print(f"worst ratio: {worst:.2f}x (target <= {TARGET}x) {'OK' if worst <= TARGET else 'ABOVE TARGET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
