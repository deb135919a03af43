"""`distill cost`: what each model of a stage costs (distillation, storage, serving), and the stage's total."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Any

from distill.commands.config import StagesError, read_stages
from distill.commands.model_choice import ModelChoiceError, add_model_option, chosen_models
from distill.data_checks import dataset
from distill.operations import cost, pricing

FORMATS = ("text", "json", "markdown")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("cost", help=__doc__.split(": ", 1)[1])
    parser.add_argument("--stage", required=True, help="the stage to estimate")
    add_model_option(parser, without="each model, then the stage's total")
    parser.add_argument("--format", choices=FORMATS, default="text", help="text (default), json or markdown")
    parser.add_argument("--cdk-json", default="cdk.json", type=Path, help="path to cdk.json (default: ./cdk.json)")
    parser.add_argument(
        "--dataset",
        type=Path,
        help="a local copy of a dataset that the model reads from S3 or logs (one model: the stage's only, or --model)",
    )
    parser.add_argument(
        "--prices", type=Path, default=pricing.PACKAGED_TABLE, help="price table (default: the packaged one)"
    )
    parser.add_argument(
        "--refresh-prices",
        action="store_true",
        help="first rewrite the table's figures from the AWS Price List API (needs credentials: pricing:GetProducts)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        stage = read_stages(args.cdk_json, args.stage)[args.stage]
    except StagesError as error:
        print(f"distill cost: {error}" if error.exit_code == 2 else error, file=sys.stderr)
        return error.exit_code
    try:
        models = chosen_models(stage, args.model)
        if args.dataset is not None and len(models) > 1:
            raise ModelChoiceError(
                f"--dataset stands in for one model's dataset, and stage {stage.name} has {len(models)} models; name "
                "one with --model: " + ", ".join(stage.models)
            )
    except ModelChoiceError as error:
        print(f"distill cost: {error}", file=sys.stderr)
        return error.exit_code
    try:
        table = pricing.load(args.prices)
    except (OSError, ValueError) as error:
        print(f"distill cost: cannot read the price table {args.prices}: {error}", file=sys.stderr)
        return 2
    if args.refresh_prices:
        status = _refresh(table, args.prices)
        if status:
            return status
    try:
        found = cost.estimate_stage(stage, models, table, dataset_path=args.dataset)
    except (OSError, dataset.LineError) as error:
        print(f"distill cost: cannot read the dataset: {error}", file=sys.stderr)
        return 2
    print(RENDERERS[args.format](found))
    return 0


def _refresh(table: pricing.PriceTable, path: Path) -> int:
    """Rewrite the table from the Price List and save it; a report of what changed goes to stderr."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client = boto3.client("pricing", region_name=pricing.PRICE_LIST_REGION)
        report = pricing.refresh(table, client, datetime.date.today().isoformat())
    except (BotoCoreError, ClientError) as error:
        print(
            f"distill cost --refresh-prices: the AWS Price List API could not be read ({error}); it needs AWS "
            "credentials allowed pricing:GetProducts. The table is unchanged.",
            file=sys.stderr,
        )
        return 2
    pricing.save(table, path)
    print(
        f"distill cost: {path} refreshed: {len(report.updated)} figure(s) from the Price List, "
        f"{len(report.not_found)} usage type(s) it does not know, {len(report.not_refreshable)} figure(s) without a "
        "usage type (left as they were)",
        file=sys.stderr,
    )
    for line in report.not_found:
        print(f"  not in the Price List: {line}", file=sys.stderr)
    return 0


