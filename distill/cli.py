"""The `distill` command: local checks and views of a distillation, most of them needing no AWS account."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import import_module

from distill.commands import COMMANDS

# The distribution that installs `distill` (pyproject.toml), whose version --version prints.
DISTRIBUTION = "bedrock-distillation-cdk"


# Exit codes of a command cut short, as a shell reports a process stopped by SIGINT or SIGPIPE.
INTERRUPTED = 130
OUTPUT_CLOSED = 141


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(arguments).parse_args(arguments)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return INTERRUPTED
    except BrokenPipeError:
        # The reader of the output went away (`distill validate data.jsonl | head`): stop without a traceback, and
        # point stdout at nothing so that the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OUTPUT_CLOSED


def build_parser(arguments: Sequence[str]) -> argparse.ArgumentParser:
    """The parser for these arguments: with the named command's own module only, or every command's when none is
    named (``distill --help``, a misspelt command), to list them."""
    parser = argparse.ArgumentParser(prog="distill", description=__doc__)
    parser.add_argument("--version", action=_Version)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # The top level has no option that takes a value, so the first argument that is not an option names the command.
    named = next((argument for argument in arguments if not argument.startswith("-")), None)
    for name in [named] if named in COMMANDS else COMMANDS:
        import_module(COMMANDS[name]).add_parser(subparsers)
    return parser


class _Version(argparse.Action):
    """``--version``: the installed distribution's version, looked up only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version of distill and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version(DISTRIBUTION)
        except PackageNotFoundError:
            found = f"unknown ({DISTRIBUTION} is not installed: run `make setup`)"
        print(f"distill {found}")
        parser.exit()


if __name__ == "__main__":
    sys.exit(main())
