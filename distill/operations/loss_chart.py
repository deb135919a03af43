"""The loss report of a distillation job: a PNG chart of its metrics and a text summary.

matplotlib is imported only inside ``draw_loss_chart``: it takes longer to import than the rest of the command, and
the summary needs none of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from distill.operations.training_metrics_csv import Metrics

# 12 by 7 inches at 100 dots per inch: wide enough for a few thousand steps, readable in a pull request.
DEFAULT_WIDTH_PX = 1200
DEFAULT_HEIGHT_PX = 700
DEFAULT_DPI = 100


def draw_loss_chart(
    training: Metrics,
    validation: Metrics | None,
    path: str | Path,
    *,
    width_px: int = DEFAULT_WIDTH_PX,
    height_px: int = DEFAULT_HEIGHT_PX,
    dpi: int = DEFAULT_DPI,
) -> None:
    """Write a PNG of the loss by step (validation too, when given), with a dashed line where each epoch starts.

    The figure is drawn on an Agg canvas of its own, without pyplot, so no display and no global state is involved,
    and without a tight bounding box, so the image is exactly ``width_px`` by ``height_px``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    axes.plot([row.step for row in training.rows], [row.loss for row in training.rows], label="training loss")
    if validation is not None and validation.rows:
        axes.plot(
            [row.step for row in validation.rows],
            [row.loss for row in validation.rows],
            marker="o",
            label="validation loss",
        )
    for index, start in enumerate(training.epoch_starts()):
        axes.axvline(
            start.step, color="grey", linestyle="--", linewidth=0.8, label="epoch start" if not index else None
        )
        axes.annotate(
            f"epoch {start.epoch}",
            (start.step, 1),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12),
            textcoords="offset points",
            color="grey",
        )
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.set_title(f"Loss by step: {Path(training.source).name}")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.savefig(path, format="png", dpi=dpi)


def summary_lines(metrics: Metrics) -> Iterable[str]:
    """A few lines on one metrics file, for a terminal."""
    summary = metrics.summary()
    if summary is None:
        yield str(metrics.no_metrics_reason)
        return
    yield f"{metrics.kind} metrics: {metrics.source}"
    yield (
        f"  {summary.steps:,} steps ({summary.first_step} to {summary.last_step}) over {summary.epochs} "
        f"epoch{'' if summary.epochs == 1 else 's'}"
    )
    yield (
        f"  loss: first {summary.first_loss:.4f}, final {summary.final_loss:.4f}, lowest {summary.min_loss:.4f} at "
        f"step {summary.min_loss_step}; mean over the final epoch {summary.final_epoch_mean_loss:.4f}"
    )
    if metrics.partial_line is not None:
        yield (
            f"  line {metrics.partial_line} has no line ending, so it may be unfinished (the job still writing the "
            "file); it was left out"
        )