def _usd(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"${value:,.2f}" if value >= 0.005 or value == 0 else f"${value:.4f}"


def _range(amount: cost.Amount) -> tuple[str, str]:
    return _usd(amount.low), _usd(amount.high)


# How each priced item reads in a line of text.
SHORT_UNITS = {
    "onDemandInput": "per 1,000 teacher input tokens",
    "onDemandOutput": "per 1,000 teacher output tokens",
    "training": "per 1,000 tokens trained",
    "storage": "per model-month of storage",
    "provisionedNoCommit": "per model unit-hour, no commitment",
    "provisionedOneMonth": "per model unit-hour, OneMonth commitment",
    "provisionedSixMonths": "per model unit-hour, SixMonths commitment",
    "customModelOnDemandInput": "per 1,000 input tokens served",
    "customModelOnDemandOutput": "per 1,000 output tokens served",
}


def _price_text(price: pricing.Price) -> str:
    """A figure, what it is, where it comes from and the date it held; a figure read somewhere other than its source
    (a transcription, a customer's report) says where."""
    figure = "unknown" if price.usd is None else f"${price.usd:g}"
    where = (
        f"{price.source}, as given by {_mid_sentence(price.via.split(' (')[0].split(',')[0])}"
        if price.via
        else price.source
    )
    return f"{figure} {SHORT_UNITS[price.item]} ({where}, {price.date})"


def _mid_sentence(text: str) -> str:
    """A description written as a sentence ("A transcription of ..."), to follow "as given by": its article in lower
    case, any other first word (a name) as it is."""
    first, space, rest = text.partition(" ")
    return (first.lower() if first in ("A", "An", "The") else first) + space + rest


def _prices_used(found: cost.Estimate) -> list[pricing.Price]:
    return list(dict.fromkeys(price for line in found.lines for price in line.prices))


def _stage_header(found: cost.StageEstimate) -> list[str]:
    stage = found.stage
    lines = [f"Stage {stage.name} ({stage.region})"]
    if any(model.dataset is not None for model in found.models):
        lines.append(
            f"Tokens estimated as characters / {cost.CHARS_PER_TOKEN} ({cost.TOKEN_ESTIMATE_SOURCE}); the true count "
            f"lies between {cost.TOKEN_BAND[0]} and {cost.TOKEN_BAND[1]} times the estimate"
        )
    lines.append(f"Budget {_usd(stage.budget_monthly_usd)} per month on the distillation-stage tag")
    return lines


def _model_header(found: cost.Estimate) -> list[str]:
    model = found.model
    if model is None:
        return []
    lines = [f"Model {model.name}"]
    if model.distillation is not None:
        lines.append(
            f"Teacher {model.distillation.teacher}, student {model.distillation.student}, "
            f"maxResponseLength {model.distillation.max_response_length:,}"
        )
    elif model.model_source is not None:
        source = model.model_source
        lines.append(f"Copy of model {source.model} of stage {source.copy_from_stage}, student {source.base_model}")
    if model.serving is not None and model.serving.mode != "none":
        serving = model.serving
        units = serving.model_units
        lines.append(
            f"Serving {serving.mode}, {units} model unit{'s' * (units != 1)}, commitment {serving.commitment}"
            if units is not None
            else f"Serving {serving.mode}"
        )
    tokens = found.dataset
    if tokens is not None:
        lines.append(
            f"Dataset {tokens.path.name}: {tokens.records:,} records ({tokens.records_with_answer:,} with an answer), "
            f"{tokens.prompt_tokens:,} prompt tokens, {tokens.answer_tokens:,} answer tokens, largest prompt "
            f"{tokens.largest_prompt_tokens:,} tokens"
        )
    return lines


def _totals(found: cost.Estimate | cost.StageEstimate) -> list[tuple[str, cost.Amount]]:
    if isinstance(found, cost.StageEstimate):
        count = len(found.models)
        return [
            (f"Stage total, the {count} jobs", found.job),
            (f"Stage total, the first month of the {count} models", found.first_month),
        ]
    return [("Total, the job", found.job), ("Total, the first month", found.first_month)]


def _rows(found: cost.Estimate | cost.StageEstimate) -> list[tuple[str, str, str]]:
    """(label, low, high) of a model's lines and totals, or of the stage's totals."""
    lines = found.lines if isinstance(found, cost.Estimate) else ()
    rows = [(line.label, *_range(line.amount)) for line in lines]
    return rows + [(label, *_range(amount)) for label, amount in _totals(found)]


def _tables(found: cost.StageEstimate) -> list[tuple[cost.Estimate | None, list[tuple[str, str, str]]]]:
    """Each model's table, then the stage's totals where it has several models (None: the stage's table)."""
    tables: list[tuple[cost.Estimate | None, list[tuple[str, str, str]]]] = [(m, _rows(m)) for m in found.models]
    return tables + ([(None, _rows(found))] if len(found.models) > 1 else [])


def _whose(found: cost.StageEstimate, model: cost.Estimate) -> str:
    """``name: `` before a model's basis and notes where the stage shows several."""
    return f"{model.model.name}: " if len(found.models) > 1 and model.model is not None else ""


def render_text(found: cost.StageEstimate) -> str:
    tables = _tables(found)
    width = max(len(label) for _, rows in tables for label, _, _ in rows)
    out = _stage_header(found)
    for model, rows in tables:
        out += ["", *(_model_header(model) if model else []), f"{'item':<{width}}  {'low':>14}  {'high':>14}"]
        out += [f"{label:<{width}}  {low:>14}  {high:>14}" for label, low, high in rows]
    out += ["", "How each line is computed:"]
    for model in found.models:
        for line in model.lines:
            unknown = f" Unknown: {line.unknown_because}." if line.unknown_because else ""
            out.append(f"  {_whose(found, model)}{line.label}: {line.basis}.{unknown}")
    for model in found.models:
        out += ["", f"Prices, {model.model.name}:" if _whose(found, model) else "Prices:"]
        out += [f"  {_price_text(price)}" for price in _prices_used(model)]
    out += [f"Note: {_whose(found, model)}{note}" for model in found.models for note in model.notes]
    return "\n".join(out)


def render_markdown(found: cost.StageEstimate) -> str:
    out = [f"### Cost estimate: {found.stage.name}", "", *(f"- {line}" for line in _stage_header(found))]
    for model in found.models:
        header = _model_header(model)
        if header:
            out += ["", f"#### {header[0]}", "", *(f"- {line}" for line in header[1:])]
        out += ["", "| item | low (USD) | high (USD) | prices (source, date) |", "|---|---:|---:|---|"]
        for line in model.lines:
            low, high = _range(line.amount)
            prices = "<br>".join(_price_text(price) for price in line.prices) or "-"
            out.append(f"| {line.label} | {low} | {high} | {prices} |")
        for label, amount in _totals(model):
            low, high = _range(amount)
            out.append(f"| **{label}** | **{low}** | **{high}** | |")
    if len(found.models) > 1:
        out += ["", "| stage | low (USD) | high (USD) |", "|---|---:|---:|"]
        for label, amount in _totals(found):
            low, high = _range(amount)
            out.append(f"| **{label}** | **{low}** | **{high}** |")
    out += ["", "<details><summary>How each line is computed</summary>", ""]
    for model in found.models:
        for line in model.lines:
            unknown = f" Unknown: {line.unknown_because}." if line.unknown_because else ""
            out.append(f"- {_whose(found, model)}{line.label}: {line.basis}.{unknown}")
    out += [f"- Note: {_whose(found, model)}{note}" for model in found.models for note in model.notes]
    out += ["", "</details>"]
    return "\n".join(out)


def _amount_json(value: cost.Amount) -> dict[str, Any]:
    return {
        "low": value.low if value.low is not None else "unknown",
        "high": value.high if value.high is not None else "unknown",
    }


def model_json(found: cost.Estimate) -> dict[str, Any]:
    """One model's estimate as JSON (``model`` None for a stage without models)."""
    model, tokens = found.model, found.dataset
    serving = model.serving if model is not None else None
    return {
        "model": model.name if model is not None else None,
        "teacher": model.distillation.teacher if model is not None and model.distillation else None,
        "student": model.student if model is not None else None,
        "serving": None
        if serving is None
        else {"mode": serving.mode, "modelUnits": serving.model_units, "commitment": serving.commitment},
        "dataset": None
        if tokens is None
        else {
            "file": str(tokens.path),
            "records": tokens.records,
            "recordsWithAnswer": tokens.records_with_answer,
            "promptTokens": tokens.prompt_tokens,
            "answerTokens": tokens.answer_tokens,
            "largestPromptTokens": tokens.largest_prompt_tokens,
        },
        "items": [
            {
                "item": line.key,
                "label": line.label,
                "usd": _amount_json(line.amount),
                "basis": line.basis,
                "unknownBecause": line.unknown_because,
                "prices": [price.to_json() for price in line.prices],
            }
            for line in found.lines
        ],
        "totals": {"job": _amount_json(found.job), "firstMonth": _amount_json(found.first_month)},
        "notes": list(found.notes),
    }


def as_json(found: cost.StageEstimate) -> dict[str, Any]:
    stage = found.stage
    return {
        "stage": stage.name,
        "region": stage.region,
        "budgetMonthlyUsd": stage.budget_monthly_usd,
        "tokenEstimate": {
            "charactersPerToken": cost.CHARS_PER_TOKEN,
            "band": list(cost.TOKEN_BAND),
            "source": cost.TOKEN_ESTIMATE_SOURCE,
        },
        "models": [model_json(model) for model in found.models],
        "totals": {"jobs": _amount_json(found.job), "firstMonth": _amount_json(found.first_month)},
    }


RENDERERS = {
    "text": render_text,
    "json": lambda found: json.dumps(as_json(found), indent=2),
    "markdown": render_markdown,
}
