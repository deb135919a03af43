"""Comparing the distilled student with its teacher on held-back prompts: latency, tokens, length and agreement.

Each prompt goes through the Converse API to both models, and the teacher's answer is the reference the student's is
measured against. Agreement is ROUGE-L F1 over lowercased words: the longest sequence of words both answers share
in the same order (not necessarily adjacent), as a harmonic mean of its share of each answer. 1 means the same words
in the same order, 0 means no word in common. It rewards wording close to the teacher's, which is what distillation
trains for, but it cannot tell a correct paraphrase from a wrong answer: for that, a Bedrock evaluation job with a
judge model grades the student's answers with the teacher's as reference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from distill.constructs.names import model_prefix
from distill.data_checks.dataset import LineError, parse_line, validate_record
from distill.operations.training_metrics_csv import split_s3_uri

# An evaluation job's dataset holds at most 1,000 prompts; more would also take long to compare one by one.
MAX_PROMPTS = 1000
# What the judge's dataset calls the student's answers; the evaluation job's inference source must match it.
STUDENT_LABEL = "distilled-student"
JUDGE_METRICS = ("Builtin.Correctness", "Builtin.Completeness", "Builtin.Helpfulness")
# Bedrock's own examples of judge jobs over your own responses use the task type "General", which the botocore model's
# EvaluationTaskType enum does not list (botocore does not enforce enums, so the request goes out as written).
JUDGE_TASK_TYPE = "General"
WORD = re.compile(r"\w+")


class PromptsError(ValueError):
    """A prompts file that cannot be used; the message names the file and line, what is wrong and what is allowed."""


@dataclass(frozen=True)
class Prompt:
    """One held-back record as Converse takes it: its system prompt and its messages up to the last user turn."""

    line: int
    system: tuple[dict, ...]
    messages: tuple[dict, ...]

    @property
    def text(self) -> str:
        """The prompt as one string, for an evaluation dataset (which has no roles)."""
        return "\n\n".join(block["text"] for block in self.system + tuple(m["content"][0] for m in self.messages))


@dataclass(frozen=True)
class Answer:
    """One model's answer; ``error`` says why there is none. Latency is Converse's ``metrics.latencyMs``."""

    text: str = ""
    latency_ms: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    error: str | None = None


@dataclass(frozen=True)
class Comparison:
    prompt: Prompt
    teacher: Answer
    student: Answer

    @property
    def ok(self) -> bool:
        return self.teacher.error is None and self.student.error is None

    @property
    def agreement(self) -> float | None:
        return rouge_l_f1(self.student.text, self.teacher.text) if self.ok else None


# --- prompts --------------------------------------------------------------------------------------------------


def read_prompts(path: Path, count: int, *, multi_turn_allowed: bool) -> list[Prompt]:
    """The first ``count`` records of a bedrock-conversation-2024 file, read as far as needed; raises
    ``PromptsError``, or ``OSError`` when the file cannot be read."""
    prompts: list[Prompt] = []
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, 1):
            if len(prompts) == count:
                break
            prompts.append(_prompt(line, path, number, multi_turn_allowed))
    if len(prompts) < count:
        raise PromptsError(
            f"{path}: holds {len(prompts)} records, fewer than --count {count}; use --count {len(prompts) or 1} "
            "or fewer, or a file with more records"
        )
    return prompts


def _prompt(line: bytes, path: Path, number: int, multi_turn_allowed: bool) -> Prompt:
    where = f"{path}:{number}"
    try:
        record = parse_line(line)
    except LineError as error:
        raise PromptsError(f"{where}: {error}") from None
    findings = validate_record(record, multi_turn_allowed=multi_turn_allowed)
    if findings:
        raise PromptsError(f"{where}: " + "; ".join(f"{finding.field}: {finding.message}" for finding in findings))
    messages = record["messages"]
    # The record's own answer, if any, is left out: the models are asked the prompt, and the teacher answers anew.
    if messages[-1]["role"] == "assistant":
        messages = messages[:-1]
    return Prompt(number, tuple(record.get("system", ())), tuple(messages))


# --- asking ---------------------------------------------------------------------------------------------------


def ask(runtime: Any, model_id: str, prompt: Prompt, max_tokens: int) -> Answer:
    """One Converse call; a refused or failed call, or one without text, is an ``Answer`` with an error."""
    request: dict[str, Any] = {
        "modelId": model_id,
        "messages": list(prompt.messages),
        "inferenceConfig": {"maxTokens": max_tokens},
    }
    if prompt.system:
        request["system"] = list(prompt.system)
    try:
        response = runtime.converse(**request)
    except ClientError as error:
        details = error.response["Error"]
        return Answer(error=f"{details.get('Code')}: {details.get('Message')}")
    except BotoCoreError as error:
        return Answer(error=str(error))
    text = "".join(block.get("text", "") for block in response["output"]["message"]["content"])
    usage = response["usage"]
    return Answer(
        text=text,
        latency_ms=response["metrics"]["latencyMs"],
        input_tokens=usage["inputTokens"],
        output_tokens=usage["outputTokens"],
        error=None if text else f"no text in the answer (stopReason {response['stopReason']})",
    )


def compare(runtime: Any, prompt: Prompt, *, teacher: str, student: str, max_tokens: int) -> Comparison:
    return Comparison(prompt, ask(runtime, teacher, prompt, max_tokens), ask(runtime, student, prompt, max_tokens))


def rouge_l_f1(candidate: str, reference: str) -> float:
    """ROUGE-L F1 of two texts over lowercased words; 0.0 when either has no words."""
    ours, theirs = WORD.findall(candidate.lower()), WORD.findall(reference.lower())
    if not ours or not theirs:
        return 0.0
    # Longest common subsequence, one row of the dynamic-programming table at a time.
    previous = [0] * (len(theirs) + 1)
    for word in ours:
        current = [0]
        for index, other in enumerate(theirs):
            current.append(previous[index] + 1 if word == other else max(previous[index + 1], current[index]))
        previous = current
    common = previous[-1]
    if not common:
        return 0.0
    precision, recall = common / len(ours), common / len(theirs)
    return 2 * precision * recall / (precision + recall)


# --- reporting ------------------------------------------------------------------------------------------------


def comparison_lines(comparisons: Sequence[Comparison]) -> Iterable[str]:
    """A row per prompt, then the overall figures over the prompts that both models answered."""
    yield (
        f"{'line':>6}  {'teacher ms':>10}  {'student ms':>10}  {'teacher tok in/out':>18}  "
        f"{'student tok in/out':>18}  {'teacher chars':>13}  {'student chars':>13}  {'ROUGE-L F1':>10}"
    )
    for comparison in comparisons:
        yield _row(comparison)
    yield from _overall(comparisons)


def _row(comparison: Comparison) -> str:
    teacher, student = comparison.teacher, comparison.student
    if not comparison.ok:
        answers = (("teacher", teacher), ("student", student))
        return f"{comparison.prompt.line:>6}  FAILED " + "; ".join(f"{who}: {a.error}" for who, a in answers if a.error)
    return (
        f"{comparison.prompt.line:>6}  {teacher.latency_ms:>10,}  {student.latency_ms:>10,}  "
        f"{f'{teacher.input_tokens:,}/{teacher.output_tokens:,}':>18}  "
        f"{f'{student.input_tokens:,}/{student.output_tokens:,}':>18}  "
        f"{len(teacher.text):>13,}  {len(student.text):>13,}  {comparison.agreement:>10.2f}"
    )


def _overall(comparisons: Sequence[Comparison]) -> Iterable[str]:
    answered = [comparison for comparison in comparisons if comparison.ok]
    yield ""
    yield f"overall: {len(answered)} of {len(comparisons)} prompts answered by both models"
    if not answered:
        return
    teacher_ms = _mean(c.teacher.latency_ms for c in answered)
    student_ms = _mean(c.student.latency_ms for c in answered)
    ratio = f" ({student_ms / teacher_ms:.2f} of the teacher's)" if teacher_ms else ""
    yield (
        f"  latency, mean (Converse metrics.latencyMs): teacher {teacher_ms:,.0f} ms, student {student_ms:,.0f} ms"
        + ratio
    )
    for who in ("teacher", "student"):
        answers = [getattr(c, who) for c in answered]
        yield (
            f"  {who}: {sum(a.input_tokens for a in answers):,} input and {sum(a.output_tokens for a in answers):,} "
            f"output tokens in all; answers of {_mean(len(a.text) for a in answers):,.0f} characters on average"
        )
    yield (
        f"  agreement with the teacher, mean ROUGE-L F1: {_mean(c.agreement or 0.0 for c in answered):.2f} "
        "(0 = no words in common, 1 = the same words in the same order)"
    )


def _mean(values: Iterable[float]) -> float:
    listed = list(values)
    return sum(listed) / len(listed)


# --- judging --------------------------------------------------------------------------------------------------


def evaluation_job_name(stage: str, model: str, now: datetime) -> str:
    """A name Bedrock accepts (lowercase letters, digits and hyphens, at most 63: the model prefix's 40, ``-eval-``
    and the time's 15) and that a later run does not repeat."""
    return f"{model_prefix(stage, model).lower()}-eval-{now:%Y%m%d-%H%M%S}"


def judge_dataset(comparisons: Iterable[Comparison]) -> bytes:
    """The prompts with the student's answers to grade and the teacher's as reference, in the JSON Lines form of an
    evaluation over your own inference responses (one model response a prompt)."""
    records = [
        {
            "prompt": comparison.prompt.text,
            "referenceResponse": comparison.teacher.text,
            "modelResponses": [{"response": comparison.student.text, "modelIdentifier": STUDENT_LABEL}],
        }
        for comparison in comparisons
        if comparison.ok
    ]
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode()


def evaluation_job_request(*, job_name: str, judge: str, role_arn: str, dataset_uri: str, output_uri: str) -> dict:
    """CreateEvaluationJob's request. The judge grades answers given in the dataset, so Bedrock invokes no other
    model."""
    return {
        "jobName": job_name,
        "jobDescription": "Distilled student graded against its teacher's answers",
        "roleArn": role_arn,
        "applicationType": "ModelEvaluation",
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": JUDGE_TASK_TYPE,
                        "dataset": {"name": f"{job_name}-answers", "datasetLocation": {"s3Uri": dataset_uri}},
                        "metricNames": list(JUDGE_METRICS),
                    }
                ],
                "evaluatorModelConfig": {"bedrockEvaluatorModels": [{"modelIdentifier": judge}]},
            }
        },
        "inferenceConfig": {"models": [{"precomputedInferenceSource": {"inferenceSourceIdentifier": STUDENT_LABEL}}]},
        "outputDataConfig": {"s3Uri": output_uri},
    }


def submit_judge(
    clients: Any, comparisons: Sequence[Comparison], *, job_name: str, judge: str, role_arn: str, output_s3_uri: str
) -> str:
    """Write the dataset under ``output_s3_uri``/``job_name``/ and start the evaluation job; returns its ARN."""
    folder = f"{output_s3_uri.rstrip('/')}/{job_name}"
    dataset_uri = f"{folder}/dataset.jsonl"
    bucket, key = split_s3_uri(dataset_uri)
    clients.s3.put_object(Bucket=bucket, Key=key, Body=judge_dataset(comparisons), ContentType="application/jsonl")
    request = evaluation_job_request(
        job_name=job_name, judge=judge, role_arn=role_arn, dataset_uri=dataset_uri, output_uri=f"{folder}/results/"
    )
    return clients.bedrock.create_evaluation_job(**request)["jobArn"]
