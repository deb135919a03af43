"""Bedrock's step-wise training and validation metrics CSVs, read from a file or S3 into typed rows and summarized.

Bedrock writes ``step_wise_training_metrics.csv`` (step_number, epoch_number, training_loss and, for some models,
perplexity) while a job trains, and a validation metrics file (validation_loss instead of training_loss) when there
is validation data. A file is read line by line from any iterable of text lines (an open file, an S3 body's lines),
so a job that is still writing shows its last line half written: a last line without its line ending is dropped and
reported, not an error, and not charted as if it were a real loss.
Any other line that is not a row is an error naming the file, the line, what is wrong and what was expected.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

STEP = "step_number"
EPOCH = "epoch_number"
TRAINING_LOSS = "training_loss"
VALIDATION_LOSS = "validation_loss"
PERPLEXITY = "perplexity"
LOSS_COLUMNS = (TRAINING_LOSS, VALIDATION_LOSS)
STDIN = "-"
STDIN_NAME = "<stdin>"
EXPECTED_HEADER = f"{STEP}, {EPOCH} and {TRAINING_LOSS} or {VALIDATION_LOSS} ({PERPLEXITY} optional)"


class MetricsError(ValueError):
    """A metrics file that is not what Bedrock writes; the message reads ``FILE:LINE: what is wrong; expected``."""


@dataclass(frozen=True)
class MetricsRow:
    """One logged step. ``loss`` is the training or the validation loss, whichever the file holds."""

    step: int
    epoch: int
    loss: float
    perplexity: float | None = None


@dataclass(frozen=True)
class Summary:
    """What a reviewer asks of a loss curve: how long it ran, where it started, where it ended, its best point."""

    steps: int
    first_step: int
    last_step: int
    last_epoch: int
    epochs: int
    first_loss: float
    final_loss: float
    min_loss: float
    min_loss_step: int
    # The final loss of one step is noisy; the mean over the final epoch is the steadier number to compare jobs by.
    final_epoch_mean_loss: float


@dataclass(frozen=True)
class Metrics:
    """A parsed metrics file. ``loss_column`` is None when the file is empty; ``partial_line`` is the number of an
    unfinished last line that was left out (the job is still writing the file)."""

    source: str
    loss_column: str | None
    rows: tuple[MetricsRow, ...]
    partial_line: int | None = None

    @property
    def kind(self) -> str:
        """The file's kind, training or validation, for messages and legends."""
        return (self.loss_column or TRAINING_LOSS).split("_")[0]

    @property
    def no_metrics_reason(self) -> str | None:
        """Why there is nothing to summarize or draw yet, or None when there are rows."""
        if self.rows:
            return None
        if self.loss_column is None:
            state = "its header is still being written" if self.partial_line else "the file is empty"
            return f"{self.source}: no metrics yet: {state}"
        return f"{self.source}: no metrics yet: the file holds only its header (no step has been logged)"

    def summary(self) -> Summary | None:
        if not self.rows:
            return None
        lowest = min(self.rows, key=lambda row: row.loss)
        last = self.rows[-1]
        final_epoch = [row.loss for row in self.rows if row.epoch == last.epoch]
        return Summary(
            steps=len(self.rows),
            first_step=self.rows[0].step,
            last_step=last.step,
            last_epoch=last.epoch,
            epochs=len({row.epoch for row in self.rows}),
            first_loss=self.rows[0].loss,
            final_loss=last.loss,
            min_loss=lowest.loss,
            min_loss_step=lowest.step,
            final_epoch_mean_loss=sum(final_epoch) / len(final_epoch),
        )

    def epoch_starts(self) -> list[MetricsRow]:
        """The first row of every epoch after the first: where a chart marks an epoch boundary."""
        return [row for previous, row in zip(self.rows, self.rows[1:], strict=False) if row.epoch != previous.epoch]


def read_metrics(lines: Iterable[str], source: str) -> Metrics:
    """Parse a metrics CSV from its lines (with their line endings, as a file yields them); raise ``MetricsError``.

    A last line without a line ending is an unfinished write, even when what is there parses (``3,0,1.`` may become
    ``3,0,1.25``): it is left out and its number kept in ``partial_line``. Rows come back in step order, whatever the
    order of the file. Blank lines are skipped. Columns beyond the known ones are ignored.
    """
    columns: dict[str, int] | None = None
    rows: list[MetricsRow] = []
    partial_line = None
    for number, line in enumerate(lines, 1):
        if not line.endswith("\n"):
            partial_line = number if line.strip() else None
            break
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        if columns is None:
            columns = _parse_header(text.lstrip("\ufeff"), source, number)
        else:
            rows.append(_parse_row(text, columns, source, number))
    rows.sort(key=lambda row: row.step)
    return Metrics(source, _loss_column(columns), tuple(rows), partial_line=partial_line)


