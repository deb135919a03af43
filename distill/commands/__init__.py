"""Subcommands of `distill`: each module has ``add_parser(subparsers)`` and ``run(args) -> exit code``."""

from distill.commands import config

COMMANDS = [config]
