"""`distill preview-logs`: count the invocation log records a distillation job will use, before a job does.

A distillation job that trains from invocation logs needs at least 100 usable records among those its filter
selects: prompt-response pairs from exactly the chosen teacher with usePromptResponse, prompt-response pairs from any
model otherwise (the user guide page "Use invocation logs for data preparation"). Usable means what the job can
read: text only, one user turn for providers that allow one, with a response; a guardrail refusal is no answer to
learn from. Running this over a local copy of the logs (``aws s3 sync s3://bucket/prefix/AWSLogs/ logs/``) shows
the counts, and why the rest was dropped, in seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distill.commands.model_ids import unknown_model
from distill.config.catalog import CatalogError, parse_model
from distill.data_checks.dataset import multi_turn_allowed_for
from distill.data_checks.invocation_logs import (
    DROP_REASONS,
    LOG_SUFFIXES,
    JobUse,
    LogReadError,
    LogRecord,
    SkippedLine,
    drop_reason,
    log_files,
    read_log_file,
    same_model,
)
from distill.data_checks.log_filters import FilterError, RequestMetadataFilter, parse_filter

MINIMUM_RECORDS = 100
# Enough skipped lines to see the pattern without flooding the terminal.
SHOWN_SKIPPED_LINES = 5
# When the filter selects nothing: the requestMetadata keys the records carry, each with its first few values.
SHOWN_METADATA_KEYS = 10
SHOWN_METADATA_VALUES = 3


class UsageError(Exception):
    """A --filter, --teacher or --student value that cannot be used, or paths that hold no log file."""


@dataclass
class Preview:
    """Counts over the log records for one way the job reads them (``use``)."""

    use: JobUse
    # False when no model was named, so multi-turn records could not be judged and were counted.
    turns_checked: bool = True
    multi_turn_unjudged: int = 0
    files: int = 0
    records: int = 0
    selected: int = 0
    usable: int = 0
    dropped: Counter = field(default_factory=Counter)
    # Guardrail refusals among the selected records with a response, whether or not they were dropped.
    guardrail_refusals: int = 0
    # Teacher mode: records dropped as another model that are the teacher's model under another identifier.
    same_model_other_id: int = 0
    skipped: int = 0
    first_skipped: list[SkippedLine] = field(default_factory=list)
    # The requestMetadata keys of the records read, in the order met, each with its first distinct values (one more
    # than shown, to tell that there are more); the filter is judged against these.
    metadata_seen: dict[str, list[str]] = field(default_factory=dict)

    @property
    def minimum_met(self) -> bool:
        return self.usable >= MINIMUM_RECORDS

    def add(self, line: LogRecord | SkippedLine, log_filter: RequestMetadataFilter) -> None:
        if isinstance(line, SkippedLine):
            self.skipped += 1
            if len(self.first_skipped) < SHOWN_SKIPPED_LINES:
                self.first_skipped.append(line)
            return
        self.records += 1
        self._see_metadata(line.request_metadata)
        if not log_filter.matches(line.request_metadata):
            return
        self.selected += 1
        self.guardrail_refusals += line.has_response and line.guardrail_intervened
        reason = drop_reason(line, self.use)
        if reason is None:
            self.usable += 1
            self.multi_turn_unjudged += not self.turns_checked and line.user_turns > 1
            return
        self.dropped[reason] += 1
        if reason == "otherModel" and self.use.teacher is not None:
            self.same_model_other_id += same_model(line.model_id, self.use.teacher)

    def _see_metadata(self, metadata: Mapping[str, Any]) -> None:
        for key, value in metadata.items():
            if key not in self.metadata_seen and len(self.metadata_seen) > SHOWN_METADATA_KEYS:
                continue
            values = self.metadata_seen.setdefault(str(key), [])
            text = value if isinstance(value, str) else json.dumps(value)
            if len(values) <= SHOWN_METADATA_VALUES and text not in values:
                values.append(text)


def metadata_hint(preview: Preview) -> str:
    """What the records' requestMetadata holds, for a filter that selected none of them."""
    if not preview.metadata_seen:
        return (
            "no record read carries requestMetadata, which the filter selects on: the application sets it on each "
            "call (the requestMetadata field of Converse and ConverseStream)"
        )
    keys = list(preview.metadata_seen.items())
    shown = []
    for key, values in keys[:SHOWN_METADATA_KEYS]:
        listed = ", ".join(json.dumps(value) for value in values[:SHOWN_METADATA_VALUES])
        shown.append(f"{json.dumps(key)}: {listed}{', ...' if len(values) > SHOWN_METADATA_VALUES else ''}")
    more = ", ..." if len(keys) > SHOWN_METADATA_KEYS else ""
    return "the filter selects none of them; the records' requestMetadata keys and values: " + "; ".join(shown) + more


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
        help="the job's teacher (model id, inference profile id or ARN) with usePromptResponse: only prompt-response "
        "pairs from exactly this model count. Without it, pairs from any model count (prompts only)",
    )
    parser.add_argument(
        "--student",
        metavar="ID",
        help="the job's student; with it (or --teacher) records of more than one user turn are dropped for "
        "providers that allow one",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        log_filter = load_filter(args.filter)
        preview = Preview(job_use(args.teacher, args.student), turns_checked=bool(args.teacher or args.student))
        for path in log_files(args.paths):
            preview.files += 1
            for line in read_log_file(path):
                preview.add(line, log_filter)
        if preview.files == 0:
            raise UsageError(no_files_hint(args.paths))
    except (UsageError, FilterError, LogReadError) as error:
        print(f"distill preview-logs: {error}", file=sys.stderr)
        return 2
    print(json.dumps(as_json(preview), indent=2) if args.format == "json" else "\n".join(as_text(preview)))
    return 0 if preview.minimum_met else 1


def job_use(teacher: str | None, student: str | None) -> JobUse:
    """The job as the flags describe it; raise ``UsageError`` for an id that is no model identifier, or one the model
    catalog does not know as a distillation teacher or student (as `distill validate` does)."""
    references = {}
    for flag, text in (("--teacher", teacher), ("--student", student)):
        try:
            references[flag] = parse_model(text) if text else None
        except CatalogError as error:
            raise UsageError(f"{flag}: {error}") from error
    unknown = unknown_model(teacher, student)
    if unknown:
        raise UsageError(unknown)
    named = [reference.model_id or reference.identifier for reference in references.values() if reference]
    return JobUse(teacher=references["--teacher"], multi_turn_allowed=multi_turn_allowed_for(*named))


def load_filter(argument: str) -> RequestMetadataFilter:
    """A filter given inline (JSON text: it starts with "{", "[" or a quote) or as the path of a JSON file."""
    if argument.lstrip()[:1] in ("{", "[", '"'):
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


def no_files_hint(paths: list[Path]) -> str:
    return (
        f"no log files in {', '.join(map(str, paths))}: a directory is searched for {', '.join(LOG_SUFFIXES)} files "
        "(Bedrock writes .json.gz files under AWSLogs/<account>/BedrockModelInvocationLogs/); copy them with "
        "`aws s3 sync s3://BUCKET/PREFIX/AWSLogs/ logs/` and give that directory"
    )


def counted(preview: Preview) -> str:
    teacher = preview.use.teacher
    return f"prompt-response pairs from teacher {teacher.identifier}" if teacher else "prompt-response pairs"


def as_json(preview: Preview) -> dict:
    teacher = preview.use.teacher
    return {
        "files": preview.files,
        "records": preview.records,
        "selected": preview.selected,
        "requestMetadataSeen": {key: values[:SHOWN_METADATA_VALUES] for key, values in preview.metadata_seen.items()}
        if preview.records and not preview.selected
        else None,
        "teacher": teacher.identifier if teacher else None,
        "multiTurnAllowed": preview.use.multi_turn_allowed if preview.turns_checked else None,
        "multiTurnUnjudged": preview.multi_turn_unjudged,
        "usable": preview.usable,
        "dropped": {reason: preview.dropped[reason] for reason in DROP_REASONS if preview.dropped[reason]},
        "guardrailRefusals": preview.guardrail_refusals,
        "sameModelOtherIdentifier": preview.same_model_other_id if teacher else None,
        "minimum": MINIMUM_RECORDS,
        "minimumMet": preview.minimum_met,
        "skippedLines": preview.skipped,
        "firstSkippedLines": [{"where": line.where, "problem": line.problem} for line in preview.first_skipped],
    }


def as_text(preview: Preview) -> Iterable[str]:
    teacher = preview.use.teacher
    yield f"files read: {preview.files}"
    yield f"records read: {preview.records}"
    yield f"selected by the filter: {preview.selected}"
    if preview.records and not preview.selected:
        yield f"  {metadata_hint(preview)}"
    yield f"usable by the job: {preview.usable} {counted(preview)}"
    dropped = sum(preview.dropped.values())
    if dropped:
        yield f"dropped: {dropped}"
        yield from (
            f"  {preview.dropped[reason]} {DROP_REASONS[reason]}" for reason in DROP_REASONS if preview.dropped[reason]
        )
    if preview.guardrail_refusals:
        yield f"guardrail refusals among the selected records: {preview.guardrail_refusals}" + (
            " (dropped: with usePromptResponse the student would learn to refuse)"
            if teacher
            else " (counted: without usePromptResponse the teacher answers these prompts again)"
        )
    if teacher and preview.same_model_other_id:
        yield (
            f"from {teacher.model_id} under another identifier than {teacher.identifier}: "
            f"{preview.same_model_other_id} (not counted: Bedrock does not document whether a profile id and a model "
            "id match exactly)"
        )
    if preview.multi_turn_unjudged:
        yield (
            f"multi-turn records counted as usable: {preview.multi_turn_unjudged} (no --teacher or --student given; "
            "Meta and Anthropic allow one user turn)"
        )
    verdict = "met" if preview.minimum_met else f"not met, {MINIMUM_RECORDS - preview.usable} more needed"
    yield f"minimum of {MINIMUM_RECORDS} usable {counted(preview)}: {verdict} ({preview.usable})"
    if preview.skipped:
        yield f"skipped lines: {preview.skipped}" + (
            f" (first {len(preview.first_skipped)} below)" if preview.skipped > len(preview.first_skipped) else ""
        )
        yield from (f"  {line.where}: {line.problem}" for line in preview.first_skipped)
