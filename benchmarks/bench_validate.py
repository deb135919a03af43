"""Benchmark of `distill validate`: time against a bare json.loads loop, and memory that does not grow with the file.

The target: validating a 15,000-record file of records like the reference uber10k-conversation.jsonl (about 100 MB)
takes at most twice as long as a loop that only parses each line, measured in the same run. Peak memory is measured
for that file and for one a quarter of its size: streaming means the two are about the same. This script reports;
it does not assert, so a slow machine does not fail a build.
"""

from __future__ import annotations

import itertools
import json
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from distill.data_checks.dataset import MAX_RECORDS, validate_file

REFERENCE = Path(__file__).resolve().parents[1] / "datasets" / "sample-sec-filings.jsonl"
TARGET_RATIO = 2.0
RUNS = 3


def build_dataset(path: Path, records: int) -> Path:
    """Write ``records`` lines by repeating the reference file's lines."""
    lines = REFERENCE.read_bytes().splitlines(keepends=True)
    with open(path, "wb") as output:
        output.writelines(itertools.islice(itertools.cycle(lines), records))
    return path


def parse_only(path: Path) -> None:
    """The baseline: read the file line by line and parse each line, nothing else."""
    with open(path, "rb") as lines:
        for line in lines:
            json.loads(line)


def validate(path: Path) -> None:
    report = validate_file(path, multi_turn_allowed=True)
    if not report.ok:
        sys.exit(f"bench_validate: the generated file is not valid: {report.problems[0]}")


def best_time(function: Callable[[Path], None], path: Path) -> float:
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        function(path)
        timings.append(time.perf_counter() - start)
    return min(timings)


def peak_memory(path: Path) -> int:
    """Peak bytes allocated by Python while validating the file."""
    tracemalloc.start()
    try:
        validate(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> int:
    with tempfile.TemporaryDirectory() as directory:
        full = build_dataset(Path(directory) / "full.jsonl", MAX_RECORDS)
        quarter = build_dataset(Path(directory) / "quarter.jsonl", MAX_RECORDS // 4)
        size = full.stat().st_size
        print(f"dataset: {MAX_RECORDS:,} records, {size / 1e6:.1f} MB, from {REFERENCE.name}")
        baseline = best_time(parse_only, full)
        validator = best_time(validate, full)
        ratio = validator / baseline
        verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
        print(f"json.loads only:  {baseline:.3f} s (best of {RUNS})")
        print(f"validate_file:    {validator:.3f} s (best of {RUNS}), {size / 1e6 / validator:.0f} MB/s")
        print(f"ratio:            {ratio:.2f}x; target at most {TARGET_RATIO:.1f}x: {verdict} the target")
        for path, records in ((full, MAX_RECORDS), (quarter, MAX_RECORDS // 4)):
            megabytes = path.stat().st_size / 1e6
            print(f"peak memory, {records:,} records ({megabytes:.1f} MB): {peak_memory(path) / 1024:,.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
