"""`distill convert`: turn prompt/completion JSON Lines into bedrock-conversation-2024 records for distillation."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from distill.conversion import ConversionError, convert_file


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("convert", help=__doc__.split(": ", 1)[1])
    parser.add_argument("input", type=Path, metavar="INPUT", help='a JSON Lines file of {"prompt", "completion"}')
    parser.add_argument("output", type=Path, metavar="OUTPUT", help="the bedrock-conversation-2024 file to write")
    parser.add_argument("--system", type=_non_empty, metavar="TEXT", help="a system prompt to put in every record")
    parser.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")
    parser.set_defaults(run=run)


def _non_empty(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("must not be empty: Bedrock rejects an empty system prompt")
    return text


def run(args: argparse.Namespace) -> int:
    try:
        count = convert_file(args.input, args.output, system=args.system, overwrite=args.force)
    except FileExistsError:
        print(f"distill convert: {args.output} exists; pass --force to overwrite it", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"distill convert: {error.filename or args.input}: {error.strerror or error}", file=sys.stderr)
        return 2
    except ConversionError as error:
        print(f"distill convert: {error}; nothing written", file=sys.stderr)
        return 1
    print(
        f"distill convert: wrote {count:,} records to {args.output}; check them with `distill validate {args.output}`"
    )
    return 0
