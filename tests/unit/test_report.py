"""`distill report`: a PNG of the loss of the exact size asked for, a text summary, and clear failures."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from distill.cli import main
from distill.operations import status
from distill.operations.loss_chart import DEFAULT_HEIGHT_PX, DEFAULT_WIDTH_PX, draw_loss_chart
from distill.operations.status import Clients
from distill.operations.training_metrics_csv import load_metrics
from tests.conftest import FIXTURES, ROOT

METRICS = FIXTURES / "metrics"
TRAINING = str(METRICS / "step_wise_training_metrics.csv")
VALIDATION = str(METRICS / "validation_metrics.csv")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which the PNG format puts first, right after the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    length, chunk_type = struct.unpack(">I4s", data[8:16])
    assert (length, chunk_type) == (13, b"IHDR")
    return struct.unpack(">II", data[16:24])


def test_the_chart_is_a_png_of_the_size_asked_for(tmp_path):
    training = load_metrics(TRAINING, Clients(None))
    validation = load_metrics(VALIDATION, Clients(None))
    path = tmp_path / "loss.png"
    draw_loss_chart(training, validation, path, width_px=640, height_px=360, dpi=80)
    assert png_size(path) == (640, 360)


def test_report_prints_a_summary_and_writes_the_default_size(tmp_path, capsys):
    path = tmp_path / "loss.png"
    assert main(["report", TRAINING, "--validation", VALIDATION, "-o", str(path)]) == 0
    assert png_size(path) == (DEFAULT_WIDTH_PX, DEFAULT_HEIGHT_PX)
    assert capsys.readouterr().out.splitlines() == [
        f"training metrics: {TRAINING}",
        "  45 steps (0 to 44) over 3 epochs",
        "  loss: first 2.3000, final 0.3422, lowest 0.3365 at step 43; mean over the final epoch 0.3858",
        f"validation metrics: {VALIDATION}",
        "  3 steps (14 to 44) over 3 epochs",
        "  loss: first 0.7100, final 0.4700, lowest 0.4700 at step 44; mean over the final epoch 0.4700",
        f"wrote {path}",
    ]


def test_an_unfinished_last_line_is_drawn_without_it_and_said(tmp_path, capsys):
    assert main(["report", str(METRICS / "partial_last_line.csv"), "-o", str(tmp_path / "loss.png")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "  12 steps (0 to 11) over 1 epoch"
    assert out[3] == (
        "  line 14 has no line ending, so it may be unfinished (the job still writing the file); it was left out"
    )


def test_steps_out_of_order_are_summarized_in_step_order(tmp_path, capsys):
    path = tmp_path / "metrics.csv"
    path.write_text("step_number,epoch_number,training_loss\n3,1,0.5\n1,1,0.9\n2,1,0.7\n")
    assert main(["report", str(path), "-o", str(tmp_path / "loss.png")]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "  3 steps (1 to 3) over 1 epoch"


def test_an_output_name_that_is_not_png_is_refused_before_anything_is_read(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["report", TRAINING, "-o", str(tmp_path / "loss.txt")])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.endswith(
        f"argument -o/--output: '{tmp_path / 'loss.txt'}' does not end in .png; the chart is a PNG image, so give a "
        "name such as loss.png\n"
    )
    assert not (tmp_path / "loss.txt").exists()


def test_metrics_from_standard_input(tmp_path, monkeypatch, capsys):
    data = (METRICS / "training_loss_only.csv").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))
    assert main(["report", "-", "-o", str(tmp_path / "loss.png")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "training metrics: <stdin>"


def test_no_metrics_yet_exits_1_without_a_chart(tmp_path, capsys):
    path = tmp_path / "loss.png"
    assert main(["report", str(METRICS / "header_only.csv"), "-o", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == (
        f"{METRICS / 'header_only.csv'}: no metrics yet: the file holds only its header (no step has been logged)\n"
    )
    assert captured.err == "distill report: nothing to draw yet; no chart written\n"
    assert not path.exists()


def test_a_malformed_file_exits_2_naming_the_line(tmp_path, capsys):
    assert main(["report", str(METRICS / "malformed_loss.csv"), "-o", str(tmp_path / "loss.png")]) == 2
    assert capsys.readouterr().err == (
        f"distill report: malformed metrics: {METRICS / 'malformed_loss.csv'}:5: training_loss is 'O.912345'; "
        "expected a finite number such as 0.8421\n"
    )


def test_a_missing_file_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing.csv")]) == 2
    assert capsys.readouterr().err == (
        f"distill report: cannot read the metrics: {tmp_path / 'missing.csv'}: No such file or directory\n"
    )


def test_an_unwritable_output_exits_2(tmp_path, capsys):
    assert main(["report", TRAINING, "-o", str(tmp_path / "no-such-folder" / "loss.png")]) == 2
    assert capsys.readouterr().err == (
        f"distill report: cannot write {tmp_path / 'no-such-folder' / 'loss.png'}: No such file or directory\n"
    )


def test_reads_the_metrics_from_s3(tmp_path, capsys, monkeypatch):
    uri = "s3://sandbox-distillation-fou-storagejoboutput-7g8h9i0j1k2l/distillation-output/model-customization-job-k3x9q2w7e5r1/training_artifacts/step_wise_training_metrics.csv"
    clients = Clients("us-west-2")
    body = (METRICS / "training_loss_only.csv").read_bytes()
    with Stubber(clients.s3) as s3:
        s3.add_response(
            "get_object",
            {"Body": StreamingBody(io.BytesIO(body), len(body))},
            {
                "Bucket": "sandbox-distillation-fou-storagejoboutput-7g8h9i0j1k2l",
                "Key": "distillation-output/model-customization-job-k3x9q2w7e5r1/training_artifacts/"
                "step_wise_training_metrics.csv",
            },
        )
        monkeypatch.setattr(status, "Clients", lambda region: clients)
        assert main(["report", uri, "-o", str(tmp_path / "loss.png")]) == 0
    assert f"training metrics: {uri}" in capsys.readouterr().out


def test_the_command_starts_without_importing_matplotlib():
    """The chart is drawn rarely; every other `distill` command should not pay for importing matplotlib."""
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, distill.cli; print('matplotlib' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert imported.stdout.strip() == "False"


# --- --stage: the metrics of a model's current job -----------------------------------------------------------------

JOB_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/k3x9q2w7e5r1"
)
OUTPUT_BUCKET = "fleet-distillation-foundatio-storagejoboutput-7g8h9i0j1k2l"
METRICS_KEY = (
    "distillation-output/model-customization-job-k3x9q2w7e5r1/training_artifacts/step_wise_training_metrics.csv"
)
LLAMA = {
    "teacher": "meta.llama3-1-405b-instruct-v1:0",
    "student": "meta.llama3-1-8b-instruct-v1:0:128k",
    "trainingData": {"s3Uri": "s3://example-datasets/support/train.jsonl"},
}


def write_cdk_json(tmp_path) -> str:
    stages = {
        "fleet": {
            "region": "us-west-2",
            "models": {"support-assistant": {"distillation": LLAMA}, "summarizer": {"distillation": LLAMA}},
        },
        "logs": {"region": "us-west-2"},
    }
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"context": {"stages": stages}}))
    return str(path)


def stubbed_job(clients: Clients, ssm: Stubber, bedrock: Stubber, model: str) -> None:
    """The model's job as its training stack publishes it (SSM) and Bedrock describes it."""
    name = f"/bedrock-distillation/fleet/{model}/job-arn"
    ssm.add_response("get_parameter", {"Parameter": {"Name": name, "Type": "String", "Value": JOB_ARN}}, {"Name": name})
    bedrock.add_response(
        "get_model_customization_job",
        {
            "jobArn": JOB_ARN,
            "jobName": f"fleet-{model}-distill-2e9d4c1b7a30",
            "outputModelName": f"fleet-{model}-2e9d4c1b7a30",
            "roleArn": "arn:aws:iam::123456789012:role/fleet-distillation-service-role",
            "status": "Completed",
            "creationTime": datetime(2026, 11, 28, 6, 40, tzinfo=UTC),
            "baseModelArn": "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k",
            "trainingDataConfig": {"s3Uri": "s3://example-datasets/support/train.jsonl"},
            "validationDataConfig": {"validators": []},
            "outputDataConfig": {"s3Uri": f"s3://{OUTPUT_BUCKET}/distillation-output/"},
        },
        {"jobIdentifier": JOB_ARN},
    )


