"""The hardest sequences: answers lost past a handler's time, rollbacks onto models being deleted, commitments that
fail, someone else's logging configuration changing under the stack. Each asserts the safe outcome."""

from __future__ import annotations

import copy
from pathlib import Path

from tests.deploy.aws import FakeError
from tests.deploy.cloudformation import SUCCEEDED
from tests.deploy.harness import StageDeployment, stage_config
from tests.deploy.invariants import Expectations
from tests.deploy.test_scenarios import (
    ACCOUNT,
    HOUR,
    LOGGING_ON,
    MINUTE,
    NEWER_SOURCE,
    OTHER_DATASET,
    REGION,
    SOURCE,
    copied_stage,
    deployed,
    fail_after_the_move,
    jobs,
    served,
    served_model,
    with_dataset,
)


# -- training data --------------------------------------------------------------------------------------------------
def test_the_first_upload_finds_no_dataset_and_copies_it(world):
    # S3 answers a HeadObject for a missing key with 403 unless the caller may list the bucket.
    stage = StageDeployment(world, "dev", served())
    deployed(stage, parts=("foundation", "training"))


# -- answers lost past the handler's time -----------------------------------------------------------------------------
def test_a_throughput_whose_create_answer_is_lost_is_found_and_owned(world):
    stage = StageDeployment(world, "dev", served())
    deployed(stage, parts=("foundation", "training"))
    world.advance(4 * HOUR)
    world.faults.add("bedrock", "CreateProvisionedModelThroughput", "lose-response", times=4)
    deployed(stage, parts=("serving",))


def test_a_deployment_whose_create_answer_is_lost_is_found_and_owned(world):
    stage = StageDeployment(
        world,
        "dev",
        stage_config(models={"ticket-classifier": None, "support-assistant": {"serving": {"mode": "onDemand"}}}),
    )
    deployed(stage, parts=("foundation", "training"))
    world.advance(4 * HOUR)
    world.faults.add("bedrock", "CreateCustomModelDeployment", "lose-response", times=4)
    deployed(stage, parts=("serving",))


def test_a_new_throughput_whose_answer_is_lost_in_a_failed_update_is_deleted_by_the_rollback(world):
    stage = StageDeployment(world, "dev", served(), Expectations(parallel_throughputs=True))
    deployed(stage)
    world.faults.add("bedrock", "CreateProvisionedModelThroughput", "lose-response", times=4)

    def unreachable(call) -> bool:
        # Bedrock made the new throughput, then stays out of reach for as long as the forward update runs.
        forward = world.engine.stacks["dev-distillation-support-assistant-serving"].status == "UPDATE_IN_PROGRESS"
        return forward and len(world.bedrock.throughputs) > 1

    world.faults.add("bedrock", "*", "unreachable", times=None, when=unreachable)
    assert (
        stage.deploy(served(serving={"modelUnits": 2}))["dev-distillation-support-assistant-serving"]
        == "UPDATE_ROLLBACK_COMPLETE"
    )
    world.faults.clear()
    world.advance(HOUR)
    stage.deploy(served())
    stage.assert_invariants()
    assert len(world.bedrock.throughputs) == 1


def test_a_copy_whose_create_answer_is_lost_is_found_and_owned(world):
    stage = copied_stage(world, SOURCE)
    deployed(stage, parts=("foundation",))
    world.faults.add("bedrock", "CreateModelCopyJob", "lose-response", times=4)
    stage.deploy()
    world.faults.clear()
    world.advance(HOUR)
    deployed(stage)
    assert len(world.bedrock.copies) == 1


def test_a_new_job_left_by_an_update_whose_answer_was_lost_is_stopped_by_the_rollback(world):
    stage = StageDeployment(world, "dev", served())
    deployed(stage, parts=("foundation", "training"))
    before = len(jobs(world))

    def unreachable(call) -> bool:
        # Bedrock accepted the new job, then stays out of reach for as long as the forward update runs.
        forward = world.engine.stacks["dev-distillation-support-assistant-training"].status == "UPDATE_IN_PROGRESS"
        return forward and len(jobs(world)) > before

    world.faults.add("bedrock", "*", "unreachable", times=None, when=unreachable)
    world.faults.add("bedrock", "CreateModelCustomizationJob", "lose-response")
    stage.deploy(with_dataset(stage.config, OTHER_DATASET), parts=("foundation", "training"))
    world.faults.clear()
    world.advance(5 * MINUTE)
    stage.assert_invariants()


