"""`distill evaluate`: held-back prompts to teacher and student through Converse, the comparison, and the judge job,
with every AWS request checked against the botocore model by Stubber."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import botocore.loaders
import pytest
from botocore.stub import ANY, Stubber

from distill.cli import main
from distill.commands import evaluate as evaluate_command
from distill.data_checks.dataset import PROMPT_COMPLETION_MESSAGE
from distill.operations.evaluation import (
    STUDENT_LABEL,
    Answer,
    Comparison,
    Prompt,
    PromptsError,
    ask,
    comparison_lines,
    evaluation_job_name,
    judge_dataset,
    read_prompts,
    rouge_l_f1,
    submit_judge,
)
from distill.operations.status import Clients
from tests.conftest import REFERENCE_DATA, TEST_STAGES, stand_in_sharing

README_EXAMPLES = REFERENCE_DATA / "validation-readme-examples.jsonl"
TEACHER = "meta.llama3-1-405b-instruct-v1:0"
PROVISIONED_ARN = "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/p7t3h9r2u5s1"
SERVING_STACK = "sandbox-distillation-support-assistant-serving"
SYSTEM = [
    {
        "text": "A chat between a curious User and an artificial intelligence Bot. The Bot gives helpful, detailed, "
        "and polite answers to the User's questions."
    }
]
SKY = [{"role": "user", "content": [{"text": "why is the sky blue"}]}]
TEACHER_ANSWER = "The sky is blue because air molecules scatter blue sunlight more than red light."
STUDENT_ANSWER = "The sky is blue because the air scatters blue light more."


SUMMARIZER_TEACHER = "meta.llama3-1-70b-instruct-v1:0"


def write_cdk_json(tmp_path) -> str:
    support = {
        "teacher": TEACHER,
        "student": "meta.llama3-1-8b-instruct-v1:0:128k",
        "maxResponseLength": 512,
        "trainingData": {"s3Uri": "s3://example-datasets/support/train.jsonl"},
    }
    summarizer = {**support, "teacher": SUMMARIZER_TEACHER, "maxResponseLength": 256}
    stages = {
        "sandbox": {"region": "us-west-2", "models": {"support-assistant": {"distillation": support}}},
        "fleet": {
            "region": "us-west-2",
            "models": {"support-assistant": {"distillation": support}, "summarizer": {"distillation": summarizer}},
        },
        **{name: TEST_STAGES[name] for name in ("shared-dev", "shared-prod")},
    }
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"app": "python app.py", "context": {"stages": stages}}))
    return str(path)


def converse_response(text: str, latency_ms: int, input_tokens: int, output_tokens: int) -> dict:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": input_tokens + output_tokens,
        },
        "metrics": {"latencyMs": latency_ms},
    }


def expect_converse(
    runtime: Stubber,
    model_id: str,
    messages: list,
    response: dict,
    system: list | None = None,
    max_tokens: int = 512,
):
    request = {"modelId": model_id, "messages": messages, "inferenceConfig": {"maxTokens": max_tokens}}
    if system:
        request["system"] = system
    runtime.add_response("converse", response, request)


# --- ROUGE-L --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("candidate", "reference", "expected"),
    [
        ("The sky is blue.", "the SKY is blue", 1.0),
        # "the cat on the mat" is common: 5 of 6 words each way.
        ("the cat sat on the mat", "the cat lay on the mat", 5 / 6),
        # 2 words in common: precision 2/4, recall 2/2.
        ("a b c d", "a c", 2 * 0.5 * 1.0 / 1.5),
        # Order matters: only one of the two words can be matched in sequence.
        ("blue sky", "sky blue", 0.5),
        ("red", "blue", 0.0),
        ("", "blue", 0.0),
        ("...", "!!!", 0.0),
    ],
)
def test_rouge_l_f1(candidate, reference, expected):
    assert rouge_l_f1(candidate, reference) == pytest.approx(expected)


# --- prompts --------------------------------------------------------------------------------------------------


def test_reads_prompts_leaving_out_the_recorded_answer():
    prompts = read_prompts(README_EXAMPLES, 2, multi_turn_allowed=False)
    assert prompts == [Prompt(1, tuple(SYSTEM), tuple(SKY)), Prompt(2, (), tuple(SKY))]
    assert prompts[0].text == SYSTEM[0]["text"] + "\n\nwhy is the sky blue"


def test_reads_only_as_many_records_as_asked():
    prompts = read_prompts(REFERENCE_DATA / "uber10k-conversation.jsonl", 3, multi_turn_allowed=False)
    assert [prompt.line for prompt in prompts] == [1, 2, 3]


def test_too_few_records_for_the_count():
    with pytest.raises(PromptsError) as raised:
        read_prompts(README_EXAMPLES, 5, multi_turn_allowed=False)
    assert str(raised.value) == (
        f"{README_EXAMPLES}: holds 2 records, fewer than --count 5; use --count 2 or fewer, or a file with more records"
    )


def test_a_pretty_printed_record_names_the_line():
    path = REFERENCE_DATA / "invalid-missing-comma.json.txt"
    with pytest.raises(PromptsError) as raised:
        read_prompts(path, 1, multi_turn_allowed=False)
    assert str(raised.value) == (
        f"{path}:1: not valid JSON: the line ends inside a record (Expecting property name enclosed in double quotes); "
        "JSON Lines needs each record whole on one line, not pretty-printed over several"
    )


def test_a_prompt_completion_record_is_refused_with_the_way_out():
    path = REFERENCE_DATA / "uber10k-prompt-completion.jsonl"
    with pytest.raises(PromptsError) as raised:
        read_prompts(path, 1, multi_turn_allowed=False)
    assert str(raised.value) == f"{path}:1: (record): {PROMPT_COMPLETION_MESSAGE}"


def test_a_multi_turn_record_is_refused_for_a_single_turn_model(tmp_path):
    path = tmp_path / "prompts.jsonl"
    turns = [*SKY, {"role": "assistant", "content": [{"text": "Scattering."}]}, *SKY]
    path.write_text(json.dumps({"schemaVersion": "bedrock-conversation-2024", "messages": turns}) + "\n")
    with pytest.raises(PromptsError) as raised:
        read_prompts(path, 1, multi_turn_allowed=False)
    assert str(raised.value).startswith(f"{path}:1: messages: ")
    assert read_prompts(path, 1, multi_turn_allowed=True)[0].messages == tuple(turns)


# --- asking ---------------------------------------------------------------------------------------------------


@pytest.fixture
def runtime():
    clients = Clients("us-west-2")
    with Stubber(clients.bedrock_runtime) as stub:
        yield clients.bedrock_runtime, stub
        stub.assert_no_pending_responses()


def test_ask_sends_the_system_prompt_and_reads_usage_and_latency(runtime):
    client, stub = runtime
    expect_converse(stub, TEACHER, SKY, converse_response(TEACHER_ANSWER, 2310, 52, 17), system=SYSTEM)
    answer = ask(client, TEACHER, Prompt(1, tuple(SYSTEM), tuple(SKY)), 512)
    assert answer == Answer(TEACHER_ANSWER, latency_ms=2310, input_tokens=52, output_tokens=17)


def test_ask_turns_a_refusal_into_an_error(runtime):
    client, stub = runtime
    stub.add_client_error("converse", "ThrottlingException", "Too many requests, please wait before trying again.", 429)
    answer = ask(client, PROVISIONED_ARN, Prompt(2, (), tuple(SKY)), 512)
    assert answer.error == "ThrottlingException: Too many requests, please wait before trying again."


def test_ask_treats_an_answer_without_text_as_an_error(runtime):
    client, stub = runtime
    response = converse_response("", 80, 12, 0)
    response["stopReason"] = "content_filtered"
    expect_converse(stub, PROVISIONED_ARN, SKY, response)
    answer = ask(client, PROVISIONED_ARN, Prompt(2, (), tuple(SKY)), 512)
    assert answer.error == "no text in the answer (stopReason content_filtered)"


# --- reporting ------------------------------------------------------------------------------------------------


def comparisons() -> list[Comparison]:
    return [
        Comparison(
            Prompt(1, tuple(SYSTEM), tuple(SKY)),
            Answer(TEACHER_ANSWER, 2310, 52, 17),
            Answer(STUDENT_ANSWER, 410, 52, 12),
        ),
        Comparison(
            Prompt(2, (), tuple(SKY)),
            Answer(TEACHER_ANSWER, 2190, 18, 17),
            Answer(error="ThrottlingException: Too many requests, please wait before trying again."),
        ),
    ]


def test_the_comparison_table_and_overall_figures():
    agreement = rouge_l_f1(STUDENT_ANSWER, TEACHER_ANSWER)
    assert list(comparison_lines(comparisons())) == [
        "  line  teacher ms  student ms  teacher tok in/out  student tok in/out  teacher chars  student chars  "
        "ROUGE-L F1",
        f"     1       2,310         410               52/17               52/12             80             57  "
        f"{agreement:>10.2f}",
        "     2  FAILED student: ThrottlingException: Too many requests, please wait before trying again.",
        "",
        "overall: 1 of 2 prompts answered by both models",
        "  latency, mean (Converse metrics.latencyMs): teacher 2,310 ms, student 410 ms (0.18 of the teacher's)",
        "  teacher: 52 input and 17 output tokens in all; answers of 80 characters on average",
        "  student: 52 input and 12 output tokens in all; answers of 57 characters on average",
        f"  agreement with the teacher, mean ROUGE-L F1: {agreement:.2f} (0 = no words in common, 1 = the same words "
        "in the same order)",
    ]


# --- judging --------------------------------------------------------------------------------------------------


def test_the_job_name_fits_bedrocks_pattern():
    model = botocore.loaders.Loader().load_service_model("bedrock", "service-2")
    pattern = model["shapes"]["EvaluationJobName"]["pattern"]
    name = evaluation_job_name("Sandbox-EU1", "support-assistant", datetime(2026, 11, 28, 14, 30, 5, tzinfo=UTC))
    assert name == "sandbox-eu1-support-assistant-eval-20261128-143005"
    assert re.fullmatch(pattern, name)
    # The longest model prefix the configuration allows (40 characters) still fits Bedrock's 63.
    longest = evaluation_job_name("a" * 24, "b" * 15, datetime.now(UTC))
    assert len(longest) <= 63 and re.fullmatch(pattern, longest)


def test_the_judge_dataset_holds_only_prompts_both_models_answered():
    records = [json.loads(line) for line in judge_dataset(comparisons()).decode().splitlines()]
    assert records == [
        {
            "prompt": SYSTEM[0]["text"] + "\n\nwhy is the sky blue",
            "referenceResponse": TEACHER_ANSWER,
            "modelResponses": [{"response": STUDENT_ANSWER, "modelIdentifier": STUDENT_LABEL}],
        }
    ]


def test_submit_judge_writes_the_dataset_and_starts_the_evaluation_job():
    clients = Clients("us-west-2")
    job_name = "sandbox-distill-eval-20261128-143005"
    folder = f"s3://sandbox-evaluations/distillation/{job_name}"
    job_arn = "arn:aws:bedrock:us-west-2:123456789012:evaluation-job/e1v2a3l4u5a6"
    with Stubber(clients.s3) as s3, Stubber(clients.bedrock) as bedrock:
        s3.add_response(
            "put_object",
            {},
            {
                "Bucket": "sandbox-evaluations",
                "Key": f"distillation/{job_name}/dataset.jsonl",
                "Body": judge_dataset(comparisons()),
                "ContentType": "application/jsonl",
            },
        )
        bedrock.add_response(
            "create_evaluation_job",
            {"jobArn": job_arn},
            {
                "jobName": job_name,
                "jobDescription": "Distilled student graded against its teacher's answers",
                "roleArn": "arn:aws:iam::123456789012:role/BedrockEvaluation",
                "applicationType": "ModelEvaluation",
                "evaluationConfig": {
                    "automated": {
                        "datasetMetricConfigs": [
                            {
                                "taskType": "General",
                                "dataset": {
                                    "name": f"{job_name}-answers",
                                    "datasetLocation": {"s3Uri": f"{folder}/dataset.jsonl"},
                                },
                                "metricNames": ["Builtin.Correctness", "Builtin.Completeness", "Builtin.Helpfulness"],
                            }
                        ],
                        "evaluatorModelConfig": {
                            "bedrockEvaluatorModels": [{"modelIdentifier": "us.amazon.nova-pro-v1:0"}]
                        },
                    }
                },
                "inferenceConfig": {
                    "models": [{"precomputedInferenceSource": {"inferenceSourceIdentifier": STUDENT_LABEL}}]
                },
                "outputDataConfig": {"s3Uri": f"{folder}/results/"},
            },
        )
        arn = submit_judge(
            clients,
            comparisons(),
            job_name=job_name,
            judge="us.amazon.nova-pro-v1:0",
            role_arn="arn:aws:iam::123456789012:role/BedrockEvaluation",
            output_s3_uri="s3://sandbox-evaluations/distillation/",
        )
        s3.assert_no_pending_responses()
        bedrock.assert_no_pending_responses()
    assert arn == job_arn


# --- the command ----------------------------------------------------------------------------------------------


class Stubs:
    def __init__(self, monkeypatch) -> None:
        self.clients = Clients("us-west-2")
        self.cloudformation = Stubber(self.clients.cloudformation)
        self.runtime = Stubber(self.clients.bedrock_runtime)
        self.s3 = Stubber(self.clients.s3)
        self.bedrock = Stubber(self.clients.bedrock)
        monkeypatch.setattr(evaluate_command, "Clients", lambda region: self.clients)

    def serving(self, outputs: dict[str, str] | None, stack_name: str = SERVING_STACK) -> None:
        if outputs is None:
            self.cloudformation.add_client_error(
                "describe_stacks", "ValidationError", f"Stack with id {stack_name} does not exist", 400
            )
            return
        stack = {
            "StackName": stack_name,
            "CreationTime": datetime(2026, 11, 28, 6, 45, tzinfo=UTC),
            "StackStatus": "CREATE_COMPLETE",
            "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()],
        }
        self.cloudformation.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": stack_name})

    def both_answer(self, teacher: str = TEACHER, max_tokens: int = 512) -> None:
        for prompt, system, teacher_usage, student_usage in (
            (SKY, SYSTEM, (2310, 52, 17), (410, 52, 12)),
            (SKY, None, (2190, 18, 17), (390, 18, 12)),
        ):
            expect_converse(
                self.runtime,
                teacher,
                prompt,
                converse_response(TEACHER_ANSWER, *teacher_usage),
                system=system,
                max_tokens=max_tokens,
            )
            expect_converse(
                self.runtime,
                PROVISIONED_ARN,
                prompt,
                converse_response(STUDENT_ANSWER, *student_usage),
                system=system,
                max_tokens=max_tokens,
            )

    def __enter__(self) -> Stubs:
        for stub in (self.cloudformation, self.runtime, self.s3, self.bedrock):
            stub.activate()
        return self

    def __exit__(self, *failure) -> None:
        for stub in (self.cloudformation, self.runtime, self.s3, self.bedrock):
            stub.deactivate()
            if failure[0] is None:
                stub.assert_no_pending_responses()


def evaluate(tmp_path, *arguments: str, stage: str = "sandbox") -> int:
    return main(
        [
            "evaluate",
            "--stage",
            stage,
            "--cdk-json",
            write_cdk_json(tmp_path),
            "--prompts",
            str(README_EXAMPLES),
            *arguments,
        ]
    )


def test_evaluate_compares_the_served_student_and_exits_0(tmp_path, monkeypatch, capsys):
    with Stubs(monkeypatch) as stubs:
        stubs.serving({"JobArn": "arn:aws:bedrock:...", "ProvisionedModelArn": PROVISIONED_ARN})
        stubs.both_answer()
        assert evaluate(tmp_path, "--count", "2") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"teacher {TEACHER}\nstudent {PROVISIONED_ARN}\n")
    assert "overall: 2 of 2 prompts answered by both models" in out


def test_a_failed_call_exits_1(tmp_path, monkeypatch, capsys):
    with Stubs(monkeypatch) as stubs:
        expect_converse(stubs.runtime, TEACHER, SKY, converse_response(TEACHER_ANSWER, 2310, 52, 17), system=SYSTEM)
        stubs.runtime.add_client_error(
            "converse", "ValidationException", "The provided model identifier is invalid.", 400
        )
        assert evaluate(tmp_path, "--count", "1", "--student-model", "arn:aws:bedrock:us-west-2:123:bad") == 1
    assert "     1  FAILED student: ValidationException: The provided model identifier is invalid." in (
        capsys.readouterr().out
    )


def test_evaluate_with_a_judge_starts_the_evaluation_job(tmp_path, monkeypatch, capsys):
    job_arn = "arn:aws:bedrock:us-west-2:123456789012:evaluation-job/e1v2a3l4u5a6"
    with Stubs(monkeypatch) as stubs:
        stubs.serving({"ProvisionedModelArn": PROVISIONED_ARN})
        stubs.both_answer()
        stubs.s3.add_response(
            "put_object", {}, {"Bucket": "sandbox-evaluations", "Key": ANY, "Body": ANY, "ContentType": ANY}
        )
        stubs.bedrock.add_response(
            "create_evaluation_job",
            {"jobArn": job_arn},
            {
                "jobName": ANY,
                "jobDescription": ANY,
                "roleArn": "arn:aws:iam::123456789012:role/BedrockEvaluation",
                "applicationType": "ModelEvaluation",
                "evaluationConfig": ANY,
                "inferenceConfig": ANY,
                "outputDataConfig": ANY,
            },
        )
        assert (
            evaluate(
                tmp_path,
                "--count",
                "2",
                "--judge",
                "us.amazon.nova-pro-v1:0",
                "--output-s3-uri",
                "s3://sandbox-evaluations",
                "--role-arn",
                "arn:aws:iam::123456789012:role/BedrockEvaluation",
            )
            == 0
        )
    assert f"evaluation job started: {job_arn}" in capsys.readouterr().out


def test_no_served_model_says_how_to_name_one(tmp_path, monkeypatch, capsys):
    with Stubs(monkeypatch) as stubs:
        stubs.serving(None)
        assert evaluate(tmp_path, "--count", "1") == 2
    assert capsys.readouterr().err == (
        f"distill evaluate: the serving stack {SERVING_STACK} does not exist: no model is served; pass the model to "
        "use with --student-model\n"
    )


def test_a_bad_prompts_file_exits_2(tmp_path, capsys):
    assert evaluate(tmp_path, "--count", "3", "--student-model", PROVISIONED_ARN) == 2
    assert capsys.readouterr().err == (
        f"distill evaluate: {README_EXAMPLES}: holds 2 records, fewer than --count 3; use --count 2 or fewer, or a "
        "file with more records\n"
    )


def test_a_missing_prompts_file_exits_2(tmp_path, capsys):
    missing = tmp_path / "held-back.jsonl"
    code = main(["evaluate", "--stage", "sandbox", "--cdk-json", write_cdk_json(tmp_path), "--prompts", str(missing)])
    assert code == 2
    assert capsys.readouterr().err == f"distill evaluate: cannot read {missing}: No such file or directory\n"


@pytest.mark.parametrize("count", ["0", "1001", "ten", "-1"])
def test_a_bad_count_is_a_usage_error(tmp_path, count, capsys):
    with pytest.raises(SystemExit) as exited:
        evaluate(tmp_path, "--count", count)
    assert exited.value.code == 2
    assert (
        f"argument --count: {count!r} is not allowed; use a whole number from 1 to 1000 (an evaluation job's limit)"
        in capsys.readouterr().err
    )


def test_a_bad_output_uri_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        evaluate(tmp_path, "--output-s3-uri", "sandbox-evaluations/results")
    assert (
        "argument --output-s3-uri: 'sandbox-evaluations/results' is not an S3 location; use s3://BUCKET or "
        "s3://BUCKET/PREFIX" in capsys.readouterr().err
    )


def test_judge_options_go_together(tmp_path, capsys):
    assert evaluate(tmp_path, "--judge", "us.amazon.nova-pro-v1:0") == 2
    assert capsys.readouterr().err == (
        "distill evaluate: --judge, --output-s3-uri and --role-arn go together; give all three or none\n"
    )


def test_an_unknown_stage_exits_2(tmp_path, capsys):
    path = write_cdk_json(tmp_path)
    assert main(["evaluate", "--stage", "prod", "--cdk-json", path, "--prompts", str(README_EXAMPLES)]) == 2
    assert capsys.readouterr().err == (
        f"distill evaluate: {path}: no stage 'prod'; stages: sandbox, fleet, shared-dev, shared-prod\n"
    )


def test_model_chooses_the_model_its_teacher_and_its_served_student(tmp_path, monkeypatch, capsys):
    with Stubs(monkeypatch) as stubs:
        stubs.serving({"ProvisionedModelArn": PROVISIONED_ARN}, stack_name="fleet-distillation-summarizer-serving")
        stubs.both_answer(teacher=SUMMARIZER_TEACHER, max_tokens=256)
        assert evaluate(tmp_path, "--count", "2", "--model", "summarizer", stage="fleet") == 0
    assert capsys.readouterr().out.startswith(f"teacher {SUMMARIZER_TEACHER}\nstudent {PROVISIONED_ARN}\n")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "stage fleet has 2 models; name one with --model: support-assistant, summarizer"),
        (["--model", "tickets"], 'stage fleet has no model "tickets"; its models: support-assistant, summarizer'),
    ],
)
def test_a_stage_of_several_models_needs_the_model_named(tmp_path, capsys, arguments, message):
    assert evaluate(tmp_path, "--count", "1", *arguments, stage="fleet") == 2
    assert capsys.readouterr().err == f"distill evaluate: {message}\n"


def test_a_copied_model_has_no_teacher_here_and_says_where_its_job_is(tmp_path, capsys):
    with stand_in_sharing():
        assert evaluate(tmp_path, "--count", "1", stage="shared-prod") == 2
    assert capsys.readouterr().err == (
        "distill evaluate: model support-assistant of stage shared-prod is a copy of model support-assistant of stage "
        "shared-dev (modelSource) and runs no customization job in this stage; its job is that stage's: --stage "
        "shared-dev --model support-assistant\n"
    )
