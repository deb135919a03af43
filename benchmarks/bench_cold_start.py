"""Handler cold start: importing each handler module (which also creates its clients) against `import boto3` alone.

Each measurement runs in a fresh interpreter, as a Lambda cold start does, with the two layers the functions carry
on the path (the pinned boto3 exactly as built for the stacks, and the shared code) and the environment the runtime
provides. The time is taken inside the interpreter around the import, so process start-up is left out of both.
Best of several runs, with bytecode cached (in a temporary folder): the figure is what the handler adds to boto3.
Target: at most 1.5x. A second line shows the first import without bytecode, as the layer is deployed (it is built
on this machine's Python, so it cannot carry bytecode for the Lambda runtime's).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from distill.constructs.handler_function import LAMBDA_ROOT, boto3_layer_directory  # noqa: E402

TARGET = 1.5
RUNS = 9
PROBE = (
    "import sys, time\n"
    "sys.path[:0] = [{folder!r}, {shared!r}, {layer!r}]\n"
    "started = time.perf_counter()\n"
    "import {module}\n"
    "print(time.perf_counter() - started)\n"
)


def import_once(module: str, folder: Path, environment: dict[str, str]) -> float:
    probe = PROBE.format(
        folder=str(folder),
        shared=str(LAMBDA_ROOT / "shared" / "python"),
        layer=str(boto3_layer_directory()[0] / "python"),
        module=module,
    )
    result = subprocess.run([sys.executable, "-c", probe], env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"importing {module} from {folder} failed:\n{result.stderr}")
    return float(result.stdout)


def against_floor(folder: Path, environment: dict[str, str], runs: int) -> tuple[float, float]:
    """(best handler import, best `import boto3`), the two measured in turn, so that a change in the machine's load
    during the run moves both alike."""
    handler, floor = [], []
    for _ in range(runs):
        floor.append(import_once("boto3", LAMBDA_ROOT, environment))
        handler.append(import_once("index", folder, environment))
    return min(handler), min(floor)


def main() -> int:
    runtime = {
        **{name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"},
        "AWS_REGION": "us-west-2",
        "AWS_DEFAULT_REGION": "us-west-2",
        "AWS_ACCESS_KEY_ID": "benchmark",
        "AWS_SECRET_ACCESS_KEY": "benchmark",
    }
    handlers = sorted(p for p in LAMBDA_ROOT.iterdir() if (p / "index.py").exists())
    with tempfile.TemporaryDirectory() as bytecode:
        cached = {**runtime, "PYTHONPYCACHEPREFIX": bytecode}
        print("each handler's import against `import boto3` alone (the floor), measured in turn:")
        worst = 0.0
        for folder in handlers:
            seconds, floor = against_floor(folder, cached, RUNS)
            worst = max(worst, seconds / floor)
            print(f"  {folder.name:<24} {seconds * 1000:6.1f} ms, floor {floor * 1000:6.1f} ms  {seconds / floor:.2f}x")
    print(f"worst ratio: {worst:.2f}x (target <= {TARGET}x) {'OK' if worst <= TARGET else 'ABOVE TARGET'}")
    uncached = {**runtime, "PYTHONDONTWRITEBYTECODE": "1"}
    cold = [against_floor(folder, uncached, 3) for folder in handlers]
    cold_seconds, cold_floor = max(cold, key=lambda pair: pair[0] / pair[1])
    print(
        f"without bytecode, as deployed: slowest handler {cold_seconds * 1000:.0f} ms against boto3's "
        f"{cold_floor * 1000:.0f} ms ({cold_seconds / cold_floor:.2f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
