"""The release of a stage's unserved models and the lifecycle of a copied model, through simulated deploys.

A release deletes the stage's models tagged to be deleted once unserved; it must never run while CloudFormation rolls
the stack back (what the rollback moves back to may be one of them), and never touch another stage's models. A copy
whose CreateModelCopyJob answer was lost in a failed update must not be left behind by the rollback.
"""

from __future__ import annotations

from tests.deploy.harness import StageDeployment
from tests.deploy.services import Model
from tests.deploy.test_scenarios import (
    HOUR,
    NEWER_SOURCE,
    OTHER_DATASET,
    SOURCE,
    copied_stage,
    deployed,
    jobs,
    served,
    served_model,
    with_dataset,
)

DELETE_WHEN_UNSERVED = "bedrock-distillation:delete-when-unserved"


def test_a_serving_rollback_after_the_throughput_moved_keeps_the_model_it_moves_back_to(world):
    """The training update tags the first model (the throughput still serves it); serving moves the lookup and the
    throughput to the new model, then the smoke test fails. CloudFormation rolls the lookup back before the throughput
    (the throughput's ModelArn is the lookup's attribute): the lookup's rollback must not release the first model,
    which at that moment nothing serves, or the throughput's rollback cannot move back to it."""
    unretained = served(distillation={"retainModel": False})
    stage = StageDeployment(world, "dev", unretained)
    deployed(stage)
    [first] = jobs(world)
    smoke_test = stage.resource("serving", "Custom::BedrockServingSmokeTest").logical_id
    world.engine.fail_next("dev-distillation-support-assistant-serving", smoke_test, "Update")
    results = stage.deploy(with_dataset(unretained, OTHER_DATASET))
    assert results["dev-distillation-support-assistant-serving"] == "UPDATE_ROLLBACK_COMPLETE", stage.stack(
        "serving"
    ).status_reason
    assert first.model_arn in world.bedrock.models
    assert DELETE_WHEN_UNSERVED in world.bedrock.tags[first.model_arn]
    world.advance(HOUR)
    assert served_model(stage) == first.model_arn
    stage.assert_invariants()


def test_a_release_leaves_another_stages_model_alone_and_goes_on_to_the_stages_own(world):
    """Model support-assistant of stage shared-prod names its copies shared-prod-support-assistant-copy-...; so are
    the jobs of model assistant-copy of stage shared-prod-support (shared-prod-support-assistant-copy-distill-...).
    Theirs, tagged to be deleted once unserved, is not the copied stage's to delete (and IAM would refuse it); the
    stage's own earlier copy, listed after it, is released all the same."""
    stage = copied_stage(world, SOURCE)
    account, region = stage.config["account"], stage.config["region"]
    theirs = unserved_model(
        world, "shared-prod-support-assistant-copy-distill-0123456789ab", "shared-prod-support", account, region
    )
    ours = unserved_model(world, "shared-prod-support-assistant-copy-0a1b2c3d4e5f", "shared-prod", account, region)
    deployed(stage)
    assert theirs.arn in world.bedrock.models
    assert ours.arn not in world.bedrock.models
    assert not [
        c for c in world.calls if c.operation == "DeleteCustomModel" and c.params["modelIdentifier"] == theirs.arn
    ]


def unserved_model(world, name: str, stage: str, account: str, region: str) -> Model:
    """A custom model of ``stage`` tagged to be deleted once unserved, which nothing serves."""
    model = Model(
        arn=f"arn:aws:bedrock:{region}:{account}:custom-model/amazon.nova-lite-v1:0:300k/{name[-12:]}",
        name=name,
        base_model_arn=f"arn:aws:bedrock:{region}::foundation-model/amazon.nova-lite-v1:0:300k",
        account=account,
        region=region,
        created=world.clock.now,
    )
    world.bedrock.models[model.arn] = model
    world.bedrock.tags[model.arn] = {"distillation-stage": stage, DELETE_WHEN_UNSERVED: "true"}
    return model


# -- a copied model ---------------------------------------------------------------------------------------------------
def destroyable_copied_stage(world, source: str) -> StageDeployment:
    stage = copied_stage(world, source)
    stage.config.update(production=False, removalPolicy="destroy")
    return stage


def test_a_new_copy_whose_create_answer_is_lost_is_found_and_owned(world):
    stage = destroyable_copied_stage(world, SOURCE)
    deployed(stage)
    world.faults.add("bedrock", "CreateModelCopyJob", "lose-response", times=4)
    newer = destroyable_copied_stage(world, NEWER_SOURCE)
    newer.deploy()
    world.faults.clear()
    world.advance(2 * HOUR)
    newer.assert_invariants()
    [copied] = [c for c in world.bedrock.copies.values() if c.source_model_arn == NEWER_SOURCE]
    assert newer.resource("serving", "Custom::BedrockModelCopy").physical_id == copied.arn


def test_a_copy_a_failed_update_started_and_lost_is_deleted_by_the_rollback(world):
    """Bedrock starts the newer copy, its answer is lost, and Bedrock stays out of reach for the rest of the forward
    update, which fails; the rollback finds that copy by name, waits for it (a copy cannot be stopped) and deletes its
    model."""
    stage = destroyable_copied_stage(world, SOURCE)
    deployed(stage)
    world.faults.add("bedrock", "CreateModelCopyJob", "lose-response", times=4)

    def unreachable(call) -> bool:
        forward = (
            world.engine.stacks["shared-prod-distillation-support-assistant-serving"].status == "UPDATE_IN_PROGRESS"
        )
        return forward and any(c.source_model_arn == NEWER_SOURCE for c in world.bedrock.copies.values())

    world.faults.add("bedrock", "*", "unreachable", times=None, when=unreachable)
    newer = destroyable_copied_stage(world, NEWER_SOURCE)
    results = newer.deploy()
    assert results["shared-prod-distillation-support-assistant-serving"] == "UPDATE_ROLLBACK_COMPLETE", results
    world.faults.clear()
    [stray] = [c for c in world.bedrock.copies.values() if c.source_model_arn == NEWER_SOURCE]
    assert stray.target_model_arn not in world.bedrock.models
    world.advance(2 * HOUR)
    stage.assert_invariants()
    assert stray.target_model_arn not in world.bedrock.models
