"""`distill status`: a model's job, its phases and loss, and its serving (or each model a line); --watch follows it."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Protocol, TextIO, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from distill.commands.model_choice import ModelChoiceError, add_model_option, chosen_models
from distill.operations.aws_errors import fix_for
from distill.operations.status import (
    Clients,
    StageError,
    fetch_snapshot,
    fetch_stage_snapshot,
    load_stage,
    render_stage_status,
    render_status,
)

# GetModelCustomizationJob is throttled per account; a job's phases last minutes to hours.
MIN_INTERVAL_SECONDS = 10
DEFAULT_INTERVAL_SECONDS = 60
# Home the cursor and clear the screen, so a terminal shows one status that changes in place.
CLEAR_SCREEN = "\x1b[H\x1b[2J"
INTERRUPTED = 130


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help=__doc__.split(": ", 1)[1])
    parser.add_argument("--stage", required=True, metavar="NAME", help="the stage in cdk.json")
    add_model_option(parser, without="every model, one line each (name, job state, serving state)")
    parser.add_argument("--cdk-json", default="cdk.json", type=Path, help="path to cdk.json (default: ./cdk.json)")
    parser.add_argument(
        "--watch", action="store_true", help="refresh until the jobs shown have completed, failed or stopped"
    )
    parser.add_argument(
        "--interval",
        type=interval_seconds,
        default=DEFAULT_INTERVAL_SECONDS,
        metavar="SECONDS",
        help=f"seconds between refreshes with --watch (default: {DEFAULT_INTERVAL_SECONDS}, at least "
        f"{MIN_INTERVAL_SECONDS})",
    )
    parser.set_defaults(run=run)


def interval_seconds(text: str) -> int:
    if not text.isdigit() or int(text) < MIN_INTERVAL_SECONDS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not allowed; use a whole number of seconds, at least {MIN_INTERVAL_SECONDS} (Bedrock "
            "throttles job status requests)"
        )
    return int(text)


class View(Protocol):
    """What ``watch`` follows: a ``Snapshot`` of one model or a ``StageSnapshot`` of several."""

    @property
    def job_ended(self) -> bool: ...

    @property
    def exit_code(self) -> int: ...


V = TypeVar("V", bound=View)


def run(args: argparse.Namespace) -> int:
    try:
        stage = load_stage(args.cdk_json, args.stage)
        models = chosen_models(stage, args.model)
        clients = Clients(stage.region)
        # One model that the stage distils: its job in full (phases, loss); several, a copy or none: a line each.
        if len(models) == 1 and models[0].distillation is not None:
            fetch: Callable[[], View] = partial(fetch_snapshot, clients, stage, models[0])
            render: Callable = render_status
        else:
            fetch = partial(fetch_stage_snapshot, clients, stage, models)
            render = render_stage_status
        if args.watch:
            view = watch(fetch, render, args.interval, sys.stdout)
        else:
            view = fetch()
            print(render(view))
    except (StageError, ModelChoiceError) as error:
        print(f"distill status: {error}", file=sys.stderr)
        return error.exit_code
    except (BotoCoreError, ClientError) as error:
        print(f"distill status: cannot read the stage from AWS: {error}; fix: {fix_for(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return INTERRUPTED
    return view.exit_code


def watch(
    fetch: Callable[[], V],
    render: Callable[[V], str],
    interval: int,
    out: TextIO,
    sleep: Callable[[float], None] = time.sleep,
) -> V:
    """Show ``render(fetch())`` every ``interval`` seconds until the jobs shown end. A terminal sees one display that
    changes in place; a pipe or a log gets each refresh in turn."""
    live = out.isatty()
    while True:
        view = fetch()
        text = render(view)
        if live:
            ending = "" if view.job_ended else f"\n\nrefreshing every {interval} s; Ctrl-C to stop"
            out.write(f"{CLEAR_SCREEN}{text}{ending}\n")
        else:
            out.write(f"{text}\n\n")
        out.flush()
        if view.job_ended:
            return view
        sleep(interval)
