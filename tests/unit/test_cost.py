"""`distill cost`: the estimate of each model of a stage from its dataset and the price table, figures checked by hand,
and the stage's total."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from datetime import date
from pathlib import Path

import pytest

from distill.cli import main
from distill.config.stages import StageConfig, load_stages
from distill.operations import cost, pricing
from tests.conftest import ROOT, project_context

SHIPPED_DATASET = "datasets/sample-sec-filings.jsonl"
SOURCE = "https://example.test/prices"
# A pair the catalog offers in us-west-2, both ACTIVE; Llama students train for 1 to 10 epochs (see the table).
TEACHER = "meta.llama3-1-70b-instruct-v1:0"
STUDENT = "meta.llama3-1-8b-instruct-v1:0:128k"


def figure(usd: float | None) -> dict:
    return {"usd": usd, "source": SOURCE, "read": "2026-11-30"}


def table_with(**figures: float | None) -> pricing.PriceTable:
    """The packaged table's shape with one teacher and one student in us-west-2 priced as given."""
    data = copy.deepcopy(pricing.packaged().data)
    items = {item: figure(usd) for item, usd in figures.items()}
    data["regions"] = {
        "us-west-2": {
            "meta.llama3-1-70b-instruct-v1:0": {k: v for k, v in items.items() if k.startswith("onDemand")},
            "meta.llama3-1-8b-instruct-v1:0": {k: v for k, v in items.items() if not k.startswith("onDemand")},
        }
    }
    return pricing.PriceTable(data)


FIXED = {
    "onDemandInput": 0.001,
    "onDemandOutput": 0.002,
    "training": 0.004,
    "storage": 2.0,
    "provisionedNoCommit": 10.0,
    "provisionedOneMonth": 8.0,
    "provisionedSixMonths": 6.0,
}


def model_settings(serving: dict | None = None, training_data: dict | None = None, **distillation) -> dict:
    return {
        "distillation": {
            "teacher": TEACHER,
            "student": STUDENT,
            "maxResponseLength": 1000,
            "trainingData": training_data or {"file": SHIPPED_DATASET},
            **distillation,
        },
        "serving": serving or {"mode": "provisioned", "modelUnits": 2},
    }


def stage(serving: dict | None = None, training_data: dict | None = None, **distillation) -> StageConfig:
    """Stage ``hand`` with one model, ``assistant``, of these settings."""
    settings = {"region": "us-west-2", "models": {"assistant": model_settings(serving, training_data, **distillation)}}
    return load_stages({"hand": settings}, ROOT)["hand"]


def estimate(of: StageConfig, prices: pricing.PriceTable, **options) -> cost.Estimate:
    """The estimate of the stage's only model."""
    (model,) = of.models.values()
    return cost.estimate(of, model, prices, **options)


def test_the_shipped_dataset_priced_by_hand():
    found = estimate(stage(), table_with(**FIXED))

    # The dataset: 200 records, each a system prompt, one user turn and one assistant answer. Per record,
    # ceil(characters of system + user / 4) summed gives 228,958 prompt tokens, the largest 1,529; the answers,
    # ceil(characters / 4) each (the longest 941, under maxResponseLength 1,000), sum to 88,525.
    assert (found.dataset.records, found.dataset.records_with_answer) == (200, 200)
    assert found.dataset.prompt_tokens == 228_958
    assert found.dataset.answer_tokens == 88_525
    assert found.dataset.largest_prompt_tokens == 1_529

    # Teacher, low: 228,958 / 1,000 x $0.001 + 88,525 / 1,000 x $0.002 = 0.228958 + 0.17705 = $0.406008.
    # Teacher, high: 15,000 x (1,529 / 1,000 x $0.001 + 1,000 / 1,000 x $0.002) = 15,000 x 0.003529 = $52.935.
    teacher = found.line("teacherGeneration").amount
    assert teacher.low == pytest.approx(0.406008)
    assert teacher.high == pytest.approx(52.935)
    # Training, low: (228,958 + 88,525) / 1,000 x $0.004 x 1 epoch = 317.483 x 0.004 = $1.269932.
    # Training, high: 15,000 x (1,529 + 1,000) / 1,000 x $0.004 x 10 epochs (Llama: 1 to 10) = $1,517.40.
    training = found.line("training").amount
    assert training.low == pytest.approx(1.269932)
    assert training.high == pytest.approx(1517.4)
    # Storage: one model x $2.00 a month.
    assert found.line("storage").amount == cost.Amount(2.0, 2.0)
    # Serving, 2 model units without commitment at $10 per unit-hour: $20 an hour, $480 a day, x 730 = $14,600.
    assert found.line("servingHour").amount.low == pytest.approx(20.0)
    assert found.line("servingDay").amount.low == pytest.approx(480.0)
    assert found.line("servingMonth").amount.low == pytest.approx(14_600.0)
    # Terms: 2 x $8 x 744 hours = $11,904; 2 x $6 x 4,416 hours = $52,992.
    assert found.line("servingTermOneMonth").amount.low == pytest.approx(11_904.0)
    assert found.line("servingTermSixMonths").amount.low == pytest.approx(52_992.0)
    # The job: teacher + training = 0.406008 + 1.269932 = $1.67594 to 52.935 + 1,517.40 = $1,570.335.
    assert found.job.low == pytest.approx(1.67594)
    assert found.job.high == pytest.approx(1570.335)
    # The first month: the job + storage + a month of serving = $14,603.67594 to $16,172.335.
    assert found.first_month.low == pytest.approx(14_603.67594)
    assert found.first_month.high == pytest.approx(16_172.335)


