"""Bedrock's metrics CSVs: typed rows, a summary, "no metrics yet" for empty files, and exact messages for bad ones."""

from __future__ import annotations

import io
import sys

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from distill.operations.status import Clients
from distill.operations.training_metrics_csv import MetricsError, MetricsRow, load_metrics, read_metrics, split_s3_uri
from tests.conftest import FIXTURES

METRICS = FIXTURES / "metrics"
URI = "s3://sandbox-distillation-fou-storagejoboutput-7g8h9i0j1k2l/distillation-output/model-customization-job-k3x9q2w7e5r1/training_artifacts/step_wise_training_metrics.csv"


def read(name: str):
    return load_metrics(str(METRICS / name), Clients(None))


def lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def test_a_training_file_gives_typed_rows_and_a_summary():
    metrics = read("step_wise_training_metrics.csv")
    assert metrics.kind == "training"
    assert metrics.rows[0] == MetricsRow(step=0, epoch=1, loss=2.3, perplexity=9.974182)
    assert len(metrics.rows) == 45
    summary = metrics.summary()
    assert (summary.steps, summary.first_step, summary.last_step, summary.epochs, summary.last_epoch) == (
        45,
        0,
        44,
        3,
        3,
    )
    assert (summary.first_loss, summary.final_loss) == (2.3, 0.342156)
    assert (summary.min_loss, summary.min_loss_step) == (0.336533, 43)
    assert summary.final_epoch_mean_loss == pytest.approx(sum(row.loss for row in metrics.rows[30:]) / 15)
    assert [row.step for row in metrics.epoch_starts()] == [15, 30]
    assert metrics.partial_line is None


def test_perplexity_is_optional():
    metrics = read("training_loss_only.csv")
    assert [row.perplexity for row in metrics.rows] == [None] * 6
    assert metrics.summary().steps == 6


def test_a_validation_file_with_spaces_after_the_commas():
    metrics = read("validation_metrics.csv")
    assert metrics.kind == "validation"
    assert [(row.step, row.epoch, row.loss) for row in metrics.rows] == [(14, 1, 0.71), (29, 2, 0.52), (44, 3, 0.47)]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.csv", "no metrics yet: the file is empty"),
        ("header_only.csv", "no metrics yet: the file holds only its header (no step has been logged)"),
    ],
)
def test_an_empty_file_means_no_metrics_yet(name, reason):
    metrics = read(name)
    assert metrics.rows == ()
    assert metrics.summary() is None
    assert metrics.no_metrics_reason == f"{METRICS / name}: {reason}"


def test_an_unfinished_last_line_is_left_out_and_reported():
    metrics = read("partial_last_line.csv")
    assert len(metrics.rows) == 12
    assert metrics.partial_line == 14
    assert metrics.summary().last_step == 11


def test_an_unfinished_header_is_no_metrics_yet():
    metrics = read_metrics(["step_number,epoch_nu"], "m.csv")
    assert (metrics.rows, metrics.partial_line, metrics.loss_column) == ((), 1, None)
    assert metrics.no_metrics_reason == "m.csv: no metrics yet: its header is still being written"


def test_a_last_line_without_a_line_ending_is_left_out_even_when_it_parses():
    """``3,0,1.`` reads as a loss of 1.0, but the job may be about to write ``1.25``: no line ending, no row."""
    metrics = read_metrics(lines("step_number,epoch_number,training_loss\n0,1,2.5\n1,1,2.25\n3,0,1."), "m.csv")
    assert [row.loss for row in metrics.rows] == [2.5, 2.25]
    assert metrics.partial_line == 4


def test_rows_come_in_step_order_whatever_the_order_of_the_file():
    metrics = read_metrics(lines("step_number,epoch_number,training_loss\n3,1,0.5\n1,1,0.9\n2,1,0.7\n"), "m.csv")
    assert [row.step for row in metrics.rows] == [1, 2, 3]
    summary = metrics.summary()
    assert (summary.first_step, summary.last_step, summary.first_loss, summary.final_loss) == (1, 3, 0.9, 0.5)


def test_standard_input_is_read_for_a_dash(monkeypatch):
    data = (METRICS / "training_loss_only.csv").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))
    metrics = load_metrics("-", Clients(None))
    assert (metrics.source, len(metrics.rows)) == ("<stdin>", 6)


def test_windows_line_endings_a_byte_order_mark_blank_lines_and_unknown_columns_are_accepted():
    text = "\ufeffstep_number,epoch_number,training_loss,learning_rate\r\n0,1,2.5,0.0001\r\n\r\n1.0,1,2.25,0.0001\r\n"
    metrics = read_metrics(lines(text), "m.csv")
    assert [(row.step, row.loss) for row in metrics.rows] == [(0, 2.5), (1, 2.25)]


