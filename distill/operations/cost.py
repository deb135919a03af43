"""What a stage costs before it is deployed: for each model, the distillation job (teacher generation and training),
the custom model's storage and its serving, and the stage's totals, in USD ranges computed offline from the local
datasets and the price table.

Where a figure is missing from the table, or the dataset is not local, the line is "unknown" and so is every total
that needs it: an estimate that silently left a part out would read as a promise.

Tokens are estimated from characters: ``ceil(characters / 4)`` per record, the rule of thumb OpenAI documents for
English text (https://help.openai.com/en/articles/4936856-what-are-tokens-and-how-to-count-them, read 2026-12-01).
No tokenizer package for every teacher family is to be had offline (Amazon Nova's is not public), so one estimate
serves all. Its error band, measured on datasets/sample-sec-filings.jsonl with the Llama 3 vocabulary (the quicktok-v1
0.4.0 package, offline): prompts run 4.9 characters per token and answers 5.6, single records 3.8 to 6.5, so the
estimate is high by 18 to 29 % there; code, figures and non-English text run nearer 3 characters per token. The true
count lies between ``TOKEN_BAND[0]`` and ``TOKEN_BAND[1]`` times the estimate (characters / 6.5 to characters / 3).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from distill.config.distillation import DistillationConfig
from distill.config.serving import ServingConfig
from distill.config.stages import ModelConfig, StageConfig
from distill.data_checks import dataset
from distill.operations.pricing import TERM_HOURS, TERM_MONTHS, Price, PriceTable

CHARS_PER_TOKEN = 4
TOKEN_ESTIMATE_SOURCE = "https://help.openai.com/en/articles/4936856-what-are-tokens-and-how-to-count-them"
TOKEN_BAND = (round(CHARS_PER_TOKEN / 6.5, 2), round(CHARS_PER_TOKEN / 3, 2))
# Bedrock's data synthesis may add prompts up to the dataset limit (user guide, distillation-prepare-datasets.html).
MAX_PROMPTS = dataset.MAX_RECORDS
# A month of hourly billing: 8,760 hours a year over 12 months. The estimate's convention; AWS bills by the hour.
HOURS_PER_MONTH = 730


def estimate_tokens(characters: int) -> int:
    """Tokens of a text of ``characters`` characters (see the module docstring for the rule and its band)."""
    return math.ceil(characters / CHARS_PER_TOKEN)


@dataclass(frozen=True)
class DatasetTokens:
    """Token counts of a local dataset, as the job would read it (all counts in estimated tokens).

    ``prompt_tokens``: everything before each record's final assistant turn (system, user turns, earlier answers),
    summed; ``answer_tokens``: each record's own final answer capped at the maximum response length, or that
    maximum for a prompt-only record; ``largest_prompt_tokens``: the longest single prompt.
    """

    path: Path
    records: int
    records_with_answer: int
    prompt_tokens: int
    answer_tokens: int
    largest_prompt_tokens: int


def count_dataset(path: Path, *, max_response_length: int) -> DatasetTokens:
    """Count a bedrock-conversation-2024 file line by line; raises ``OSError`` if unreadable and
    ``dataset.LineError`` on a line that is not a record (run ``distill validate`` for the full report)."""
    records = with_answer = prompt_tokens = answer_tokens = largest = 0
    with open(path, "rb") as lines:
        for line in lines:
            record = dataset.parse_line(line)
            prompt_chars, answer_chars = _record_characters(record)
            prompt = estimate_tokens(prompt_chars)
            records += 1
            prompt_tokens += prompt
            largest = max(largest, prompt)
            if answer_chars is None:
                answer_tokens += max_response_length
            else:
                with_answer += 1
                answer_tokens += min(estimate_tokens(answer_chars), max_response_length)
    return DatasetTokens(path, records, with_answer, prompt_tokens, answer_tokens, largest)


def _record_characters(record: object) -> tuple[int, int | None]:
    """(characters of the prompt, characters of the final answer or ``None``) of one record."""
    if not isinstance(record, dict):
        raise dataset.LineError("not a JSON object; run `distill validate` on the file")
    messages = record.get("messages") or []
    answer = None
    if messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "assistant":
        answer = _text_characters(messages[-1].get("content"))
        messages = messages[:-1]
    prompt = _text_characters(record.get("system")) + sum(
        _text_characters(message.get("content")) for message in messages if isinstance(message, dict)
    )
    return prompt, answer


def _text_characters(items: object) -> int:
    if not isinstance(items, list):
        return 0
    return sum(len(item["text"]) for item in items if isinstance(item, dict) and isinstance(item.get("text"), str))


@dataclass(frozen=True)
class Amount:
    """A USD range; ``low``/``high`` are ``None`` when a figure it needs is unknown."""

    low: float | None
    high: float | None

    @classmethod
    def exact(cls, usd: float | None) -> Amount:
        return cls(usd, usd)

    @property
    def known(self) -> bool:
        return self.low is not None and self.high is not None


UNKNOWN = Amount(None, None)


def total(amounts: Iterable[Amount]) -> Amount:
    """The sum of ranges; unknown if any part is."""
    parts = list(amounts)
    if not all(part.known for part in parts):
        return UNKNOWN
    return Amount(sum(p.low for p in parts), sum(p.high for p in parts))  # type: ignore[misc]


@dataclass(frozen=True)
class Line:
    """One billed item: what it is, its USD range (or unknown, with why), how it was computed and the prices used."""

    key: str
    label: str
    amount: Amount
    basis: str
    prices: tuple[Price, ...] = ()
    unknown_because: str | None = None


@dataclass(frozen=True)
class Estimate:
    """One model's estimate (``model`` None for a stage without models, whose estimate holds only a note)."""

    stage: StageConfig
    model: ModelConfig | None
    dataset: DatasetTokens | None
    lines: tuple[Line, ...]
    job: Amount
    first_month: Amount
    notes: tuple[str, ...] = field(default=())

    def line(self, key: str) -> Line:
        (found,) = [line for line in self.lines if line.key == key]
        return found


