"""Subcommands of `distill`: each module has ``add_parser(subparsers)`` and ``run(args) -> exit code``.

The command line imports only the module of the command it runs (and none to list them in ``--help``), so a command
never pays for what another one needs: boto3 for the commands that call AWS, matplotlib for the chart.
"""

# Command name -> module, in the order ``distill --help`` lists them.
COMMANDS = {
    "config": "distill.commands.config",
    "validate": "distill.commands.validate",
    "convert": "distill.commands.convert",
    "preview-logs": "distill.commands.preview_logs",
    "status": "distill.commands.status",
    "report": "distill.commands.report",
    "evaluate": "distill.commands.evaluate",
    "cost": "distill.commands.cost",
    "preflight": "distill.commands.preflight",
}