def test_a_malformed_row_names_the_file_line_value_and_what_is_expected():
    with pytest.raises(MetricsError) as raised:
        read("malformed_loss.csv")
    assert str(raised.value) == (
        f"{METRICS / 'malformed_loss.csv'}:5: training_loss is 'O.912345'; expected a finite number such as 0.8421"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "step,epoch,loss\n0,1,2.5\n",
            "m.csv:1: the header is 'step,epoch,loss'; expected the columns step_number, epoch_number and "
            "training_loss or validation_loss (perplexity optional)",
        ),
        (
            "step_number,epoch_number,training_loss,perplexity\n0,1,2.5,12.18\n1,1,2.4\n2,1,2.3,9.97\n",
            "m.csv:3: 3 fields in '1,1,2.4'; expected 4, one per header column (step_number, epoch_number, "
            "training_loss, perplexity)",
        ),
        (
            "step_number,epoch_number,training_loss\n1.5,1,2.5\n",
            "m.csv:2: step_number is '1.5'; expected a whole number, 0 or more",
        ),
        (
            "step_number,epoch_number,training_loss\n1,-1,2.5\n",
            "m.csv:2: epoch_number is '-1'; expected a whole number, 0 or more",
        ),
        (
            "step_number,epoch_number,training_loss\n1,1,nan\n",
            "m.csv:2: training_loss is 'nan'; expected a finite number such as 0.8421",
        ),
        (
            "step_number,epoch_number,training_loss,perplexity\n1,1,2.5,inf\n",
            "m.csv:2: perplexity is 'inf'; expected a finite number such as 0.8421",
        ),
    ],
)
def test_malformed_files(text, message):
    with pytest.raises(MetricsError) as raised:
        read_metrics(lines(text), "m.csv")
    assert str(raised.value) == message


def test_an_empty_perplexity_value_is_none():
    metrics = read_metrics(lines("step_number,epoch_number,training_loss,perplexity\n0,1,2.5,\n"), "m.csv")
    assert metrics.rows == (MetricsRow(0, 1, 2.5, None),)


def test_a_missing_local_file_names_it():
    with pytest.raises(FileNotFoundError) as raised:
        read("missing.csv")
    assert str(raised.value) == f"{METRICS / 'missing.csv'}: No such file or directory"


def test_a_file_that_is_not_utf8_names_the_byte(tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes(b"step_number,epoch_number,training_loss\n0,1,2\xe9\n")
    with pytest.raises(MetricsError) as raised:
        load_metrics(str(path), Clients(None))
    assert str(raised.value) == f"{path}:2: byte 6 is not UTF-8; expected a metrics CSV, which is ASCII text"


def s3_clients() -> tuple[Clients, Stubber]:
    clients = Clients("us-west-2")
    return clients, Stubber(clients.s3)


def test_reads_an_s3_object():
    clients, s3 = s3_clients()
    body = (METRICS / "training_loss_only.csv").read_bytes()
    bucket, key = split_s3_uri(URI)
    s3.add_response("get_object", {"Body": StreamingBody(io.BytesIO(body), len(body))}, {"Bucket": bucket, "Key": key})
    with s3:
        metrics = load_metrics(URI, clients)
    assert metrics.source == URI
    assert len(metrics.rows) == 6


def test_a_missing_s3_object_is_file_not_found():
    clients, s3 = s3_clients()
    s3.add_client_error("get_object", "NoSuchKey", "The specified key does not exist.", 404)
    with s3, pytest.raises(FileNotFoundError) as raised:
        load_metrics(URI, clients)
    assert str(raised.value) == f"{URI}: no such object"


def test_a_refused_s3_read_says_why():
    clients, s3 = s3_clients()
    s3.add_client_error("get_object", "AccessDenied", "Access Denied", 403)
    with s3, pytest.raises(OSError) as raised:
        load_metrics(URI, clients)
    assert str(raised.value) == (
        f"{URI}: An error occurred (AccessDenied) when calling the GetObject operation: Access Denied"
    )


@pytest.mark.parametrize("uri", ["s3://bucket-only", "s3://", "s3:///key"])
def test_an_s3_uri_without_a_key_is_refused(uri):
    with pytest.raises(ValueError) as raised:
        split_s3_uri(uri)
    assert str(raised.value) == f"{uri!r} is not an S3 object URI; expected s3://BUCKET/KEY"
