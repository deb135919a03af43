"""`distill report`: draw a job's loss by step as a PNG and summarize its training (and validation) metrics."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

STDIN = "-"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help=__doc__.split(": ", 1)[1])
    parser.add_argument(
        "metrics",
        nargs="?",
        metavar="METRICS.csv|s3://...",
        help="the job's step_wise_training_metrics.csv: a local file, an S3 URI, or - for standard input (or --stage)",
    )
    parser.add_argument(
        "--stage",
        metavar="NAME",
        help="instead of a file: the metrics in S3 of the stage's current job (the job `distill status` shows)",
    )
    parser.add_argument(
        "--model",
        metavar="NAME",
        help="with --stage, the stage's model (context.stages.<stage>.models.<name>); a stage with one model needs "
        "none; without it on a stage of several: an error that lists them",
    )
    parser.add_argument("--cdk-json", default="cdk.json", type=Path, help="path to cdk.json (default: ./cdk.json)")
    parser.add_argument(
        "--validation", metavar="CSV|s3://...", help="the job's validation metrics, drawn beside the training loss"
    )
    parser.add_argument(
        "-o",
        "--output",
        type=png_path,
        default=Path("loss.png"),
        metavar="FILE.png",
        help="the PNG to write (default: loss.png)",
    )
    parser.set_defaults(run=run)


def png_path(text: str) -> Path:
    """The chart's file name: it is written as a PNG, so the name must say so."""
    path = Path(text)
    if path.suffix.lower() != ".png":
        raise argparse.ArgumentTypeError(
            f"{text!r} does not end in .png; the chart is a PNG image, so give a name such as {path.stem or 'loss'}.png"
        )
    return path


def stage_metrics(args: argparse.Namespace) -> tuple[str, Any] | int:
    """The S3 URI of the training metrics of the current job of the stage's model (``--stage``, ``--model``) with
    the stage Region's clients to read it, or the exit status after saying why it cannot be had."""
    from botocore.exceptions import BotoCoreError, ClientError

    from distill.commands.model_choice import ModelChoiceError, chosen_distilled_model
    from distill.operations.aws_errors import fix_for
    from distill.operations.status import Clients, StageError, load_stage, metrics_uri, read_job_arn

    try:
        stage = load_stage(args.cdk_json, args.stage)
        model = chosen_distilled_model(stage, args.model)
        clients = Clients(stage.region)
        job = clients.bedrock.get_model_customization_job(jobIdentifier=read_job_arn(clients, stage, model))
    except (StageError, ModelChoiceError) as error:
        print(f"distill report: {error}", file=sys.stderr)
        return error.exit_code
    except (BotoCoreError, ClientError) as error:
        print(f"distill report: cannot read the job from AWS: {error}; fix: {fix_for(error)}", file=sys.stderr)
        return 2
    uri = metrics_uri(job)
    print(f"job {job['jobName']} ({job['status']}): {uri}")
    return uri, clients


def run(args: argparse.Namespace) -> int:
    from distill.operations.loss_chart import draw_loss_chart, summary_lines
    from distill.operations.training_metrics_csv import MetricsError, load_metrics

    if (args.metrics is None) == (args.stage is None):
        print(
            "distill report: give the metrics (a file, an S3 URI or -) or --stage NAME [--model NAME], one of them",
            file=sys.stderr,
        )
        return 2
    if args.model is not None and args.stage is None:
        print("distill report: --model names a model of a stage; give --stage with it", file=sys.stderr)
        return 2
    stage_clients = None
    if args.stage is not None:
        found = stage_metrics(args)
        if isinstance(found, int):
            return found
        args.metrics, stage_clients = found
    locations = [location for location in (args.metrics, args.validation) if location]
    if locations.count(STDIN) > 1:
        print("distill report: - (standard input) can be read once; give it for one file only", file=sys.stderr)
        return 2
    errors: tuple[type[Exception], ...] = (OSError, ValueError)  # MetricsError is a ValueError
    clients = None
    if any(location.startswith("s3://") for location in locations):
        from botocore.exceptions import BotoCoreError

        from distill.operations.status import Clients

        errors += (BotoCoreError,)
        # The stage's Region, or the default Region of the credentials: S3 redirects a request for a bucket in
        # another Region.
        clients = stage_clients or Clients(None)
    try:
        training = load_metrics(args.metrics, clients)
        validation = load_metrics(args.validation, clients) if args.validation else None
    except errors as error:
        kind = "malformed metrics" if isinstance(error, MetricsError) else "cannot read the metrics"
        print(f"distill report: {kind}: {error}", file=sys.stderr)
        return 2
    for metrics in filter(None, (training, validation)):
        print("\n".join(summary_lines(metrics)))
    if not training.rows:
        print("distill report: nothing to draw yet; no chart written", file=sys.stderr)
        return 1
    try:
        draw_loss_chart(training, validation, args.output)
    except OSError as error:
        print(f"distill report: cannot write {args.output}: {error.strerror or error}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0
