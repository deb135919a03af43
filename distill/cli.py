"""The `distill` command: local checks and views of a distillation, most of them needing no AWS account."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path

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
    """The parser for these arguments: the named command's, from its module, or when no command is named
    (``distill --help``, a misspelt name) one that lists them all, without importing any."""
    parser = argparse.ArgumentParser(prog="distill", description=__doc__)
    parser.add_argument("--version", action=_Version)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # The top level has no option that takes a value, so the first argument that is not an option names the command.
    named = next((argument for argument in arguments if not argument.startswith("-")), None)
    if named in COMMANDS:
        import_module(COMMANDS[named]).add_parser(subparsers)
    else:
        for name, module in COMMANDS.items():
            subparsers.add_parser(name, help=summary(module))
    return parser


# A module's docstring: the first string of its source, after any comments.
_DOCSTRING = re.compile(r'\s*(?:#[^\n]*\n\s*)*"""(.*?)"""', re.DOTALL)


def summary(module: str) -> str:
    """A command's one-line help, as its ``add_parser`` gives it: the first line of its module's docstring, after
    "`distill NAME`: ". Read from the source, so that listing the commands runs none of their imports (boto3 for some,
    the model catalog for others); from the imported module where there is no source."""
    spec = find_spec(module)
    origin = spec.origin if spec is not None else None
    found = _DOCSTRING.match(Path(origin).read_text(encoding="utf-8")) if origin and origin.endswith(".py") else None
    docstring = found[1] if found else import_module(module).__doc__ or ""
    return docstring.split(": ", 1)[-1].split("\n", 1)[0]


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
