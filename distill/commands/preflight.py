"""`distill preflight`: read-only checks of a stage's account before a deploy, with the fix for each finding.

Everything heavy (the configuration with its catalog, boto3 and the checks) is imported when the command runs, so
`distill --help` starts without them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from distill.commands.model_choice import add_model_option

    parser = subparsers.add_parser(
        "preflight",
        help=__doc__.split(": ", 1)[1].split("\n", 1)[0],
        epilog="exit status: 0 nothing blocks, 1 something blocks, 2 cannot tell (no credentials, a call it may not "
        "make, or a cdk.json it cannot read)",
    )
    parser.add_argument("--stage", required=True, metavar="NAME", help="the stage in cdk.json")
    add_model_option(parser, without="every model, and the stage's own checks")
    parser.add_argument("--cdk-json", default="cdk.json", type=Path, help="path to cdk.json (default: ./cdk.json)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from distill.commands.config import StagesError, read_stages
    from distill.commands.model_choice import ModelChoiceError, chosen_models
    from distill.operations.preflight import PreflightClients, exit_code, run_checks

    try:
        stage = read_stages(args.cdk_json, args.stage)[args.stage]
        models = chosen_models(stage, args.model)
    except (StagesError, ModelChoiceError) as error:
        # Invalid settings too exit 2 here: a preflight of a stage that does not synthesize cannot tell anything.
        print(f"distill preflight: {error}", file=sys.stderr)
        return 2
    findings = run_checks(stage, PreflightClients(stage.region), models)
    code = exit_code(findings)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "stage": stage.name,
                    "region": stage.region,
                    "models": [model.name for model in models],
                    "exitCode": code,
                    "checks": [
                        {"check": f.check, "status": f.status, "finding": f.finding, "fix": f.fix} for f in findings
                    ],
                },
                indent=2,
            )
        )
        return code
    checked = f", model{'s' * (len(models) != 1)} {', '.join(model.name for model in models)}" if models else ""
    print(
        f"preflight of stage {stage.name} (account {stage.account or 'from the credentials'}, {stage.region})" + checked
    )
    print("\n".join(map(str, findings)))
    blocking = sum(f.status == "blocks" for f in findings)
    unknown = sum(f.status == "unknown" for f in findings)
    print(
        f"{blocking} check{'s' * (blocking != 1)} block the deploy"
        if blocking
        else f"nothing blocks, but {unknown} check{'s' * (unknown != 1)} could not tell"
        if unknown
        else "nothing blocks the deploy"
    )
    return code