# -- rollbacks onto models being released ---------------------------------------------------------------------------
def test_a_serving_rollback_onto_a_model_tagged_for_deletion_keeps_it(world):
    unretained = served(distillation={"retainModel": False})
    stage = StageDeployment(world, "dev", unretained)
    deployed(stage)
    fail_after_the_move(world, stage, with_dataset(unretained, OTHER_DATASET))
    results = stage.deploy(with_dataset(unretained, OTHER_DATASET))
    assert results["dev-distillation-support-assistant-serving"] == "UPDATE_ROLLBACK_COMPLETE"
    world.advance(HOUR)
    stage.assert_invariants()


def test_a_model_adopted_again_is_no_longer_deleted_once_unserved(world):
    stage = StageDeployment(world, "dev", served(distillation={"retainModel": False}))
    deployed(stage)
    [job] = jobs(world)
    assert stage.destroy(("training",)) == {"dev-distillation-support-assistant-training": "DELETE_COMPLETE"}
    deployed(stage, served(distillation={"retainModel": True}), parts=("foundation", "training"))
    assert stage.resource("training", "Custom::BedrockDistillationJob").physical_id == job.arn
    assert set(stage.destroy(("serving",)).values()) == {"DELETE_COMPLETE"}
    assert job.model_arn in world.bedrock.models


def test_a_copy_left_by_a_rolled_back_move_is_deleted(world):
    stage = copied_stage(world, SOURCE)
    stage.config.update(production=False, removalPolicy="destroy")
    deployed(stage)
    newer = copied_stage(world, NEWER_SOURCE)
    newer.config.update(production=False, removalPolicy="destroy")
    fail_after_the_move(world, newer)
    assert newer.deploy()["shared-prod-distillation-support-assistant-serving"] == "UPDATE_ROLLBACK_COMPLETE"
    world.advance(2 * HOUR)
    deployed(stage)
    world.advance(2 * HOUR)
    stage.assert_invariants()


def test_a_rollback_while_the_throughput_moves_for_forty_minutes_completes(world):
    world.bedrock.timing.throughput_update_seconds = 40 * MINUTE
    stage = StageDeployment(world, "dev", served())
    deployed(stage)
    fail_after_the_move(world, stage, with_dataset(stage.config, OTHER_DATASET))
    stage.deploy(with_dataset(stage.config, OTHER_DATASET))
    stage.assert_invariants()
    # The move the rollback left to finish is followed by the next deploy.
    world.advance(HOUR)
    deployed(stage, with_dataset(stage.config, OTHER_DATASET))


# -- commitments ----------------------------------------------------------------------------------------------------
def test_a_committed_throughput_that_fails_is_kept_and_explained(world):
    world.bedrock.timing.next_throughput_outcomes.append("Failed")
    stage = StageDeployment(world, "dev", served(serving={"commitment": "OneMonth", "acknowledgeCommitment": True}))
    results = stage.deploy()
    assert results["dev-distillation-support-assistant-serving"] == "ROLLBACK_COMPLETE"
    assert "commitment" in stage.stack("serving").status_reason
    again = stage.deploy()
    assert again["dev-distillation-support-assistant-serving"] == "ROLLBACK_COMPLETE"
    assert "can be neither deleted nor bought anew" in stage.stack("serving").status_reason
    stage.assert_invariants()


# -- going back to settings that already ran -------------------------------------------------------------------------
def test_an_update_back_to_settings_whose_job_was_stopped_is_refused_and_keeps_the_running_job(world):
    stage = StageDeployment(world, "dev", served())
    first_config = served()
    deployed(stage, parts=("foundation", "training"))
    deployed(stage, with_dataset(first_config, OTHER_DATASET), parts=("foundation", "training"))
    world.advance(5 * MINUTE)
    results = stage.deploy(first_config, parts=("foundation", "training"))
    world.advance(5 * MINUTE)
    assert results["dev-distillation-support-assistant-training"] == "UPDATE_ROLLBACK_COMPLETE"
    assert "raise distillation.revision" in stage.stack("training").status_reason
    assert [j.status for j in jobs(world)] == ["Stopped", "InProgress"]
    stage.assert_invariants()


