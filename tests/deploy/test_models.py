"""Scenarios of a stage with several models: what the models share, one model updated or destroyed alone, and the
account's job quota respected however many models the stage distils."""

from __future__ import annotations

import copy

from tests.conftest import TEST_STAGES
from tests.deploy.harness import StageDeployment, stage_config
from tests.deploy.services import DEFAULT_RUNNING_JOBS_QUOTA
from tests.deploy.test_scenarios import deployed, jobs

ASSISTANT, CLASSIFIER = "support-assistant", "ticket-classifier"


def two_models() -> dict:
    """The shipped dev stage with both its models: one trained from the shipped dataset, one from the stage's own
    invocation logs with a filter, each served on demand."""
    config = stage_config("dev")
    assert list(config["models"]) == [ASSISTANT, CLASSIFIER]
    return config


def resources_of(stage: StageDeployment, model: str) -> dict[str, tuple]:
    """Each resource of the model's stacks, as (physical id, last time CloudFormation created or updated it)."""
    found = {}
    for part in ("training", "serving"):
        stack = stage.stack(part, model)
        found.update({(part, r.logical_id): (r.physical_id, r.updated_at) for r in stack.resources.values()})
    return found


def test_two_models_share_the_foundation_and_each_gets_its_own_job_wait_and_served_model(world):
    stage = StageDeployment(world, "dev", two_models())
    deployed(stage)
    assert sorted(j.name.split("-distill-")[0] for j in jobs(world)) == [
        "dev-support-assistant",
        "dev-ticket-classifier",
    ]
    assert len(world.bedrock.deployments) == 2
    keys = {d.kms_key for d in world.bedrock.models.values()}
    assert len(keys) == 1, "both custom models are encrypted with the stage's one key"
    roles = {j.request["roleArn"] for j in jobs(world)}
    assert len(roles) == 1, "both jobs run as the stage's one service role"
    assert len(world.bedrock.logging) == 1
    stage.assert_invariants()


def test_updating_one_model_sends_no_request_to_the_others_resources(world):
    config = two_models()
    stage = StageDeployment(world, "dev", config)
    deployed(stage)
    before = resources_of(stage, ASSISTANT)
    changed = copy.deepcopy(config)
    changed["models"][CLASSIFIER]["distillation"]["revision"] = 2
    deployed(stage, changed)
    assert resources_of(stage, ASSISTANT) == before
    classifier_jobs = [j for j in jobs(world) if j.name.startswith("dev-ticket-classifier-")]
    assert len(classifier_jobs) == 2, "the classifier's new revision is a new job"
    stage.assert_invariants()


def test_destroying_one_model_leaves_the_other_served_and_nothing_billed_of_its_own(world):
    config = two_models()
    stage = StageDeployment(world, "dev", config)
    deployed(stage)
    kept = resources_of(stage, ASSISTANT)
    results = stage.destroy(parts=("serving", "training"), models=(CLASSIFIER,))
    assert set(results.values()) == {"DELETE_COMPLETE"}, results
    assert resources_of(stage, ASSISTANT) == kept
    # The stage without the model: its row leaves the dashboard, its rules the foundation.
    without = copy.deepcopy(config)
    del without["models"][CLASSIFIER]
    deployed(stage, without)
    assert resources_of(stage, ASSISTANT) == kept
    served = [d for d in world.bedrock.deployments.values() if d.name.startswith("dev-support-assistant-")]
    assert len(served) == 1 and len(world.bedrock.deployments) == 1
    stage.assert_invariants()


def test_three_models_with_two_job_slots_start_their_jobs_in_turn(world):
    """The default quota of jobs in progress is two: the third model's job starts once the first one's has ended,
    and no CreateModelCustomizationJob is refused for the quota."""
    assert world.bedrock.quotas.running_jobs == DEFAULT_RUNNING_JOBS_QUOTA == 2
    stage = StageDeployment(world, "fleet", copy.deepcopy(TEST_STAGES["fleet"]))
    deployed(stage)
    # Each of the three jobs was asked for once: none was refused and asked for again.
    assert len([c for c in world.calls if c.operation == "CreateModelCustomizationJob"]) == 3
    assert len(jobs(world)) == 3 and {j.status for j in jobs(world)} == {"Completed"}
    (first, second, third) = sorted(jobs(world), key=lambda j: j.created)
    assert third.created >= min(first.ended, second.ended), "the third job started while two others ran"
    assert len(world.bedrock.deployments) == 3
    stage.assert_invariants()


def test_without_the_turns_the_third_job_would_be_refused(world):
    """The control: a stage that says the account runs three jobs at once, in an account whose quota is two, has
    its third job refused by Bedrock, which is what the turns prevent."""
    config = copy.deepcopy(TEST_STAGES["fleet"])
    config["concurrentJobs"] = 3
    stage = StageDeployment(world, "fleet", config)
    results = stage.deploy()
    (refused,) = [name for name, status in results.items() if status == "ROLLBACK_COMPLETE"]
    model = refused.removeprefix("fleet-distillation-").removesuffix("-training")
    assert "model customization jobs in progress" in stage.stack("training", model).status_reason
    assert len(jobs(world)) == 2