@dataclass(frozen=True)
class StageEstimate:
    """The estimates of the stage's models, in cdk.json's order, and their totals: every job, and the first month
    of all of them."""

    stage: StageConfig
    models: tuple[Estimate, ...]

    @property
    def job(self) -> Amount:
        return total(found.job for found in self.models)

    @property
    def first_month(self) -> Amount:
        return total(found.first_month for found in self.models)


def estimate_stage(
    stage: StageConfig, models: Iterable[ModelConfig], prices: PriceTable, *, dataset_path: Path | None = None
) -> StageEstimate:
    """Estimate each of ``models`` of the stage (none: the stage deploys its foundation only, and its one estimate
    says so); ``dataset_path`` is as for ``estimate``. Raises as ``estimate`` does."""
    chosen: list[ModelConfig | None] = list(models) or [None]
    return StageEstimate(stage, tuple(estimate(stage, model, prices, dataset_path=dataset_path) for model in chosen))


def estimate(
    stage: StageConfig, model: ModelConfig | None, prices: PriceTable, *, dataset_path: Path | None = None
) -> Estimate:
    """Estimate one model of the stage (None: the foundation only). ``dataset_path`` stands in for a dataset that is
    not local (an S3 URI or logs).

    Raises ``OSError`` or ``dataset.LineError`` when the dataset cannot be read.
    """
    region, notes = stage.region, []
    lines: list[Line] = []
    tokens = None
    if model is not None and model.distillation is not None:
        distillation = model.distillation
        path = dataset_path or distillation.training_data.file
        if path is not None:
            tokens = count_dataset(path, max_response_length=distillation.max_response_length)
        else:
            notes.append(
                "the dataset is not a local file (an S3 URI or invocation logs): teacher generation and training are "
                "unknown; pass --dataset FILE with a local copy to estimate them"
            )
        lines.append(_teacher_generation(prices, region, distillation, tokens))
        lines.append(_training(prices, region, distillation, tokens))
    elif model is not None:
        notes.append("the model is copied from another stage: it runs no distillation job")
    else:
        notes.append("the stage deploys its foundation only: no job, no model and no serving to bill")
    student = model.student if model is not None else None
    if model is not None and student is not None:
        storage = prices.price(region, student, "storage")
        lines.append(
            _priced(
                "storage",
                "Custom model storage, per month",
                [storage],
                lambda: Amount.exact(storage.usd),
                "1 custom model x storage price per month",
            )
        )
        lines.extend(_serving(prices, region, model.serving, student))
    job = total(line.amount for line in lines if line.key in ("teacherGeneration", "training"))
    month = [line.amount for line in lines if line.key in ("teacherGeneration", "training", "storage", "servingMonth")]
    return Estimate(stage, model, tokens, tuple(lines), job, total(month), tuple(notes))


def _priced(key: str, label: str, prices: list[Price], compute, basis: str, *, missing: str | None = None) -> Line:
    """A line whose amount ``compute()`` makes once every price is known and nothing else is missing."""
    unknown = [f"{p.item} price" for p in prices if not p.known]
    if missing:
        unknown.insert(0, missing)
    if unknown:
        return Line(key, label, UNKNOWN, basis, tuple(prices), "no " + " and no ".join(unknown))
    return Line(key, label, compute(), basis, tuple(prices))


