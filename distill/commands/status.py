"""`distill status`: show a stage's distillation job, its phases and loss, and the served model; --watch follows it."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError

from distill.config.stages import StageConfig
from distill.operations.aws_errors import fix_for
from distill.operations.status import Clients, Snapshot, StageError, fetch_snapshot, load_stage, render_status

# GetModelCustomizationJob is throttled per account; a job's phases last minutes to hours.
MIN_INTERVAL_SECONDS = 10
DEFAULT_INTERVAL_SECONDS = 60
# Home the cursor and clear the screen, so a terminal shows one status that changes in place.
CLEAR_SCREEN = "\x1b[H\x1b[2J"
INTERRUPTED = 130


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help=__doc__.split(": ", 1)[1])
    parser.add_argument("--stage", required=True, metavar="NAME", help="the stage in cdk.json")
    parser.add_argument("--cdk-json", default="cdk.json", type=Path, help="path to cdk.json (default: ./cdk.json)")
    parser.add_argument("--watch", action="store_true", help="refresh until the job has completed, failed or stopped")
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


def run(args: argparse.Namespace) -> int:
    try:
        stage = load_stage(args.cdk_json, args.stage)
        clients = Clients(stage.region)
        if args.watch:
            snapshot = watch(clients, stage, args.interval, sys.stdout)
        else:
            snapshot = fetch_snapshot(clients, stage)
            print(render_status(snapshot))
    except StageError as error:
        print(f"distill status: {error}", file=sys.stderr)
        return error.exit_code
    except (BotoCoreError, ClientError) as error:
        print(f"distill status: cannot read the stage from AWS: {error}; fix: {fix_for(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return INTERRUPTED
    return snapshot.exit_code


def watch(
    clients: Clients,
    stage: StageConfig,
    interval: int,
    out: TextIO,
    sleep: Callable[[float], None] = time.sleep,
) -> Snapshot:
    """Show the status every ``interval`` seconds until the job ends. A terminal sees one display that changes in
    place; a pipe or a log gets each refresh in turn."""
    live = out.isatty()
    while True:
        snapshot = fetch_snapshot(clients, stage)
        text = render_status(snapshot)
        if live:
            ending = "" if snapshot.job_ended else f"\n\nrefreshing every {interval} s; Ctrl-C to stop"
            out.write(f"{CLEAR_SCREEN}{text}{ending}\n")
        else:
            out.write(f"{text}\n\n")
        out.flush()
        if snapshot.job_ended:
            return snapshot
        sleep(interval)