# -- invocation logging ---------------------------------------------------------------------------------------------
def test_a_logging_create_whose_record_fails_after_the_put_is_recognised_next_time(world):
    stage = StageDeployment(world, "dev", served(invocationLogging=LOGGING_ON))
    throttled = FakeError("ThrottlingException", "Rate exceeded")
    world.faults.add(
        "ssm", "PutParameter", throttled, times=4, when=lambda c: "invocation-logging" in c.params["Name"] and c.attempt
    )
    first = stage.deploy(parts=("foundation",))
    world.faults.clear()
    again = stage.deploy(parts=("foundation",))
    assert again["dev-distillation-foundation"] in SUCCEEDED, (first, stage.stack("foundation").status_reason)


def test_a_replaced_configuration_whose_bucket_is_gone_is_not_restored_and_the_delete_completes(world):
    world.s3.create_bucket("another-teams-logs")
    world.bedrock.logging[(ACCOUNT, REGION)] = {
        "s3Config": {"bucketName": "another-teams-logs", "keyPrefix": "x"},
        "textDataDeliveryEnabled": True,
    }
    stage = StageDeployment(world, "dev", served(invocationLogging={**LOGGING_ON, "takeOver": True}))
    deployed(stage, parts=("foundation",))
    del world.s3.buckets["another-teams-logs"]
    assert stage.destroy(("foundation",)) == {"dev-distillation-foundation": "DELETE_COMPLETE"}
    assert (ACCOUNT, REGION) not in world.bedrock.logging


def test_the_configuration_restored_is_the_latest_one_replaced(world):
    first = {"s3Config": {"bucketName": "team-a-logs", "keyPrefix": "a"}, "textDataDeliveryEnabled": True}
    later = {"s3Config": {"bucketName": "team-b-logs", "keyPrefix": "b"}, "textDataDeliveryEnabled": True}
    for bucket in ("team-a-logs", "team-b-logs"):
        world.s3.create_bucket(bucket)
    world.bedrock.logging[(ACCOUNT, REGION)] = copy.deepcopy(first)
    config = served(invocationLogging={**LOGGING_ON, "takeOver": True})
    stage = StageDeployment(world, "dev", config, Expectations(foreign_logging=True))
    deployed(stage, parts=("foundation",))
    world.bedrock.logging[(ACCOUNT, REGION)] = copy.deepcopy(later)
    del world.s3.buckets["team-a-logs"]
    deployed(
        stage, served(invocationLogging={**LOGGING_ON, "takeOver": True, "keyPrefix": "moved"}), parts=("foundation",)
    )
    stage.destroy(("foundation",))
    assert world.bedrock.logging.get((ACCOUNT, REGION)) == later


def test_a_replaced_configuration_with_a_role_is_restored_after_take_over_is_switched_off(world):
    theirs = {
        "cloudWatchConfig": {
            "logGroupName": "their-bedrock-logs",
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/their-bedrock-logging",
        },
        "textDataDeliveryEnabled": True,
    }
    world.bedrock.logging[(ACCOUNT, REGION)] = copy.deepcopy(theirs)
    stage = StageDeployment(world, "dev", served(invocationLogging={**LOGGING_ON, "takeOver": True}))
    deployed(stage, parts=("foundation",))
    deployed(stage, served(invocationLogging={**LOGGING_ON, "takeOver": False}), parts=("foundation",))
    assert stage.destroy(("foundation",)) == {"dev-distillation-foundation": "DELETE_COMPLETE"}
    assert world.bedrock.logging[(ACCOUNT, REGION)] == theirs


# -- the smoke test --------------------------------------------------------------------------------------------------
def test_the_smoke_test_runs_again_when_the_served_model_changes(world):
    stage = StageDeployment(world, "dev", served())
    deployed(stage)
    first = sum(1 for c in world.calls if c.operation == "Converse")
    deployed(stage, with_dataset(stage.config, OTHER_DATASET))
    assert sum(1 for c in world.calls if c.operation == "Converse") > first