def _teacher_generation(
    prices: PriceTable, region: str, distillation: DistillationConfig, tokens: DatasetTokens | None
) -> Line:
    teacher, length = distillation.teacher, distillation.max_response_length
    given, answer = (
        prices.price(region, teacher, "onDemandInput"),
        prices.price(region, teacher, "onDemandOutput"),
    )

    def compute() -> Amount:
        assert tokens is not None and given.usd is not None and answer.usd is not None
        low = tokens.prompt_tokens / 1000 * given.usd + tokens.answer_tokens / 1000 * answer.usd
        high = MAX_PROMPTS * (tokens.largest_prompt_tokens / 1000 * given.usd + length / 1000 * answer.usd)
        return Amount(low, high)

    basis = (
        f"low: the dataset's prompts once each, answers as long as the records' own (prompt-only: {length:,} "
        f"tokens); high: {MAX_PROMPTS:,} prompts as long as the largest, each answered with {length:,} tokens "
        "(maxResponseLength), as Bedrock's data synthesis may; teacher's on-demand prices"
    )
    return _priced(
        "teacherGeneration",
        "Teacher generation (the job)",
        [given, answer],
        compute,
        basis,
        missing=None if tokens else "local dataset",
    )


def _training(prices: PriceTable, region: str, distillation: DistillationConfig, tokens: DatasetTokens | None) -> Line:
    student, length = distillation.student, distillation.max_response_length
    price = prices.price(region, student, "training")
    epochs = prices.training_epochs(student)

    def compute() -> Amount:
        assert tokens is not None and price.usd is not None and epochs is not None
        low = (tokens.prompt_tokens + tokens.answer_tokens) / 1000 * price.usd * epochs.low
        high = MAX_PROMPTS * (tokens.largest_prompt_tokens + length) / 1000 * price.usd * epochs.high
        return Amount(low, high)

    span = f"{epochs.low} to {epochs.high} epochs ({epochs.source})" if epochs else "an unknown number of epochs"
    basis = (
        "the prompts and answers of the teacher line (low: the dataset's; high: "
        f"{MAX_PROMPTS:,} of the largest prompt and {length:,} answer tokens), trained for {span}: low at the fewest, "
        "high at the most"
    )
    missing = None if tokens else "local dataset"
    if epochs is None:
        missing = "epoch range for the student's provider"
    return _priced("training", "Student training (the job)", [price], compute, basis, missing=missing)


def _serving(prices: PriceTable, region: str, serving: ServingConfig | None, student: str) -> list[Line]:
    if serving is None or serving.mode == "none":
        return []
    units = serving.model_units
    if serving.mode == "onDemand":
        per_token = [
            prices.price(region, student, "customModelOnDemandInput"),
            prices.price(region, student, "customModelOnDemandOutput"),
        ]
        return [
            Line(
                "servingTokens",
                "Serving, on-demand deployment",
                UNKNOWN,
                "billed per 1,000 tokens served; nothing bills while idle",
                tuple(per_token),
                "billed by traffic, which the estimate does not know",
            )
        ]
    hourly = prices.throughput(region, student, serving.commitment)
    terms = "no commitment" if serving.commitment == "none" else f"{serving.commitment} commitment"
    each = f"{units} model unit{'s' if units > 1 else ''} x hourly price ({terms})"
    lines = [
        _priced("servingHour", "Serving, per hour", [hourly], lambda: Amount.exact(hourly.usd * units), each),
        _priced(
            "servingDay", "Serving, per day", [hourly], lambda: Amount.exact(hourly.usd * units * 24), each + " x 24"
        ),
        _priced(
            "servingMonth",
            "Serving, per month",
            [hourly],
            lambda: Amount.exact(hourly.usd * units * HOURS_PER_MONTH),
            each + f" x {HOURS_PER_MONTH} hours",
        ),
    ]
    for term, hours in TERM_HOURS.items():
        committed = prices.throughput(region, student, term)
        chosen = " (this model's commitment)" if term == serving.commitment else " (if committed)"
        lines.append(
            _priced(
                f"servingTerm{term}",
                f"Serving, {term} term{chosen}",
                [committed],
                lambda committed=committed, hours=hours: Amount.exact(committed.usd * units * hours),
                f"{units} model unit(s) x {term} hourly price x {hours:,} hours ({TERM_MONTHS[term]} month(s), "
                "longest calendar span), billed in full",
            )
        )
    return lines
