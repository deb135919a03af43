"""What another stage or team made under a name the stage derives for its own, proven by simulated deploys: the
handlers read its tags before they adopt, retag, move, stop or delete it, and refuse it unless it carries the stage's
tag, even where IAM would let them tag it (an untagged resource may be tagged on create, and IAM cannot tell that
TagResource from a later one: distill/constructs/bedrock_resource.py stage_created)."""

from __future__ import annotations

from tests.deploy.harness import StageDeployment
from tests.deploy.services import Job, Throughput
from tests.deploy.test_scenarios import (
    ACCOUNT,
    FOREIGN_TAGS,
    HOUR,
    MINUTE,
    REGION,
    deployed,
    foreign_model,
    jobs,
    served,
)


def template_property(stage: StageDeployment, part: str, resource_type: str, name: str) -> str:
    [template] = [s for s in stage.stacks() if s.name.endswith(f"-{part}")]
    [resource] = [r for r in template.template["Resources"].values() if r["Type"] == resource_type]
    return resource["Properties"][name]


def owner_of(tags: dict[str, str]) -> str:
    """How the refusal names the owner that a resource's tags give."""
    return (
        f"it is tagged distillation-stage={tags['distillation-stage']}" if tags else "it has no distillation-stage tag"
    )


def their_throughput(world, name: str, tags: dict[str, str], *, status: str) -> Throughput:
    """Another team's Provisioned Throughput of ``name`` serving their own model; one still Creating becomes
    InService twenty minutes later, as Bedrock's would."""
    model = foreign_model(world, "other-team-model", {})
    theirs = Throughput(
        arn=f"arn:aws:bedrock:{REGION}:{ACCOUNT}:provisioned-model/0othertheirs",
        name=name,
        account=ACCOUNT,
        region=REGION,
        model_units=1,
        model_arn=model.arn,
        desired_model_arn=model.arn,
        foundation_model_arn=model.base_model_arn,
        created=world.clock.now,
        modified=world.clock.now,
        status=status,
    )
    world.bedrock.throughputs[theirs.arn] = theirs
    world.bedrock.tags[theirs.arn] = dict(tags)
    if status == "Creating":
        world.clock.call_later(20 * MINUTE, lambda: world.bedrock._throughput_ready(theirs), service=True)
    return theirs


@FOREIGN_TAGS
def test_serving_refuses_a_throughput_still_being_created_that_has_the_name_it_gives_its_own(world, tags):
    # Busy, theirs cannot move yet: without a look at its tags the handler would tag an untagged one as the stage's
    # (IAM allows that TagResource) and move it to the stage's model once it is ready.
    stage = StageDeployment(world, "dev", served())
    deployed(stage, parts=("foundation", "training"))
    world.advance(4 * HOUR)  # the job has completed: the serving deploy goes straight to its throughput
    name = template_property(stage, "serving", "Custom::BedrockProvisionedThroughput", "Name")
    theirs = their_throughput(world, name, tags, status="Creating")
    their_model = theirs.model_arn

    results = stage.deploy(parts=("serving",))

    assert results["dev-distillation-support-assistant-serving"] == "ROLLBACK_COMPLETE"
    reason = stage.stack("serving").status_reason
    assert (
        f"The Provisioned Throughput {theirs.arn} has the name {name} that this stage derives for its own, but "
        f"{owner_of(tags)} rather than distillation-stage=dev: it is not this stage's, so it is left as it is."
        in reason
    )
    assert "change serving.modelUnits or serving.commitment" in reason
    world.advance(30 * MINUTE)
    assert world.bedrock.throughputs == {theirs.arn: theirs}
    assert (theirs.status, theirs.model_arn, theirs.desired_model_arn) == ("InService", their_model, their_model)
    assert world.bedrock.tags[theirs.arn] == tags
    stage.assert_invariants()


@FOREIGN_TAGS
def test_serving_refuses_a_throughput_in_service_that_has_the_name_it_gives_its_own(world, tags):
    # IAM would refuse the move anyway; the handler refuses first, and says whose it is and what to do.
    stage = StageDeployment(world, "dev", served())
    name = template_property(stage, "serving", "Custom::BedrockProvisionedThroughput", "Name")
    theirs = their_throughput(world, name, tags, status="InService")
    their_model = theirs.model_arn

    results = stage.deploy()

    assert results["dev-distillation-support-assistant-serving"] == "ROLLBACK_COMPLETE"
    assert f"{theirs.arn} has the name {name}" in stage.stack("serving").status_reason
    assert not [d for d in world.denials if theirs.arn in d]
    # Theirs still serves their model, as they tagged it, and the stage bought none of its own.
    assert world.bedrock.throughputs == {theirs.arn: theirs}
    assert (theirs.status, theirs.model_arn, theirs.desired_model_arn) == ("InService", their_model, their_model)
    assert world.bedrock.tags[theirs.arn] == tags
    stage.assert_invariants()


@FOREIGN_TAGS
def test_training_refuses_a_running_job_that_has_the_name_it_gives_its_own(world, tags):
    # Without a look at its tags the handler would adopt an untagged one, tag it as the stage's, and stop it at the
    # stage's next change of settings.
    stage = StageDeployment(world, "dev", served())
    deployed(stage, parts=("foundation",))
    name = template_property(stage, "training", "Custom::BedrockDistillationJob", "JobName")
    theirs = Job(
        arn=f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-customization-job/amazon.nova-lite-v1:0:300k/0othertheirs",
        name=name,
        request={
            "customModelName": name,
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/other-team-bedrock",
            "baseModelIdentifier": "amazon.nova-lite-v1:0:300k",
            "trainingDataConfig": {"s3Uri": "s3://other-team-data/train.jsonl"},
            "outputDataConfig": {"s3Uri": "s3://other-team-data/output/"},
        },
        account=ACCOUNT,
        region=REGION,
        created=world.clock.now,
    )
    world.bedrock.jobs[theirs.arn] = theirs
    world.bedrock.tags[theirs.arn] = dict(tags)

    results = stage.deploy(parts=("training",))

    assert results["dev-distillation-support-assistant-training"] == "ROLLBACK_COMPLETE"
    reason = stage.stack("training").status_reason
    assert (
        f"The distillation job {theirs.arn} has the name {name} that this stage derives for its own, but "
        f"{owner_of(tags)} rather than distillation-stage=dev: it is not this stage's, so it is left as it is."
        in reason
    )
    assert "raise distillation.revision in cdk.json" in reason
    world.advance(10 * MINUTE)
    assert theirs.status == "InProgress"
    assert world.bedrock.tags[theirs.arn] == tags
    assert not [c for c in world.calls if c.operation == "StopModelCustomizationJob"]
    assert jobs(world) == []
    stage.assert_invariants()
