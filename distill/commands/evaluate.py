"""`distill evaluate`: a model's served student against its teacher on held-back prompts, optionally with a judge."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from distill.commands.model_choice import ModelChoiceError, add_model_option, chosen_distilled_model
from distill.config.distillation import S3_URI_PATTERN
from distill.data_checks.dataset import multi_turn_allowed_for
from distill.operations.aws_errors import fix_for
from distill.operations.evaluation import (
    MAX_PROMPTS,
    Comparison,
    PromptsError,
    compare,
    comparison_lines,
    evaluation_job_name,
    read_prompts,
    submit_judge,
)
from distill.operations.status import Clients, StageError, load_stage, served_model_arn

DEFAULT_COUNT = 10


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("evaluate", help=__doc__.split(": ", 1)[1])
    parser.add_argument("--stage", required=True, metavar="NAME", help="the stage in cdk.json: its teacher and Region")
    add_model_option(parser, without="an error that lists them (a comparison is of one model)")
    parser.add_argument("--cdk-json", default="cdk.json", type=Path, help="path to cdk.json (default: ./cdk.json)")
    parser.add_argument(
        "--prompts",
        required=True,
        type=Path,
        metavar="FILE",
        help="bedrock-conversation-2024 records held back from training; a final assistant turn is left out",
    )
    parser.add_argument(
        "--count",
        type=prompt_count,
        default=DEFAULT_COUNT,
        metavar="N",
        help=f"how many prompts to use, from the start of the file (default: {DEFAULT_COUNT}, at most {MAX_PROMPTS})",
    )
    parser.add_argument(
        "--student-model",
        metavar="ID",
        help="the student's model id or ARN (default: the model the model's serving stack serves)",
    )
    parser.add_argument(
        "--judge",
        metavar="MODEL_ID",
        help="also start a Bedrock evaluation job in which this model grades the student's answers against the "
        "teacher's; needs --output-s3-uri and --role-arn",
    )
    parser.add_argument(
        "--output-s3-uri",
        type=s3_location,
        metavar="URI",
        help="where the evaluation job's dataset and results go (s3://BUCKET/PREFIX)",
    )
    parser.add_argument("--role-arn", metavar="ARN", help="the service role Bedrock assumes to run the evaluation job")
    parser.set_defaults(run=run)


def prompt_count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_PROMPTS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not allowed; use a whole number from 1 to {MAX_PROMPTS} (an evaluation job's limit)"
        )
    return int(text)


def s3_location(text: str) -> str:
    if not re.fullmatch(S3_URI_PATTERN, text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an S3 location; use s3://BUCKET or s3://BUCKET/PREFIX")
    return text


def run(args: argparse.Namespace) -> int:
    judging = (args.judge, args.output_s3_uri, args.role_arn)
    if any(judging) and not all(judging):
        print(
            "distill evaluate: --judge, --output-s3-uri and --role-arn go together; give all three or none",
            file=sys.stderr,
        )
        return 2
    try:
        stage = load_stage(args.cdk_json, args.stage)
        model = chosen_distilled_model(stage, args.model)
        distillation = model.distillation
        assert distillation is not None  # chosen_distilled_model returns a model the stage distils
        multi_turn = multi_turn_allowed_for(distillation.teacher, distillation.student)
        prompts = read_prompts(args.prompts, args.count, multi_turn_allowed=multi_turn)
        clients = Clients(stage.region)
        student = args.student_model or served_model_arn(clients, stage.name, model.name)
    except (StageError, ModelChoiceError) as error:
        print(f"distill evaluate: {error}", file=sys.stderr)
        return error.exit_code
    except PromptsError as error:
        print(f"distill evaluate: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"distill evaluate: cannot read {args.prompts}: {error.strerror or error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        print(f"distill evaluate: cannot read the stage from AWS: {error}; fix: {fix_for(error)}", file=sys.stderr)
        return 2
    print(f"teacher {distillation.teacher}\nstudent {student}")
    comparisons: list[Comparison] = []
    for index, prompt in enumerate(prompts, 1):
        print(f"asking both models prompt {index} of {len(prompts)} (line {prompt.line})", file=sys.stderr)
        # The teacher's answers during distillation were capped at maxResponseLength; the same cap keeps it comparable.
        comparisons.append(
            compare(
                clients.bedrock_runtime,
                prompt,
                teacher=distillation.teacher,
                student=student,
                max_tokens=distillation.max_response_length,
            )
        )
    print("\n".join(comparison_lines(comparisons)))
    all_answered = all(comparison.ok for comparison in comparisons)
    if args.judge:
        return int(not (judge(clients, comparisons, args, stage.name, model.name) and all_answered))
    return int(not all_answered)


def judge(
    clients: Clients, comparisons: list[Comparison], args: argparse.Namespace, stage_name: str, model_name: str
) -> bool:
    """Start the evaluation job over the answered prompts; False when there is nothing to grade or Bedrock refuses."""
    if not any(comparison.ok for comparison in comparisons):
        print("distill evaluate: no prompt was answered by both models; no evaluation job started", file=sys.stderr)
        return False
    job_name = evaluation_job_name(stage_name, model_name, datetime.now(UTC))
    try:
        arn = submit_judge(
            clients,
            comparisons,
            job_name=job_name,
            judge=args.judge,
            role_arn=args.role_arn,
            output_s3_uri=args.output_s3_uri,
        )
    except (BotoCoreError, ClientError) as error:
        print(f"distill evaluate: the evaluation job {job_name} was not started: {error}", file=sys.stderr)
        return False
    print(f"evaluation job started: {arn}\n  results: {args.output_s3_uri.rstrip('/')}/{job_name}/results/")
    return True
