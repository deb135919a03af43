"""What must hold after every step of every simulated deploy, whatever happened: nothing billed is orphaned."""

from __future__ import annotations

from dataclasses import dataclass

from tests.deploy.cloudformation import FAILED_STATES
from tests.deploy.world import World

# What ``violations`` checks, in words (``make soak`` prints them).
INVARIANTS = (
    "no job runs that no live stack resource owns",
    "at most one job per stage runs at a time",
    "every Provisioned Throughput and deployment is owned by a live stack resource, or retained with a commitment",
    "every custom model is owned by its live job, its serving, its copy, or kept on purpose (retainModel)",
    "never two Provisioned Throughputs billed at once for one stage",
    "no stack in a *_FAILED state",
    "the account's logging configuration is the live foundation stack's",
    "no logging configuration delivers into a bucket that is being emptied for its deletion",
    "no handler call outside the IAM policy its role has in the template",
)


@dataclass(frozen=True)
class Expectations:
    """What a scenario caused on purpose: a stack state it provoked, or two throughputs it asked for."""

    failed_stacks: frozenset[str] = frozenset()
    parallel_throughputs: bool = False  # the scenario changed model units or the commitment
    foreign_logging: bool = False  # someone else put their logging configuration in place


NOTHING_SPECIAL = Expectations()


def violations(world: World, expect: Expectations = NOTHING_SPECIAL) -> list[str]:
    bedrock = world.bedrock
    engine = world.engine
    live = [(stack, resource) for stack in engine.live() for resource in stack.resources.values()]
    owned = {resource.physical_id for _, resource in live if resource.custom}
    retained = {resource.physical_id for _, resource in engine.retained}
    problems: list[str] = []

    # No job runs that no live stack resource owns.
    # Only what the stacks' handlers made counts: another team's jobs and models are not ours to own.
    running = [job for job in bedrock.jobs.values() if job.status == "InProgress" and job.created_by]
    for job in running:
        if job.arn not in owned:
            problems.append(f"the job {job.name} runs (and bills) but no live stack resource owns it")
    # At most one job per stage runs at a time.
    by_stage: dict[str, list[str]] = {}
    for job in running:
        by_stage.setdefault(job.name.split("-distill-")[0], []).append(job.name)
    for stage, names in by_stage.items():
        if len(names) > 1:
            problems.append(f"stage {stage} has {len(names)} jobs running at once: {', '.join(sorted(names))}")

    # Every billed serving resource is owned by a live stack resource, or was retained on purpose.
    for arn, throughput in bedrock.throughputs.items():
        if throughput.created_by and arn not in owned and not (arn in retained and throughput.commitment):
            problems.append(f"the Provisioned Throughput {throughput.name} bills but no live stack resource owns it")
    for arn, deployment in bedrock.deployments.items():
        if deployment.created_by and arn not in owned:
            problems.append(f"the deployment {deployment.name} exists but no live stack resource owns it")

    # Every custom model is owned: by the live job resource that produced it, by the live resource that serves or
    # copied it, or it was kept on purpose (retainModel, the default, as the README says).
    copy_targets = {c.target_model_arn for c in bedrock.copies.values() if c.arn in owned}
    kept_on_purpose = {
        bedrock.jobs[physical_id].model_arn
        for physical_id, properties in world.engine_deleted_jobs()
        if physical_id in bedrock.jobs and properties.get("RetainModelOnDelete", "true") != "false"
    } | {
        c.target_model_arn
        for physical_id, properties in world.engine_deleted_copies()
        for c in [bedrock.copies.get(physical_id)]
        if c is not None and properties.get("RetainModelOnDelete", "true") != "false"
    }
    for arn, model in bedrock.models.items():
        if not model.created_by:
            continue
        produced_by_live_job = model.job_arn in owned
        if not (produced_by_live_job or arn in owned or arn in copy_targets or arn in kept_on_purpose):
            problems.append(f"the custom model {model.name} is stored (and billed) but nothing owns or kept it")

    # Never two throughputs for one stage at once, unless the scenario changed units or the commitment.
    if not expect.parallel_throughputs:
        entries = sorted((e for e in bedrock.billing if e.kind == "throughput"), key=lambda e: e.start)
        for index, first in enumerate(entries):
            for second in entries[index + 1 :]:
                if first.end is None or first.end > second.start:
                    problems.append(f"two Provisioned Throughputs billed at once ({first.arn}, {second.arn})")

    # No stack in a *_FAILED state the scenario did not cause.
    for stack in engine.stacks.values():
        if stack.status in FAILED_STATES and stack.name not in expect.failed_stacks:
            problems.append(f"{stack.name} is {stack.status}: {stack.status_reason}")

    # The account's logging configuration is the one the live foundation stack put there.
    if not expect.foreign_logging:
        for stack, resource in live:
            if resource.type == "Custom::BedrockInvocationLogging" and resource.status.endswith("COMPLETE"):
                configuration = bedrock.logging.get((stack.account, stack.region), {})
                bucket = (configuration.get("s3Config") or {}).get("bucketName")
                if bucket != resource.properties["BucketName"]:
                    problems.append(
                        f"the logging configuration of {stack.account}/{stack.region} delivers to {bucket}, not to "
                        f"the stack's bucket {resource.properties['BucketName']}"
                    )

    # The logging configuration was restored or deleted before the bucket it delivered to was emptied.
    problems += world.s3.lost_log_deliveries

    # Every call a handler made was allowed by the IAM policy its role has in the template.
    problems += [f"IAM denied a call: {denial}" for denial in world.denials]
    return problems
