"""`distill preview-logs`: count the invocation log records a request-metadata filter selects, before a job does.

A distillation job that trains from invocation logs fails when its filter selects fewer than 100 usable records,
and with usePromptResponse the pairs must come from exactly the chosen teacher model. Running the filter over a
local copy of the logs (``aws s3 sync s3://bucket/prefix/AWSLogs/ logs/``) shows the counts in seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from distill.invocation_logs import LogReadError, LogRecord, SkippedLine, log_files, model_key, read_log_file
from distill.log_filters import FilterError, RequestMetadataFilter, parse_filter

MINIMUM_RECORDS = 100
# Enough skipped lines to see the pattern without flooding the terminal.
SHOWN_SKIPPED_LINES = 5


class UsageError(Exception):
    """A --filter value that cannot be read or is not JSON."""


@dataclass
class Preview:
    """Counts over the log records; ``teacher`` is None when no teacher was given."""

    teacher: str | None
    files: int = 0
    records: int = 0
    selected: int = 0
    from_teacher: int = 0
    teacher_pairs: int = 0
    skipped: int = 0
    first_skipped: list[SkippedLine] = field(default_factory=list)

    @property
    def counted(self) -> int:
        """What the minimum applies to: prompt-response pairs from the teacher, or every selected record."""
        return self.teacher_pairs if self.teacher else self.selected

    @property
    def minimum_met(self) -> bool:
        return self.counted >= MINIMUM_RECORDS

    def add(self, line: LogRecord | SkippedLine, log_filter: RequestMetadataFilter) -> None:
        if isinstance(line, SkippedLine):
            self.skipped += 1
            if len(self.first_skipped) < SHOWN_SKIPPED_LINES:
                self.first_skipped.append(line)
            return
        self.records += 1
        if not log_filter.matches(line.request_metadata):
            return
        self.selected += 1
        if self.teacher and line.model_id and model_key(line.model_id) == model_key(self.teacher):
            self.from_teacher += 1
            self.teacher_pairs += line.has_response


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("preview-logs", help=__doc__.split(": ", 1)[1].split("\n", 1)[0])
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="log files (.json, .jsonl, gzipped or not) or directories"
    )
    parser.add_argument(
        "--filter",
        required=True,
        metavar="FILE|JSON",
        help="the requestMetadataFilters value, inline JSON or a JSON file",
    )
    parser.add_argument(
        "--teacher",
        metavar="ID",
        help="teacher model id, inference profile id or ARN; the minimum then counts prompt-response pairs from "
        "exactly this model (usePromptResponse). Without it, the minimum counts every selected record",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        log_filter = load_filter(args.filter)
        preview = Preview(args.teacher)
        for path in log_files(args.paths):
            preview.files += 1
            for line in read_log_file(path):
                preview.add(line, log_filter)
    except (UsageError, FilterError, LogReadError) as error:
        print(f"distill preview-logs: {error}", file=sys.stderr)
        return 2
    print(json.dumps(as_json(preview), indent=2) if args.format == "json" else "\n".join(as_text(preview)))
    return 0 if preview.minimum_met else 1


def load_filter(argument: str) -> RequestMetadataFilter:
    """A filter given inline (it starts with "{") or as the path of a JSON file."""
    if argument.lstrip().startswith("{"):
        text, where = argument, "filter"
    else:
        try:
            text, where = Path(argument).read_text(), argument
        except OSError as error:
            raise UsageError(f"cannot read the filter file {argument}: {error}") from error
    try:
        data = json.loads(text)
    except ValueError as error:
        raise UsageError(f"{where} is not JSON: {error}") from error
    return parse_filter(data, where)


def as_json(preview: Preview) -> dict:
    return {
        "files": preview.files,
        "records": preview.records,
        "selected": preview.selected,
        "teacher": preview.teacher,
        "fromTeacher": preview.from_teacher if preview.teacher else None,
        "teacherPairs": preview.teacher_pairs if preview.teacher else None,
        "minimum": MINIMUM_RECORDS,
        "minimumMet": preview.minimum_met,
        "skippedLines": preview.skipped,
        "firstSkippedLines": [{"where": line.where, "problem": line.problem} for line in preview.first_skipped],
    }


def as_text(preview: Preview) -> Iterable[str]:
    yield f"files read: {preview.files}"
    yield f"records read: {preview.records}"
    yield f"selected by the filter: {preview.selected}"
    if preview.teacher:
        yield (
            f"selected from teacher {preview.teacher}: {preview.from_teacher} ({preview.teacher_pairs} with a response)"
        )
    counted = "prompt-response pairs from the teacher" if preview.teacher else "selected records"
    verdict = "met" if preview.minimum_met else f"not met, {MINIMUM_RECORDS - preview.counted} more needed"
    yield f"minimum of {MINIMUM_RECORDS} {counted}: {verdict} ({preview.counted})"
    if preview.skipped:
        yield f"skipped lines: {preview.skipped}" + (
            f" (first {len(preview.first_skipped)} below)" if preview.skipped > len(preview.first_skipped) else ""
        )
        yield from (f"  {line.where}: {line.problem}" for line in preview.first_skipped)
