"""`distill validate`: check distillation training datasets (bedrock-conversation-2024 JSON Lines) before a job."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from distill.catalog import allows_multi_turn
from distill.dataset import MAX_KEPT_PROBLEMS, Report, multi_turn_allowed_for, validate_file


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help=__doc__.split(": ", 1)[1])
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="a JSON Lines dataset file")
    parser.add_argument(
        "--teacher", metavar="ID", help="teacher model id: its provider decides if multi-turn is allowed"
    )
    parser.add_argument(
        "--student", metavar="ID", help="student model id: its provider decides if multi-turn is allowed"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    multi_turn = multi_turn_allowed_for(args.teacher, args.student)
    reports = []
    unreadable = False
    for path in args.files:
        try:
            reports.append(validate_file(path, multi_turn_allowed=multi_turn))
        except OSError as error:
            print(f"distill validate: cannot read {path}: {error.strerror or error}", file=sys.stderr)
            unreadable = True
    if args.format == "json":
        print(json.dumps(_as_json(reports, multi_turn), indent=2))
    else:
        note = _multi_turn_note(args.teacher, args.student)
        for report in reports:
            _print_text(report, note)
    if unreadable:
        return 2
    return 0 if all(report.ok for report in reports) else 1


def _multi_turn_note(*model_ids: str | None) -> str:
    """Why multi-turn records are or are not allowed, for the summary line."""
    given = [model_id for model_id in model_ids if model_id]
    if not given:
        return "multi-turn records allowed (no --teacher or --student given)"
    single_turn = [model_id for model_id in given if not allows_multi_turn(model_id)]
    if single_turn:
        return "multi-turn records not allowed: single turn only for " + ", ".join(single_turn)
    return "multi-turn records allowed for " + ", ".join(given)


def _print_text(report: Report, note: str) -> None:
    for problem in report.problems:
        print(problem)
    if report.omitted:
        print(f"... {report.omitted:,} more problems in {report.path} (the first {MAX_KEPT_PROBLEMS} are shown)")
    print(f"{report.path}: {_summary_text(report)}; {note}")
    count = report.problem_count
    verdict = "valid" if report.ok else f"invalid: {count:,} problem{'' if count == 1 else 's'}"
    print(f"{report.path}: {verdict}")


def _summary_text(report: Report) -> str:
    summary = report.summary
    text = (
        f"{summary.records:,} records: {summary.with_response:,} with response, {summary.prompt_only:,} prompt-only, "
        f"{summary.multi_turn:,} multi-turn"
    )
    if summary.largest_record_line is not None:
        text += f"; largest {summary.largest_record_bytes:,} bytes on line {summary.largest_record_line}"
    return text


def _as_json(reports: list[Report], multi_turn: bool) -> dict:
    return {
        "multiTurnAllowed": multi_turn,
        "files": {
            report.path: {
                "ok": report.ok,
                "problem_count": report.problem_count,
                "problems": [asdict(problem) for problem in report.problems],
                "summary": asdict(report.summary),
            }
            for report in reports
        },
    }
