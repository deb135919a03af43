"""`distill config`: validate cdk.json and print the resolved settings of its stages."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from distill.config import load_stages
from distill.config_reader import ConfigError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help=__doc__.split(": ", 1)[1])
    parser.add_argument("--cdk-json", default="cdk.json", type=Path, help="path to cdk.json (default: ./cdk.json)")
    parser.add_argument("--stage", help="print only this stage")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        context = json.loads(args.cdk_json.read_text())["context"]
    except (OSError, ValueError, KeyError) as error:
        print(f"distill config: cannot read the context of {args.cdk_json}: {error}", file=sys.stderr)
        return 2
    try:
        stages = load_stages(context.get("stages"))
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 1
    if args.stage and args.stage not in stages:
        print(f"distill config: no stage {args.stage!r}; stages: {', '.join(stages)}", file=sys.stderr)
        return 2
    chosen = {args.stage: stages[args.stage]} if args.stage else stages
    print(json.dumps({name: asdict(stage) for name, stage in chosen.items()}, indent=2, default=list))
    return 0