def test_a_missing_price_makes_its_line_and_every_total_that_needs_it_unknown():
    found = estimate(stage(), table_with(**{**FIXED, "training": None}))
    training = found.line("training")
    assert training.amount == cost.UNKNOWN
    assert training.unknown_because == "no training price"
    assert found.job == cost.UNKNOWN and found.first_month == cost.UNKNOWN
    assert found.line("teacherGeneration").amount.known
    assert found.line("servingMonth").amount.low == pytest.approx(14_600.0)


def test_a_model_the_table_does_not_list_is_unknown_with_where_it_looked():
    price = pricing.packaged().price("eu-west-1", "meta.llama3-1-8b-instruct-v1:0:128k", "storage")
    assert price.usd is None
    assert (
        price.note == "distill/data/pricing.json has no storage figure for meta.llama3-1-8b-instruct-v1:0 in eu-west-1"
    )


def test_ids_profiles_and_arns_find_the_same_figure():
    table = pricing.packaged()
    for model in (
        "amazon.nova-premier-v1:0",
        "us.amazon.nova-premier-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-premier-v1:0",
        "arn:aws:bedrock:us-east-1:111111111111:inference-profile/us.amazon.nova-premier-v1:0",
    ):
        assert table.price("us-east-1", model, "onDemandInput").usd == 0.0025, model


def test_a_dataset_in_s3_is_unknown_unless_a_local_copy_is_given():
    remote = stage(training_data={"s3Uri": "s3://example-datasets/train.jsonl"})
    found = estimate(remote, table_with(**FIXED))
    assert found.line("teacherGeneration").unknown_because == "no local dataset"
    assert "pass --dataset FILE" in found.notes[0]
    copied = estimate(remote, table_with(**FIXED), dataset_path=ROOT / SHIPPED_DATASET)
    assert copied.line("teacherGeneration").amount.low == pytest.approx(0.406008)


def test_a_committed_stage_bills_its_month_at_the_committed_price():
    committed = stage(serving={"modelUnits": 2, "commitment": "OneMonth", "acknowledgeCommitment": True})
    found = estimate(committed, table_with(**FIXED))
    # 2 model units x $8 x 730 hours = $11,680 a month; the term line is the model's own commitment.
    assert found.line("servingMonth").amount.low == pytest.approx(11_680.0)
    assert found.line("servingTermOneMonth").label == "Serving, OneMonth term (this model's commitment)"


def test_a_prompt_only_record_is_answered_at_full_length(tmp_path):
    record = {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [{"role": "user", "content": [{"text": "x" * 9}]}],
    }
    path = tmp_path / "prompts.jsonl"
    path.write_text(json.dumps(record) + "\n")
    tokens = cost.count_dataset(path, max_response_length=500)
    # ceil(9 / 4) = 3 prompt tokens; no answer, so maxResponseLength.
    assert (tokens.prompt_tokens, tokens.answer_tokens, tokens.records_with_answer) == (3, 500, 0)


