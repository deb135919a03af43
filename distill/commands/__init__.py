"""Subcommands of `distill`: each module has ``add_parser(subparsers)`` and ``run(args) -> exit code``."""

from distill.commands import config, convert, preview_logs, validate

COMMANDS = [config, preview_logs, validate, convert]
