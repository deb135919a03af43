"""`distill validate`: check distillation training datasets (bedrock-conversation-2024 JSON Lines) before a job."""

from __future__ import annotations

import argparse
import json
import sys
from collections import namedtuple
from pathlib import Path

from distill.data_checks.dataset import (
    MAX_KEPT_PROBLEMS,
    Report,
    multi_turn_allowed_for,
    validate_file,
    validate_stream,
)

STDIN = "-"
# What messages call standard input.
STDIN_NAME = "<stdin>"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help=__doc__.split(": ", 1)[1])
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="a JSON Lines dataset file, gzipped or not; - reads standard input"
    )
    parser.add_argument(
        "--stage",
        metavar="NAME",
        help="a stage in cdk.json: its model's teacher and student decide whether multi-turn records are allowed, as "
        "at synth",
    )
    parser.add_argument(
        "--model",
        metavar="NAME",
        help="with --stage, the stage's model (context.stages.<stage>.models.<name>); a stage with one model needs "
        "none; without it on a stage of several: an error that lists them",
    )
    parser.add_argument("--cdk-json", default="cdk.json", type=Path, help="path to cdk.json (default: ./cdk.json)")
    parser.add_argument(
        "--teacher", metavar="ID", help="teacher model id: its provider decides if multi-turn is allowed"
    )
    parser.add_argument(
        "--student", metavar="ID", help="student model id: its provider decides if multi-turn is allowed"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.set_defaults(run=run)


class UsageError(Exception):
    """Arguments that cannot be used as given: the message says which and what is allowed."""


class MultiTurnRule(namedtuple("MultiTurnRule", ["allowed", "reason"])):
    """Whether multi-turn records are allowed, and why, in words for the summary."""

    __slots__ = ()


def run(args: argparse.Namespace) -> int:
    try:
        rule = multi_turn_rule(args.stage, args.cdk_json, args.teacher, args.student, model=args.model)
        if args.files.count(STDIN) > 1:
            raise UsageError("- (standard input) can be read once; give it once")
    except UsageError as error:
        print(f"distill validate: {error}", file=sys.stderr)
        return 2
    # Each file with its report, or why it could not be read, in the order given.
    results: list[tuple[str, Report | str]] = []
    for name in args.files:
        try:
            report = _validate(name, rule.allowed)
            results.append((report.path, report))
        except OSError as error:
            results.append((name, error.strerror or str(error)))
            print(f"distill validate: cannot read {name}: {results[-1][1]}", file=sys.stderr)
    reports = [result for _, result in results if not isinstance(result, str)]
    if args.format == "json":
        print(json.dumps(_as_json(results, rule), indent=2))
    else:
        for report in reports:
            _print_text(report, rule)
    if len(reports) < len(results):
        return 2
    return 0 if all(report.ok for report in reports) else 1


def _validate(name: str, multi_turn_allowed: bool) -> Report:
    if name == STDIN:
        return validate_stream(sys.stdin.buffer, STDIN_NAME, multi_turn_allowed=multi_turn_allowed, decompress=True)
    return validate_file(name, multi_turn_allowed=multi_turn_allowed, decompress=True)


# --- which multi-turn rule applies --------------------------------------------------------------------------------


def multi_turn_rule(
    stage: str | None, cdk_json: Path, teacher: str | None, student: str | None, *, model: str | None = None
) -> MultiTurnRule:
    """The rule from the teacher and student of a stage's model, the models given, or, with neither, the single-turn
    rule that holds for every provider; raises ``UsageError`` for a stage or model that cannot be read or a model id
    the catalog does not know."""
    if model is not None and stage is None:
        raise UsageError("--model names a model of a stage; give --stage with it")
    if stage is not None:
        if teacher or student:
            raise UsageError(
                "--stage takes the teacher and student from cdk.json; give either --stage or --teacher/--student"
            )
        name, teacher, student = _stage_models(cdk_json, stage, model)
        allowed = multi_turn_allowed_for(teacher, student)
        return MultiTurnRule(
            allowed,
            f"multi-turn records {'allowed' if allowed else 'not allowed'} for model {name} of stage {stage} "
            f"(teacher {teacher}, student {student})",
        )
    if not teacher and not student:
        return MultiTurnRule(
            False,
            "multi-turn records not allowed: no --stage, --teacher or --student given, so the single-turn rule of "
            "Anthropic and Meta models applies (Amazon Nova models take multi-turn records: give --stage or --teacher)",
        )
    from distill.commands.model_ids import unknown_model

    unknown = unknown_model(teacher, student)
    if unknown:
        raise UsageError(unknown)
    given = [model_id for model_id in (teacher, student) if model_id]
    single_turn = [model_id for model_id in given if not multi_turn_allowed_for(model_id)]
    if single_turn:
        return MultiTurnRule(False, "multi-turn records not allowed: single turn only for " + ", ".join(single_turn))
    return MultiTurnRule(True, "multi-turn records allowed for " + ", ".join(given))


def _stage_models(cdk_json: Path, name: str, model: str | None) -> tuple[str, str, str]:
    """The name, teacher and student of a model of the stage, read as synth reads cdk.json."""
    from distill.commands.config import StagesError, read_stages
    from distill.commands.model_choice import ModelChoiceError, chosen_distilled_model

    try:
        stages = read_stages(cdk_json, name)
    except StagesError as error:
        # An unreadable file or an unknown stage is named in the message; invalid settings are listed under it.
        if error.exit_code == 2:
            raise UsageError(str(error)) from None
        raise UsageError(f"cannot take the models of stage {name} from {cdk_json}: {error}") from None
    try:
        chosen = chosen_distilled_model(stages[name], model)
    except ModelChoiceError as error:
        raise UsageError(f"{error}; or give --teacher and --student instead of --stage") from None
    assert chosen.distillation is not None  # chosen_distilled_model returns a model the stage distils
    return chosen.name, chosen.distillation.teacher, chosen.distillation.student


# --- output -------------------------------------------------------------------------------------------------------


def _print_text(report: Report, rule: MultiTurnRule) -> None:
    for problem in report.problems:
        print(problem)
    if report.omitted:
        print(f"... {report.omitted:,} more problems in {report.path} (the first {MAX_KEPT_PROBLEMS} are shown)")
    print(f"{report.path}: {_summary_text(report)}; {rule.reason}")
    if report.summary.gzip:
        print(
            f"{report.path}: gzip-compressed, read decompressed ({report.summary.bytes:,} bytes); upload the "
            "decompressed file, Bedrock reads a training file as JSON Lines text"
        )
    verdict = "valid" if report.ok else "invalid: " + _count(report.problem_count, "problem")
    print(f"{report.path}: {verdict}")


def _summary_text(report: Report) -> str:
    summary = report.summary
    text = (
        f"{_count(summary.records, 'record')}: {summary.with_response:,} with response, {summary.prompt_only:,} "
        f"prompt-only, {summary.multi_turn:,} multi-turn"
    )
    if summary.largest_record_line is not None:
        text += f"; largest {summary.largest_record_bytes:,} bytes on line {summary.largest_record_line}"
    return text


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _as_json(results: list[tuple[str, Report | str]], rule: MultiTurnRule) -> dict:
    files = {
        name: {"ok": False, "readable": False, "error": result} if isinstance(result, str) else _report_json(result)
        for name, result in results
    }
    return {"multiTurnAllowed": rule.allowed, "multiTurnRule": rule.reason, "files": files}


def _report_json(report: Report) -> dict:
    summary = report.summary
    return {
        "ok": report.ok,
        "readable": True,
        "problemCount": report.problem_count,
        "omittedProblems": report.omitted,
        "problems": [
            {"line": problem.line, "field": problem.field, "message": problem.message} for problem in report.problems
        ],
        "summary": {
            "records": summary.records,
            "promptOnly": summary.prompt_only,
            "withResponse": summary.with_response,
            "multiTurn": summary.multi_turn,
            "largestRecordBytes": summary.largest_record_bytes,
            "largestRecordLine": summary.largest_record_line,
            "bytes": summary.bytes,
            "gzip": summary.gzip,
        },
    }
