"""`distill config`: validate cdk.json and print the resolved settings of its stages."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distill.config.stages import StageConfig


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help=__doc__.split(": ", 1)[1])
    parser.add_argument("--cdk-json", default="cdk.json", type=Path, help="path to cdk.json (default: ./cdk.json)")
    parser.add_argument("--stage", help="print only this stage")
    parser.set_defaults(run=run)


class StagesError(Exception):
    """A cdk.json whose stages cannot be had: ``exit_code`` is 2 when the file cannot be read, 1 when its
    configuration is invalid (the message then lists every problem, as synth does)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def read_stages(cdk_json: Path, stage: str | None = None) -> dict[str, StageConfig]:
    """The stages of a cdk.json, parsed as synth parses them, with relative paths (a local dataset) taken from the
    file's folder; with ``stage``, that stage alone, and only its problems are reported. Raises ``StagesError``."""
    from distill.config.reader import ConfigError
    from distill.config.stages import load_stages

    try:
        document = json.loads(cdk_json.read_text())
    except OSError as error:
        raise StagesError(f"cannot read {cdk_json}: {error.strerror or error}", 2) from None
    except ValueError as error:
        raise StagesError(f"{cdk_json} is not JSON: {error}", 2) from None
    context = document.get("context") if isinstance(document, dict) else None
    if not isinstance(context, dict):
        raise StagesError(f'{cdk_json} has no "context" object, where the stages are kept', 2)
    try:
        stages = load_stages(context.get("stages"), base_dir=cdk_json.resolve().parent, only=stage)
    except ConfigError as error:
        raise StagesError(str(error), 1) from None
    if stage is not None and stage not in stages:
        # load_stages raised unless the table is a non-empty object, so its keys are the stage names.
        names = ", ".join(context["stages"])
        raise StagesError(f'{cdk_json} has no stage "{stage}"; stages: {names}', 2)
    return stages


def run(args: argparse.Namespace) -> int:
    try:
        stages = read_stages(args.cdk_json, args.stage)
    except StagesError as error:
        prefix = "distill config: " if error.exit_code == 2 else ""
        print(f"{prefix}{error}", file=sys.stderr)
        return error.exit_code
    print(json.dumps({name: as_json(stage) for name, stage in stages.items()}, indent=2))
    return 0


def as_json(value: Any) -> Any:
    """A parsed setting as JSON: dataclass fields in camelCase (as in cdk.json and AWS's own JSON), a filter in its
    API shape, paths as strings; the keys of a mapping (tags, say) as they were written."""
    if hasattr(value, "to_api"):
        return value.to_api()
    if is_dataclass(value) and not isinstance(value, type):
        return {_camel_case(item.name): as_json(getattr(value, item.name)) for item in fields(value)}
    if isinstance(value, Mapping):
        return {str(key): as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [as_json(item) for item in value]
    if isinstance(value, PurePath):
        return str(value)
    return value


def _camel_case(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)
