"""The `distill` command: local checks and views that need no deployment."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from distill.config import load_stages
from distill.config_reader import ConfigError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="distill", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    config = commands.add_parser("config", help="validate cdk.json and print the resolved settings of the stages")
    config.add_argument("--cdk-json", default="cdk.json", type=Path, help="path to cdk.json (default: ./cdk.json)")
    config.add_argument("--stage", help="print only this stage")
    args = parser.parse_args(argv)
    return _config(args)


def _config(args: argparse.Namespace) -> int:
    try:
        context = json.loads(args.cdk_json.read_text())["context"]
    except (OSError, ValueError, KeyError) as error:
        print(f"distill: cannot read the context of {args.cdk_json}: {error}", file=sys.stderr)
        return 2
    try:
        stages = load_stages(context.get("stages"))
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 1
    if args.stage and args.stage not in stages:
        print(f"distill: no stage {args.stage!r}; stages: {', '.join(stages)}", file=sys.stderr)
        return 2
    chosen = {args.stage: stages[args.stage]} if args.stage else stages
    print(json.dumps({name: asdict(stage) for name, stage in chosen.items()}, indent=2, default=list))
    return 0


if __name__ == "__main__":
    sys.exit(main())
