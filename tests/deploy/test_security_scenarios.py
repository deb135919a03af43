"""What a destroy deletes and keeps, proven by simulated deploys: the account's logging configuration is put back
before the logs bucket is emptied, another team's logs are never touched, and the key outlives a retained model."""

from __future__ import annotations

import copy

from tests.deploy.harness import StageDeployment
from tests.deploy.invariants import Expectations
from tests.deploy.test_scenarios import ACCOUNT, LOGGING_ON, REGION, deployed, jobs, served

THEIRS = {"s3Config": {"bucketName": "another-teams-logs", "keyPrefix": "theirs"}, "textDataDeliveryEnabled": True}
THEIR_LOG = "theirs/AWSLogs/111111111111/BedrockModelInvocationLogs/us-east-1/2026/12/01/00/log.json.gz"


def logs_bucket(stage: StageDeployment) -> str:
    return stage.resource("foundation", "Custom::BedrockInvocationLogging").properties["BucketName"]


def without_delete_order(stage: StageDeployment):
    """The stage's foundation as it was before the logging resource depended on the bucket's auto-delete resource."""
    foundation = copy.deepcopy(stage.stacks()[0])
    for resource in foundation.template["Resources"].values():
        if resource["Type"] == "Custom::BedrockInvocationLogging":
            resource["DependsOn"] = [d for d in resource["DependsOn"] if "AutoDeleteObjects" not in d]
    return foundation


def test_destroying_a_sandbox_that_took_over_logging_restores_the_other_teams_configuration(world):
    world.s3.create_bucket("another-teams-logs")
    world.s3.put("another-teams-logs", THEIR_LOG, b"their prompts")
    world.bedrock.logging[(ACCOUNT, REGION)] = copy.deepcopy(THEIRS)
    stage = StageDeployment(world, "dev", served(invocationLogging={**LOGGING_ON, "takeOver": True}))
    deployed(stage, parts=("foundation",))
    ours = logs_bucket(stage)
    assert world.bedrock.logging[(ACCOUNT, REGION)]["s3Config"]["bucketName"] == ours
    world.s3.put(ours, "invocation-logs/AWSLogs/111111111111/BedrockModelInvocationLogs/log.json.gz", b"prompts")

    assert stage.destroy(("foundation",)) == {"dev-distillation-foundation": "DELETE_COMPLETE"}
    assert world.bedrock.logging[(ACCOUNT, REGION)] == THEIRS
    assert ours not in world.s3.buckets
    assert world.s3.buckets["another-teams-logs"] == {THEIR_LOG: b"their prompts"}
    stage.assert_invariants()  # among them: no logging delivered into the bucket while it was emptied


def test_destroying_a_sandbox_that_logs_deletes_its_configuration_before_emptying_the_bucket(world):
    stage = StageDeployment(world, "dev", served(invocationLogging=LOGGING_ON))
    deployed(stage, parts=("foundation",))
    assert stage.destroy(("foundation",)) == {"dev-distillation-foundation": "DELETE_COMPLETE"}
    assert (ACCOUNT, REGION) not in world.bedrock.logging
    assert world.s3.lost_log_deliveries == []
    stage.assert_invariants()


def test_without_the_delete_order_the_bucket_is_emptied_while_the_account_still_logs_into_it(world):
    # The same destroy on a template without the dependency: CloudFormation may delete the two resources in either
    # order, and the simulator's order empties the bucket first. The invariant above is what catches it.
    world.s3.create_bucket("another-teams-logs")
    world.bedrock.logging[(ACCOUNT, REGION)] = copy.deepcopy(THEIRS)
    stage = StageDeployment(
        world, "dev", served(invocationLogging={**LOGGING_ON, "takeOver": True}), Expectations(foreign_logging=True)
    )
    assert world.deploy([without_delete_order(stage)]) == {"dev-distillation-foundation": "CREATE_COMPLETE"}
    world.destroy(["dev-distillation-foundation"])
    assert world.s3.lost_log_deliveries and "still delivers into" in world.s3.lost_log_deliveries[0]
    assert any("still delivers into" in problem for problem in stage.violations())


def test_destroying_a_stage_whose_model_is_retained_keeps_the_key_the_model_is_encrypted_with(world):
    stage = StageDeployment(world, "dev", served())  # retainModel defaults to true
    deployed(stage)
    [job] = jobs(world)
    assert set(stage.destroy().values()) == {"DELETE_COMPLETE"}
    assert job.model_arn in world.bedrock.models
    assert [resource.type for _, resource in world.engine.retained if resource.type == "AWS::KMS::Key"] == [
        "AWS::KMS::Key"
    ]
    stage.assert_invariants()


def test_destroying_a_stage_that_keeps_no_model_schedules_the_keys_deletion(world):
    stage = StageDeployment(world, "dev", served(distillation={"retainModel": False}))
    deployed(stage)
    assert set(stage.destroy().values()) == {"DELETE_COMPLETE"}
    assert [resource for _, resource in world.engine.retained if resource.type == "AWS::KMS::Key"] == []
    stage.assert_invariants()
