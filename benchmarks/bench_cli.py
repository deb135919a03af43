"""The `distill` command as whole processes: start-up against `python -c pass`, and validating 15,000 records against
a bare json.loads loop, with each process's peak memory.

Every run is a fresh process of the installed `distill` script, as a user starts it, with bytecode cached in a
temporary folder (an untimed first run writes it, as the first run of an installation does); each figure is the
median of several runs. Targets: `distill --help` at most 4x `python -c pass`, and `distill validate` of the
15,000-record file at most 1.3x the loop that only reads and parses each line. Peak memory is each process's own
high-water mark of resident memory (VmHWM, read by the process itself as it ends: the rusage of a child also counts
the memory of the parent it was forked from), for that file and for one a quarter of its size: streaming keeps the
two about the same. This script reports; it does not assert, so a slow machine does not fail a build.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_validate import build_dataset

from distill.data_checks.dataset import MAX_RECORDS

PYTHON = sys.executable
DISTILL = str(Path(sys.executable).parent / "distill")
START_TARGET = 4.0
VALIDATE_TARGET = 1.3
START_RUNS = 15
VALIDATE_RUNS = 9
# The floor for validating: read the file line by line and parse each line, nothing else.
JSON_LOOP = (
    "import json, sys\nwith open(sys.argv[1], 'rb') as lines:\n    for line in lines:\n        json.loads(line)\n"
)
# The same, decoding each line first as the validator does: json.loads of bytes detects the encoding and decodes with
# the surrogatepass handler, which is slower, so this second floor shows what the check itself costs.
DECODE_LOOP = JSON_LOOP.replace("json.loads(line)", "json.loads(line.decode('utf-8'))")


# Appended to a Python program, so that it prints its own peak resident memory (KiB) as its last line of stderr.
PRINT_PEAK = (
    "import re, sys\n"
    "with open('/proc/self/status') as status:\n"
    "    print(re.search(r'VmHWM:\\s+(\\d+)', status.read())[1], file=sys.stderr)\n"
)
# `distill` as its console script runs it, followed by the peak.
DISTILL_PEAK = "import sys\nfrom distill.cli import main\ncode = main(sys.argv[1:])\n" + PRINT_PEAK + "sys.exit(code)\n"


def run(command: list[str], environment: dict[str, str], exit_code: int = 0) -> tuple[float, str]:
    """Seconds from start to exit of one process, which must exit as expected, and what it wrote to stderr."""
    started = time.perf_counter()
    result = subprocess.run(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != exit_code:
        raise SystemExit(f"bench_cli: {' '.join(command)} exited {result.returncode}:\n{result.stderr}")
    return seconds, result.stderr


def medians(commands: dict[str, tuple[list[str], int]], environment: dict[str, str], runs: int) -> dict[str, float]:
    """The median seconds of each command (with its expected exit code). The commands take turns, run after run, so
    that a change in the machine's load during the benchmark weighs on each of them alike."""
    for command, exit_code in commands.values():
        run(command, environment, exit_code)  # writes the bytecode, warms the file cache
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (command, exit_code) in commands.items():
            times[name].append(run(command, environment, exit_code)[0])
    return {name: statistics.median(seconds) for name, seconds in times.items()}


def peak_kib(program: str, arguments: list[str], environment: dict[str, str]) -> int | None:
    """The peak resident memory of a Python program run on ``arguments``; None where there is no /proc."""
    if not Path("/proc/self/status").exists():
        return None
    return int(run([PYTHON, "-c", program, *arguments], environment)[1].splitlines()[-1])


def verdict(ratio: float, target: float) -> str:
    return f"{ratio:.2f}x (target <= {target}x) {'OK' if ratio <= target else 'ABOVE TARGET'}"


def main() -> int:
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        environment = {
            **{name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"},
            "PYTHONPYCACHEPREFIX": str(folder / "bytecode"),
        }
        full = build_dataset(folder / "full.jsonl", MAX_RECORDS)
        quarter = build_dataset(folder / "quarter.jsonl", MAX_RECORDS // 4)
        two = build_dataset(folder / "two.jsonl", 2)
        loop = folder / "json_loop.py"
        loop.write_text(JSON_LOOP)

        start = medians(
            {
                "python": ([PYTHON, "-c", "pass"], 0),
                "help": ([DISTILL, "--help"], 0),
                # Two records are too few for a dataset: exit 1, after the whole start-up and check.
                "small": ([DISTILL, "validate", str(two)], 1),
            },
            environment,
            START_RUNS,
        )
        python = start["python"]
        print(f"python -c pass (floor):       {python * 1000:6.1f} ms (median of {START_RUNS})")
        print(
            f"distill --help:               {start['help'] * 1000:6.1f} ms  "
            f"{verdict(start['help'] / python, START_TARGET)}"
        )
        print(
            f"distill validate, 2 records:  {start['small'] * 1000:6.1f} ms  "
            f"{verdict(start['small'] / python, START_TARGET)}"
        )

        size = full.stat().st_size
        print(f"dataset: {MAX_RECORDS:,} records, {size / 1e6:.1f} MB")
        decode = folder / "decode_loop.py"
        decode.write_text(DECODE_LOOP)
        whole = medians(
            {
                "parse": ([PYTHON, str(loop), str(full)], 0),
                "validate": ([DISTILL, "validate", str(full)], 0),
                "decoded": ([PYTHON, str(decode), str(full)], 0),
            },
            environment,
            VALIDATE_RUNS,
        )
        parse, validate = whole["parse"], whole["validate"]
        print(f"json.loads loop (floor):      {parse:6.3f} s (median of {VALIDATE_RUNS})")
        print(
            f"distill validate:             {validate:6.3f} s  {verdict(validate / parse, VALIDATE_TARGET)}, "
            f"{size / 1e6 / validate:.0f} MB/s"
        )
        print(
            "  against decoding, then json.loads, per line (as the validator parses): "
            f"{validate / whole['decoded']:.2f}x"
        )
        loop_peak = peak_kib(JSON_LOOP + PRINT_PEAK, [str(full)], environment)
        if loop_peak is None:
            print("peak memory: not measured (no /proc on this system)")
            return 0
        full_peak = peak_kib(DISTILL_PEAK, ["validate", str(full)], environment)
        quarter_peak = peak_kib(DISTILL_PEAK, ["validate", str(quarter)], environment)
        print(
            f"peak memory: json.loads loop {loop_peak:,} KiB; distill validate {full_peak:,} KiB for "
            f"{MAX_RECORDS:,} records, {quarter_peak:,} KiB for {MAX_RECORDS // 4:,}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