# -- a job in the stage's VPC ---------------------------------------------------------------------------------------
def test_a_job_in_a_vpc_may_make_its_network_interfaces(world):
    config = served(
        distillation={"vpc": {"subnetIds": ["subnet-0123456789abcdef0"], "securityGroupIds": ["sg-0123456789abcdef0"]}}
    )
    stage = StageDeployment(world, "dev", config)
    deployed(stage, parts=("foundation", "training"))
    [job] = jobs(world)
    assert job.request["vpcConfig"]["subnetIds"] == ["subnet-0123456789abcdef0"]


def test_a_copy_adopted_again_while_still_served_owns_its_model_again(world):
    """A rolled-back move leaves the newer copy marked to be deleted once unserved while the throughput moves back
    off it; a deploy of that source again adopts the copy, which must clear the mark, or a later release deletes
    the model the stack serves."""
    stage = copied_stage(world, SOURCE)
    stage.config.update(production=False, removalPolicy="destroy")
    deployed(stage)
    newer = copied_stage(world, NEWER_SOURCE)
    newer.config.update(production=False, removalPolicy="destroy")
    world.bedrock.timing.throughput_update_seconds = 40 * MINUTE
    fail_after_the_move(world, newer)
    assert newer.deploy()["shared-prod-distillation-support-assistant-serving"] == "UPDATE_ROLLBACK_COMPLETE"
    [copied] = [c for c in world.bedrock.copies.values() if c.source_model_arn == NEWER_SOURCE]
    marked = world.bedrock.tags.get(copied.target_model_arn, {})
    assert "bedrock-distillation:delete-when-unserved" in marked, "the rollback's cleanup no longer marks the copy"
    deployed(newer)
    assert copied.target_model_arn in world.bedrock.models
    assert "bedrock-distillation:delete-when-unserved" not in world.bedrock.tags.get(copied.target_model_arn, {})
    world.advance(2 * HOUR)
    deployed(newer)
    assert served_model(newer) == copied.target_model_arn


def rolled_back_slow_move(world, config):
    """A deployed stage, then a new job whose serving update fails while the throughput's 40-minute move to the
    new model has only begun; the rollback must ask for the first model again. Returns the stage and the first job."""
    stage = StageDeployment(world, "dev", config)
    deployed(stage)
    first = jobs(world)[0]
    deployed(stage, with_dataset(config, OTHER_DATASET), parts=("foundation", "training"))
    world.advance(4 * HOUR)
    world.bedrock.timing.throughput_update_seconds = 40 * MINUTE
    fail_after_the_move(world, stage)
    assert stage.deploy(parts=("serving",))["dev-distillation-support-assistant-serving"] == "UPDATE_ROLLBACK_COMPLETE"
    [throughput] = world.bedrock.throughputs.values()
    assert throughput.desired_model_arn == first.model_arn, "the rollback left the throughput on the newer model"
    return stage, first


def test_a_committed_throughput_adopted_while_it_moves_off_the_model_is_moved_back_once_ready(world):
    """A rolled-back move leaves the committed throughput moving to the newer model; the serving stack is destroyed
    (the commitment is retained) and deployed again for the first model. Its Create must not take the throughput as
    serving that model while it is moving off it: the move back is made once the throughput is ready."""
    config = served(serving={"commitment": "OneMonth", "acknowledgeCommitment": True})
    stage, first = rolled_back_slow_move(world, config)
    assert stage.destroy(("serving",)) == {"dev-distillation-support-assistant-serving": "DELETE_COMPLETE"}
    deployed(stage, config, parts=("foundation", "training"))
    deployed(stage, parts=("serving",))
    assert served_model(stage) == first.model_arn
    assert len({e.arn for e in world.bedrock.billing if e.kind == "throughput"}) == 1


# -- the job's published ARN ------------------------------------------------------------------------------------------
def test_a_job_arn_ssm_refuses_to_record_does_not_fail_the_create_of_the_started_job(world):
    """SSM refusing the job's parameter after Bedrock started the job must not fail the Create: the Provider framework
    sends no Delete after a failed Create, so the paid job would run with no stack resource owning it."""
    stage = StageDeployment(world, "dev", served())
    refused = FakeError("AccessDeniedException", "not authorized to perform: ssm:PutParameter")
    world.faults.add("ssm", "PutParameter", refused, times=None, when=lambda c: c.params["Name"].endswith("/job-arn"))
    deployed(stage, parts=("foundation", "training"))
    [job] = jobs(world)
    assert stage.resource("training", "Custom::BedrockDistillationJob").physical_id == job.arn


