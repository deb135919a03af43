"""The `distill` command: local checks and views of a distillation, most of them needing no AWS account."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from distill.commands import COMMANDS


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="distill", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