def run_cost(capsys, *args: str) -> tuple[int, str, str]:
    status = main(["cost", "--cdk-json", str(ROOT / "cdk.json"), *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


JOB_AND_STORAGE = {"teacherGeneration", "training", "storage"}
# A Provisioned Throughput bills by the hour and by the term; an on-demand deployment by the token served.
BILLED_ITEMS = JOB_AND_STORAGE | {
    "servingHour",
    "servingDay",
    "servingMonth",
    "servingTermOneMonth",
    "servingTermSixMonths",
}
ON_DEMAND_ITEMS = JOB_AND_STORAGE | {"servingTokens"}


@pytest.mark.parametrize(
    ("name", "items"),
    [("dev", ON_DEMAND_ITEMS), ("prod", BILLED_ITEMS)],
    ids=["dev-on-demand", "prod-provisioned"],
)
def test_a_shipped_stage_as_json_lists_every_billed_item_with_usd_or_unknown_source_and_date(capsys, name, items):
    status, out, _ = run_cost(capsys, "--stage", name, "--format", "json")
    assert status == 0
    report = json.loads(out)
    configured = project_context()["stages"][name]["models"]
    assert [model["model"] for model in report["models"]] == list(configured)
    for model in report["models"]:
        assert model["serving"]["mode"] == configured[model["model"]]["serving"]["mode"]
        assert {item["item"] for item in model["items"]} == items
        for item in model["items"]:
            for bound in ("low", "high"):
                assert isinstance(item["usd"][bound], float) or item["usd"][bound] == "unknown", item
            assert item["prices"], item
            for price in item["prices"]:
                assert isinstance(price["usd"], float) or price["usd"] == "unknown"
                assert price["source"].startswith("https://")
                assert len(price["priceDate"]) == 10
        assert set(model["totals"]) == {"job", "firstMonth"}
    assert set(report["totals"]) == {"jobs", "firstMonth"}
    assert report["tokenEstimate"] == {
        "charactersPerToken": 4,
        "band": [0.62, 1.33],
        "source": cost.TOKEN_ESTIMATE_SOURCE,
    }


@pytest.mark.parametrize("name", ["sandbox", "dev", "prod"])
def test_the_table_has_an_entry_for_every_figure_a_shipped_stage_needs(name):
    """Each figure is in the table, with its source and date, even where no source gave it (usd null): none falls
    through to "the table has no figure"."""
    stage = load_stages(project_context()["stages"])[name]
    found = cost.estimate_stage(stage, stage.models.values(), pricing.packaged())
    prices = [price for model in found.models for line in model.lines for price in line.prices]
    assert prices
    assert [
        price.note for price in prices if price.note and price.note.startswith("distill/data/pricing.json has")
    ] == []
    for price in prices:
        assert price.source.startswith("https://"), price
        assert date.fromisoformat(price.read) and date.fromisoformat(price.date), price


def write_stage(tmp_path: Path, prices: pricing.PriceTable) -> list[str]:
    cdk_json = tmp_path / "cdk.json"
    one = model_settings(training_data={"file": str(ROOT / SHIPPED_DATASET)})
    # The same model twice, one of them trained from an S3 dataset, for the stage's total.
    remote = model_settings(training_data={"s3Uri": "s3://example-datasets/train.jsonl"})
    stages = {
        "hand": {"region": "us-west-2", "models": {"assistant": one}},
        "pair": {"region": "us-west-2", "models": {"assistant": one, "summarizer": one}},
        "remote": {"region": "us-west-2", "models": {"assistant": one, "summarizer": remote}},
    }
    cdk_json.write_text(json.dumps({"context": {"stages": stages}}))
    table = tmp_path / "pricing.json"
    pricing.save(prices, table)
    return ["--cdk-json", str(cdk_json), "--prices", str(table), "--stage", "hand"]


def test_text_shows_each_line_its_basis_and_the_prices(tmp_path, capsys):
    assert main(["cost", *write_stage(tmp_path, table_with(**FIXED))]) == 0
    out = capsys.readouterr().out
    assert "Teacher generation (the job)                     $0.41          $52.94" in out
    assert "Total, the job                                   $1.68       $1,570.34" in out
    assert f"  $0.004 per 1,000 tokens trained ({SOURCE}, 2026-11-30)" in out


def test_markdown_is_a_table_for_a_pull_request(tmp_path, capsys):
    assert main(["cost", *write_stage(tmp_path, table_with(**{**FIXED, "storage": None})), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = lines.index("| item | low (USD) | high (USD) | prices (source, date) |")
    assert lines[header + 1] == "|---|---:|---:|---|"
    rows = [line for line in lines[header + 2 :] if line.startswith("|")]
    assert len(rows) == len(BILLED_ITEMS) + 2
    assert all(row.count("|") == 5 for row in rows)
    storage = f"unknown per model-month of storage ({SOURCE}, 2026-11-30)"
    assert f"| Custom model storage, per month | unknown | unknown | {storage} |" in rows
    assert "| **Total, the first month** | **unknown** | **unknown** | |" in rows
    assert (
        "- Custom model storage, per month: 1 custom model x storage price per month. Unknown: no storage price."
        in lines
    )


def test_an_unknown_stage_or_an_unreadable_table_exits_2(tmp_path, capsys):
    status, _, err = run_cost(capsys, "--stage", "staging")
    assert status == 2
    assert f'distill cost: {ROOT / "cdk.json"} has no stage "staging"; stages: sandbox, dev, prod' in err
    status, _, err = run_cost(capsys, "--stage", "dev", "--prices", str(tmp_path / "missing.json"))
    assert status == 2
    assert f"distill cost: cannot read the price table {tmp_path / 'missing.json'}" in err


@pytest.mark.skipif(
    not (ROOT / ".venv" / ".installed").exists() or not (ROOT / "node_modules" / ".installed").exists(),
    reason="make plan needs the environment `make setup` builds",
)
def test_make_plan_offline_says_the_diff_needs_credentials_and_shows_the_cost(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    done = subprocess.run(
        ["make", "--no-print-directory", "plan", "STAGE=dev"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "== cdk diff dev: skipped, it needs AWS credentials (none found) to read the deployed stacks"
    assert lines[1] == "== distill cost --stage dev"
    assert any(line.startswith("Teacher generation (the job)") for line in lines)
    assert (
        "make plan needs STAGE=<name>"
        in subprocess.run(
            ["make", "--no-print-directory", "plan"], cwd=ROOT, env=env, capture_output=True, text=True
        ).stdout
    )


def test_a_foundation_only_stage_bills_nothing_the_estimate_covers():
    logs = load_stages({"logs": {"region": "us-west-2"}})["logs"]
    (found,) = cost.estimate_stage(logs, logs.models.values(), table_with(**FIXED)).models
    assert (found.model, found.lines) == (None, ())
    assert found.notes == ("the stage deploys its foundation only: no job, no model and no serving to bill",)


def test_an_on_demand_deployment_lists_its_token_prices_and_no_hourly_bill():
    nova = {
        "region": "us-east-1",
        "models": {
            "assistant": {
                "distillation": {
                    "teacher": "amazon.nova-pro-v1:0",
                    "student": "amazon.nova-lite-v1:0:300k",
                    "trainingData": {"file": SHIPPED_DATASET},
                },
                "serving": {"mode": "onDemand"},
            }
        },
    }
    found = estimate(load_stages({"nova": nova}, ROOT)["nova"], pricing.packaged())
    (serving,) = [line for line in found.lines if line.key.startswith("serving")]
    assert serving.key == "servingTokens"
    assert serving.unknown_because == "billed by traffic, which the estimate does not know"
    assert [price.item for price in serving.prices] == ["customModelOnDemandInput", "customModelOnDemandOutput"]
    assert serving.prices[0].usage_type == "USE1-NovaLite-input-tokens-custom-model"


def test_on_demand_serving_has_no_model_units(capsys):
    status, out, _ = run_cost(capsys, "--stage", "dev", "--model", "ticket-classifier")
    assert status == 0
    assert out.splitlines()[3:6] == [
        "Model ticket-classifier",
        "Teacher amazon.nova-pro-v1:0, student amazon.nova-micro-v1:0:128k, maxResponseLength 1,000",
        "Serving onDemand",
    ]
    status, out, _ = run_cost(capsys, "--stage", "dev", "--format", "json")
    assert [model["serving"] for model in json.loads(out)["models"]] == 2 * [
        {"mode": "onDemand", "modelUnits": None, "commitment": "none"}
    ]


def test_a_provisioned_throughput_shows_its_model_units(capsys):
    _, out, _ = run_cost(capsys, "--stage", "prod")
    assert "Serving provisioned, 1 model unit, commitment none" in out.splitlines()


def test_a_price_read_from_a_copy_names_it_mid_sentence(capsys):
    _, out, _ = run_cost(capsys, "--stage", "dev")
    assert (
        "  $0.0008 per 1,000 teacher input tokens (https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonBedrock/"
        "current/us-east-1/index.json, as given by a transcription of the AWS Price List bulk offer AmazonBedrock for "
        "us-east-1, 2026-09-01)"
    ) in out.splitlines()


# --- a stage of several models ------------------------------------------------------------------------------------


def test_a_stage_of_several_models_shows_each_and_the_stages_total(tmp_path, capsys):
    arguments = write_stage(tmp_path, table_with(**FIXED))
    assert main(["cost", *arguments[:-1], "pair"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line for line in out if line.startswith("Model ")] == ["Model assistant", "Model summarizer"]
    rows = [line.rsplit(maxsplit=2) for line in out if line.startswith(("Total", "Stage total"))]
    # Each model's job is the hand-priced $1.67594 to $1,570.335; the stage's two, twice that.
    assert rows == [
        ["Total, the job", "$1.68", "$1,570.34"],
        ["Total, the first month", "$14,603.68", "$16,172.33"],
        ["Total, the job", "$1.68", "$1,570.34"],
        ["Total, the first month", "$14,603.68", "$16,172.33"],
        ["Stage total, the 2 jobs", "$3.35", "$3,140.67"],
        ["Stage total, the first month of the 2 models", "$29,207.35", "$32,344.67"],
    ]
    assert main(["cost", *arguments[:-1], "pair", "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out.splitlines()
    assert [line for line in markdown if line.startswith("####")] == ["#### Model assistant", "#### Model summarizer"]
    assert "| **Stage total, the 2 jobs** | **$3.35** | **$3,140.67** |" in markdown
    assert main(["cost", *arguments[:-1], "pair", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [model["model"] for model in report["models"]] == ["assistant", "summarizer"]
    assert report["totals"]["jobs"]["low"] == pytest.approx(2 * 1.67594)
    assert report["totals"]["firstMonth"]["high"] == pytest.approx(2 * 16_172.335)


def test_a_stage_total_is_unknown_while_one_models_job_is(tmp_path, capsys):
    arguments = write_stage(tmp_path, table_with(**FIXED))[:-1]
    assert main(["cost", *arguments, "remote", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["totals"]["jobs"] == {"low": "unknown", "high": "unknown"}
    assert report["models"][0]["totals"]["job"]["low"] == pytest.approx(1.67594)


def test_model_estimates_one_model_and_dataset_stands_in_for_its_data(tmp_path, capsys):
    arguments = write_stage(tmp_path, table_with(**FIXED))[:-1]
    local = str(ROOT / SHIPPED_DATASET)
    assert main(["cost", *arguments, "remote", "--model", "summarizer", "--dataset", local, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [model["model"] for model in report["models"]] == ["summarizer"]
    assert report["totals"]["jobs"]["low"] == pytest.approx(1.67594)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--model", "tickets"], 'stage remote has no model "tickets"; its models: assistant, summarizer'),
        (
            ["--dataset", "train.jsonl"],
            "--dataset stands in for one model's dataset, and stage remote has 2 models; name one with --model: "
            "assistant, summarizer",
        ),
    ],
)
def test_a_model_the_stage_lacks_or_a_dataset_for_several_exits_2(tmp_path, capsys, arguments, message):
    assert main(["cost", *write_stage(tmp_path, table_with(**FIXED))[:-1], "remote", *arguments]) == 2
    assert capsys.readouterr().err == f"distill cost: {message}\n"