def test_destroying_training_after_its_job_was_deleted_forgets_the_published_arn(world):
    stage = StageDeployment(world, "dev", served())
    deployed(stage, parts=("foundation", "training"))
    [job] = jobs(world)
    parameter = next(key for key in world.ssm.parameters if key[1].endswith("/job-arn"))
    # Gone from Bedrock (deleted by support, or aged out of its listing).
    del world.bedrock.jobs[next(k for k, j in world.bedrock.jobs.items() if j is job)]
    assert stage.destroy(("training",)) == {"dev-distillation-support-assistant-training": "DELETE_COMPLETE"}
    assert parameter not in world.ssm.parameters


def test_a_rollback_during_a_slow_move_moves_the_throughput_back_and_a_revert_serves_the_first_model(world):
    """The forward move takes 40 minutes and a later resource fails: the rollback must move the throughput back to
    the model the stack records, or a revert of the dataset (which leaves the serving template unchanged, so no
    handler runs) would serve the newer model for good, owned by nothing."""
    unretained = served(distillation={"retainModel": False})
    stage, first = rolled_back_slow_move(world, unretained)
    world.advance(2 * HOUR)
    assert served_model(stage) == first.model_arn
    deployed(stage, unretained)
    assert served_model(stage) == first.model_arn


def test_a_rollback_does_not_run_the_smoke_test_whose_failure_would_stop_it(world):
    """The served model stops answering while a failed serving update rolls back: a smoke test run in the rollback
    would fail it (UPDATE_ROLLBACK_FAILED, and no deploy until someone continues it)."""
    stage = StageDeployment(world, "dev", served())
    deployed(stage)
    deployed(stage, with_dataset(stage.config, OTHER_DATASET), parts=("foundation", "training"))
    world.advance(4 * HOUR)
    serving = "dev-distillation-support-assistant-serving"

    def rolling_back(_call) -> bool:
        return world.engine.stacks[serving].status == "UPDATE_ROLLBACK_IN_PROGRESS"

    unavailable = FakeError("ServiceUnavailableException", "The model is temporarily unavailable.")
    world.faults.add("bedrock-runtime", "Converse", unavailable, times=None, when=rolling_back)
    # The check's own update fails (as a refused Converse would): CloudFormation's rollback sends it an Update too.
    check = next(r.logical_id for r in stage.stack("serving").resources.values() if "SmokeTest" in r.type)
    world.engine.fail_next(serving, check, "Update")
    assert stage.deploy(parts=("serving",))[serving] == "UPDATE_ROLLBACK_COMPLETE", stage.stack("serving").status_reason


def test_a_training_deploy_while_serving_is_stuck_in_a_failed_rollback_keeps_the_model_it_needs(world, tmp_path):
    """The forward move takes 70 minutes and the rollback gives up after 50 (UPDATE_ROLLBACK_FAILED, as the README
    says): the lookup is back on the first model, the throughput on the second, and the first model is tagged to be
    deleted once unserved. A training deploy meanwhile must not release it: `continue-update-rollback` moves the
    throughput back to it."""
    unretained = served(distillation={"retainModel": False})
    expectations = Expectations(failed_stacks=frozenset({"dev-distillation-support-assistant-serving"}))
    stage = StageDeployment(world, "dev", unretained, expectations)
    deployed(stage)
    [first] = jobs(world)
    deployed(stage, with_dataset(unretained, OTHER_DATASET), parts=("foundation", "training"))
    world.advance(4 * HOUR)
    world.bedrock.timing.throughput_update_seconds = 70 * MINUTE
    fail_after_the_move(world, stage)
    assert stage.deploy(parts=("serving",))["dev-distillation-support-assistant-serving"] == "UPDATE_ROLLBACK_FAILED"
    world.advance(30 * MINUTE)
    lines = Path("datasets/sample-sec-filings.jsonl").read_text().splitlines()[:150]
    third = tmp_path / "third.jsonl"
    third.write_text("\n".join(lines) + "\n")
    stage.deploy(with_dataset(unretained, str(third)), parts=("foundation", "training"))
    assert first.model_arn in world.bedrock.models, "the model the stuck rollback must move back to was deleted"
