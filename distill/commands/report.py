"""`distill report`: draw a job's loss by step as a PNG and summarize its training (and validation) metrics."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

STDIN = "-"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help=__doc__.split(": ", 1)[1])
    parser.add_argument(
        "metrics",
        metavar="METRICS.csv|s3://...",
        help="the job's step_wise_training_metrics.csv: a local file, an S3 URI, or - for standard input",
    )
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


def run(args: argparse.Namespace) -> int:
    from distill.operations.loss_chart import draw_loss_chart, summary_lines
    from distill.operations.training_metrics_csv import MetricsError, load_metrics

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
        # The default Region of the credentials: S3 redirects a request for a bucket in another Region.
        clients = Clients(None)
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
