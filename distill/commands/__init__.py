"""Subcommands of `distill`: each module has ``add_parser(subparsers)`` and ``run(args) -> exit code``."""

from distill.commands import config, convert, cost, evaluate, preflight, preview_logs, report, status, validate

COMMANDS = [config, preview_logs, validate, convert, status, report, evaluate, cost, preflight]