def load_metrics(location: str, clients: Any) -> Metrics:
    """A metrics file from a local path, ``-`` (standard input) or an ``s3://`` URI, read with ``clients.s3`` (a boto3
    S3 client, touched only for an S3 URI, so reading a local file needs no client).

    Raises ``OSError`` naming the location when it cannot be read (``FileNotFoundError`` for a missing file or
    object), ``ValueError`` for a malformed S3 URI, and ``MetricsError`` for a malformed file.
    """
    if location.startswith("s3://"):
        return read_metrics(_decoded(_s3_lines(location, clients.s3), location), location)
    if location == STDIN:
        return read_metrics(_decoded(sys.stdin.buffer, STDIN_NAME), STDIN_NAME)
    try:
        with open(location, "rb") as lines:
            return read_metrics(_decoded(lines, location), location)
    except OSError as error:
        raise type(error)(f"{location}: {error.strerror or error}") from None


def _s3_lines(uri: str, s3: Any) -> list[bytes]:
    """The object's lines with their endings (a metrics file is small: one short line a step)."""
    bucket, key = split_s3_uri(uri)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        raise FileNotFoundError(f"{uri}: no such object") from None
    except s3.exceptions.ClientError as error:
        raise OSError(f"{uri}: {error}") from None
    return body.splitlines(keepends=True)


def _decoded(lines: Iterable[bytes], source: str) -> Iterator[str]:
    """Each line as text, so that a byte that is not UTF-8 is reported with its line."""
    for number, line in enumerate(lines, 1):
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as error:
            raise MetricsError(
                f"{source}:{number}: byte {error.start + 1} is not UTF-8; expected a metrics CSV, which is ASCII text"
            ) from None


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` as (bucket, key); raises ``ValueError`` naming the URI and the expected form."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not key:
        raise ValueError(f"{uri!r} is not an S3 object URI; expected s3://BUCKET/KEY")
    return bucket, key


def _loss_column(columns: dict[str, int] | None) -> str | None:
    if columns is None:
        return None
    return next(name for name in LOSS_COLUMNS if name in columns)


def _parse_header(text: str, source: str, number: int) -> dict[str, int]:
    names = [name.strip().strip('"') for name in text.split(",")]
    columns = {name: index for index, name in enumerate(names)}
    losses = [name for name in LOSS_COLUMNS if name in columns]
    if STEP not in columns or EPOCH not in columns or len(losses) != 1:
        raise MetricsError(f"{source}:{number}: the header is {text!r}; expected the columns {EXPECTED_HEADER}")
    return columns


def _parse_row(text: str, columns: dict[str, int], source: str, number: int) -> MetricsRow:
    fields = [field.strip() for field in text.split(",")]
    if len(fields) != len(columns):
        raise MetricsError(
            f"{source}:{number}: {len(fields)} fields in {text!r}; expected {len(columns)}, one per header column "
            f"({', '.join(columns)})"
        )
    where = f"{source}:{number}"
    loss_column = _loss_column(columns)
    perplexity = fields[columns[PERPLEXITY]] if PERPLEXITY in columns else ""
    return MetricsRow(
        step=_whole_number(fields[columns[STEP]], STEP, where),
        epoch=_whole_number(fields[columns[EPOCH]], EPOCH, where),
        loss=_finite_number(fields[columns[loss_column]], loss_column, where),
        perplexity=_finite_number(perplexity, PERPLEXITY, where) if perplexity else None,
    )


def _whole_number(value: str, column: str, where: str) -> int:
    """A count such as 12, also as 12.0 (a writer that formats every number as a float)."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (number >= 0 and number.is_integer()):
        raise MetricsError(f"{where}: {column} is {value!r}; expected a whole number, 0 or more")
    return int(number)


def _finite_number(value: str, column: str, where: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise MetricsError(f"{where}: {column} is {value!r}; expected a finite number such as 0.8421")
    return number
