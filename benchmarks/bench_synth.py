"""Warm `make synth` of the default configuration against the synth of an empty CDK app.

Both go through the same pinned CDK CLI, Node and Python, so the ratio measures what this app adds on top of
the fixed cost of starting the CDK toolchain. Target: at most 2.5x.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 2.5
RUNS = 5
# The smallest app the CLI accepts: with no stack at all it exits 1 ("This app contains no stacks").
EMPTY_APP = 'from aws_cdk import App, Stack\n\napp = App()\nStack(app, "Empty")\napp.synth()\n'


def best_of(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    cdk = [str(ROOT / "node_modules" / ".bin" / "cdk"), "--no-notices", "synth", "--quiet"]
    with tempfile.TemporaryDirectory() as empty:
        empty_dir = Path(empty)
        (empty_dir / "app.py").write_text(EMPTY_APP)
        (empty_dir / "cdk.json").write_text(f'{{"app": "{sys.executable} app.py", "versionReporting": false}}\n')
        subprocess.run(["make", "synth"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)  # warm up
        floor = best_of(cdk, empty_dir, env)
        ours = best_of(["make", "synth"], ROOT, env)
    ratio = ours / floor
    print(f"empty CDK app (one empty stack) synth, the floor: {floor:.2f} s")
    print(f"warm `make synth` of the default configuration:   {ours:.2f} s")
    print(f"ratio: {ratio:.2f}x (target <= {TARGET}x) {'OK' if ratio <= TARGET else 'ABOVE TARGET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
