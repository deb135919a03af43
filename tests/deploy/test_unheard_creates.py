"""Creates that CloudFormation never hears back from: its hour runs out, or the stack is deleted while the Provider's
isComplete waits. The Delete that follows carries no ARN, so what the Create made is found by the name the stack
derived, and deleted or released as the stack's own."""

from __future__ import annotations

from tests.deploy.harness import StageDeployment
from tests.deploy.test_scenarios import (
    HOUR,
    MINUTE,
    OTHER_DATASET,
    SOURCE,
    copied_stage,
    deployed,
    served,
    with_dataset,
)


def test_a_copy_whose_create_outlasts_cloudformations_hour_leaves_no_model_behind(world):
    """The copy's answer is lost and Bedrock stays out of reach for minutes while on_event looks for it by name; the
    wait's deadline counts from the request, and the rollback's Delete finds the copy by name and deletes its model
    once it completes."""
    world.bedrock.timing.copy_seconds = 65 * MINUTE
    stage = copied_stage(world, SOURCE)
    stage.config.update(production=False, removalPolicy="destroy")
    deployed(stage, parts=("foundation",))
    world.faults.add("bedrock", "CreateModelCopyJob", "lose-response", times=4)
    world.faults.add("bedrock", "ListModelCopyJobs", "unreachable", times=40, when=lambda _: bool(world.bedrock.copies))
    stage.deploy(parts=("serving",))
    world.faults.clear()
    world.advance(2 * HOUR)
    stage.assert_invariants()


def test_a_stack_deleted_while_a_create_waits_to_move_the_throughput_it_adopted_deletes_it(world):
    """A first Create's answer is lost (the stack rolls back, the throughput goes on being created); the next deploy
    adopts it by name while it is still Creating for the old model, so is_complete waits to move it; the user deletes
    the stack meanwhile. The Delete, without the ARN, finds the throughput by its name and deletes it."""
    world.bedrock.timing.throughput_seconds = 10 * HOUR
    stage = StageDeployment(world, "dev", served())
    deployed(stage, parts=("foundation", "training"))
    world.advance(4 * HOUR)
    world.faults.add("bedrock", "CreateProvisionedModelThroughput", "lose-response", times=4)

    def unreachable(_call) -> bool:
        serving = world.engine.stacks.get("dev-distillation-support-assistant-serving")
        return serving is not None and serving.status == "CREATE_IN_PROGRESS" and bool(world.bedrock.throughputs)

    world.faults.add("bedrock", "*", "unreachable", times=None, when=unreachable)
    assert stage.deploy(parts=("serving",))["dev-distillation-support-assistant-serving"] == "ROLLBACK_COMPLETE"
    world.faults.clear()
    stage.deploy(with_dataset(stage.config, OTHER_DATASET), parts=("foundation", "training"))
    world.advance(4 * HOUR)
    world.engine.destroy_during_operation("dev-distillation-support-assistant-serving", world.clock.now + 10 * MINUTE)
    stage.deploy(parts=("serving",))
    assert not [t for t in world.bedrock.throughputs.values() if t.status != "Deleted"], world.bedrock.throughputs
    stage.assert_invariants()