def test_stage_and_model_read_the_metrics_of_the_models_current_job(tmp_path, capsys, monkeypatch):
    clients = Clients("us-west-2")
    body = (METRICS / "training_loss_only.csv").read_bytes()
    with Stubber(clients.ssm) as ssm, Stubber(clients.bedrock) as bedrock, Stubber(clients.s3) as s3:
        stubbed_job(clients, ssm, bedrock, "summarizer")
        s3.add_response(
            "get_object",
            {"Body": StreamingBody(io.BytesIO(body), len(body))},
            {"Bucket": OUTPUT_BUCKET, "Key": METRICS_KEY},
        )
        monkeypatch.setattr(status, "Clients", lambda region: clients)
        arguments = ["--stage", "fleet", "--model", "summarizer", "--cdk-json", write_cdk_json(tmp_path)]
        assert main(["report", *arguments, "-o", str(tmp_path / "loss.png")]) == 0
        for stub in (ssm, bedrock, s3):
            stub.assert_no_pending_responses()
    uri = f"s3://{OUTPUT_BUCKET}/{METRICS_KEY}"
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"job fleet-summarizer-distill-2e9d4c1b7a30 (Completed): {uri}"
    assert f"training metrics: {uri}" in out
    assert png_size(tmp_path / "loss.png") == (DEFAULT_WIDTH_PX, DEFAULT_HEIGHT_PX)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "give the metrics (a file, an S3 URI or -) or --stage NAME [--model NAME], one of them"),
        (
            [TRAINING, "--stage", "fleet"],
            "give the metrics (a file, an S3 URI or -) or --stage NAME [--model NAME], one of them",
        ),
        ([TRAINING, "--model", "summarizer"], "--model names a model of a stage; give --stage with it"),
        (["--stage", "fleet"], "stage fleet has 2 models; name one with --model: support-assistant, summarizer"),
        (
            ["--stage", "fleet", "--model", "tickets"],
            'stage fleet has no model "tickets"; its models: support-assistant, summarizer',
        ),
        (
            ["--stage", "logs"],
            "stage logs has no models (context.stages.logs.models): it deploys its foundation only, so it has no job "
            "or served model",
        ),
    ],
)
def test_the_metrics_are_named_once_and_a_model_the_stage_lacks_exits_2(tmp_path, capsys, arguments, message):
    assert main(["report", *arguments, "--cdk-json", write_cdk_json(tmp_path)]) == 2
    assert capsys.readouterr().err == f"distill report: {message}\n"
