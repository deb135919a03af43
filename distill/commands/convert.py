"""`distill convert`: turn prompt/completion JSON Lines into bedrock-conversation-2024 records for distillation."""

from __future__ import annotations

import argparse
import sys

STDIN = "-"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("convert", help=__doc__.split(": ", 1)[1])
    parser.add_argument(
        "input", metavar="INPUT", help='a JSON Lines file of {"prompt", "completion"}; - reads standard input'
    )
    parser.add_argument(
        "output",
        metavar="OUTPUT",
        help="the bedrock-conversation-2024 file to write, or a folder to write it into as INPUT's name with "
        '"-conversation.jsonl" for its suffix (data.jsonl becomes data-conversation.jsonl)',
    )
    parser.add_argument("--system", type=_non_empty, metavar="TEXT", help="a system prompt to put in every record")
    parser.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")
    parser.set_defaults(run=run)


def _non_empty(text: str) -> str:
    if not text or text.isspace():
        raise argparse.ArgumentTypeError("must hold text: Bedrock rejects an empty system prompt")
    return text


def run(args: argparse.Namespace) -> int:
    from distill.data_checks.conversion import (
        AlreadyConverted,
        ConversionFailed,
        OutputError,
        convert_file,
        convert_stream,
        output_path,
    )

    try:
        if args.input == STDIN:
            target = output_path(None, args.output)
            converted = convert_stream(sys.stdin.buffer, "<stdin>", target, system=args.system, overwrite=args.force)
        else:
            converted = convert_file(args.input, args.output, system=args.system, overwrite=args.force)
    except FileExistsError as error:
        print(f"distill convert: {error}; pass --force to overwrite it", file=sys.stderr)
        return 2
    except OutputError as error:
        print(f"distill convert: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"distill convert: {error.filename or args.input}: {error.strerror or error}", file=sys.stderr)
        return 2
    except AlreadyConverted as error:
        print(f"distill convert: {error}; nothing written", file=sys.stderr)
        return 1
    except ConversionFailed as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        shown = len(error.problems)
        more = f" (the first {shown} are shown)" if error.count > shown else ""
        line_s = "line" if error.count == 1 else "lines"
        print(f"distill convert: {error.count:,} {line_s} cannot be converted{more}; nothing written", file=sys.stderr)
        return 1
    skipped = f" ({converted.blank_lines:,} blank lines skipped)" if converted.blank_lines else ""
    noun = "record" if converted.records == 1 else "records"
    print(
        f"distill convert: wrote {converted.records:,} {noun} to {converted.target}{skipped}; check them with "
        f"`distill validate {converted.target}`"
    )
    return 0
