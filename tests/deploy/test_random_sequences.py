"""Random sequences of what users and AWS do to a stage, with the lifecycle invariants checked after every step.

Hypothesis draws deploys of changing configurations, destroys of single stacks, time passing, and faults (Bedrock
refusing a job, a job or a throughput failing, another team filling the job quota, throttling, lost events, a
resource that fails its update), and shrinks any sequence that breaks an invariant to a short one. A bounded number
of sequences runs with every `make test`; `make soak` runs thousands (SOAK_EXAMPLES).
"""

from __future__ import annotations

import copy
import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tests.deploy.aws import FakeError
from tests.deploy.harness import StageDeployment, stage_config
from tests.deploy.services import Job
from tests.deploy.world import World

HOUR = 3600
OTHER_DATASET = "tests/fixtures/datasets/sample-sec-filings-first-100.jsonl"
EXAMPLES = int(os.environ.get("SOAK_EXAMPLES", "4"))
STEPS = int(os.environ.get("SOAK_STEPS", "8"))
# What the soak counted, for `make soak` to print.
COUNTS = {"sequences": 0, "steps": 0}


def variants() -> dict[str, dict]:
    """The configurations a sequence moves between: each is synthesized once per session."""
    # The shipped dev stage's support assistant alone (its other model is left out), as a Provisioned Throughput.
    base = stage_config(
        models={"ticket-classifier": None, "support-assistant": {"serving": {"mode": "provisioned", "modelUnits": 1}}}
    )
    other_data = copy.deepcopy(base)
    other_data["models"]["support-assistant"]["distillation"]["trainingData"] = {"file": OTHER_DATASET}
    retagged = copy.deepcopy(base)
    retagged["tags"] = {**retagged.get("tags", {}), "cost-center": "research"}
    revised = copy.deepcopy(base)
    revised["models"]["support-assistant"]["distillation"]["revision"] = 2
    unretained = copy.deepcopy(other_data)
    unretained["models"]["support-assistant"]["distillation"]["retainModel"] = False
    unretained_base = copy.deepcopy(base)
    unretained_base["models"]["support-assistant"]["distillation"]["retainModel"] = False
    on_demand = copy.deepcopy(other_data)
    on_demand["models"]["support-assistant"]["serving"] = {"mode": "onDemand"}
    return {
        "base": base,
        "other-data": other_data,
        "retagged": retagged,
        "revised": revised,
        "unretained": unretained,
        "unretained-base": unretained_base,
        "on-demand": on_demand,
    }


VARIANTS = variants()
PARTS = ("foundation", "training", "serving")
# What AWS may do while a deploy runs: each a method of StageLifecycle below.
FAULTS = (
    "nothing",
    "bedrock_refuses_the_next_job",
    "the_next_job_fails",
    "the_next_throughput_fails",
    "another_team_fills_a_job_slot",
    "bedrock_throttles_every_call_once",
    "events_are_lost",
    "a_resource_fails_its_next_update",
)


class StageLifecycle(RuleBasedStateMachine):
    """One stage in one simulated account, driven by random operations and faults."""

    @initialize()
    def start(self) -> None:
        self.world = World()
        self._active = self.world.active()
        self._active.__enter__()
        self.stage = StageDeployment(self.world, "dev", VARIANTS["base"])
        COUNTS["sequences"] += 1

    def teardown(self) -> None:
        if hasattr(self, "_active"):
            self._active.__exit__(None, None, None)

    @rule(
        variant=st.sampled_from(sorted(VARIANTS)),
        parts=st.sampled_from([PARTS, PARTS[:2]]),
        fault=st.sampled_from(FAULTS),
    )
    def deploy(self, variant: str, parts: tuple[str, ...], fault: str) -> None:
        """`cdk deploy` of a configuration, with what AWS does meanwhile."""
        getattr(self, fault)()
        self.stage.deploy(VARIANTS[variant], parts=parts)

    @rule(parts=st.sampled_from([("serving",), ("training",), ("serving", "training", "foundation")]))
    def destroy(self, parts: tuple[str, ...]) -> None:
        self.stage.destroy(parts)

    @rule(hours=st.sampled_from([0.25, 1, 4, 13]), other_teams_jobs_end=st.booleans())
    def time_passes(self, hours: float, other_teams_jobs_end: bool) -> None:
        if other_teams_jobs_end:
            for job in self.world.bedrock.jobs.values():
                if not job.created_by and job.status == "InProgress":
                    job.status = "Completed"
        self.world.advance(hours * HOUR)

    # -- what AWS does while a deploy runs ------------------------------------------------------------------------
    def nothing(self) -> None:
        self.world.eventbridge.drop_events = False

    def bedrock_refuses_the_next_job(self) -> None:
        error = FakeError("ValidationException", "The training data is invalid")
        self.world.faults.add("bedrock", "CreateModelCustomizationJob", error)

    def the_next_job_fails(self) -> None:
        self.world.bedrock.timing.next_job_outcomes.append("Failed")

    def the_next_throughput_fails(self) -> None:
        self.world.bedrock.timing.next_throughput_outcomes.append("Failed")

    def another_team_fills_a_job_slot(self) -> None:
        world, config = self.world, self.stage.config
        name = f"other-team-{len(world.bedrock.jobs)}"
        world.bedrock.jobs[name] = Job(
            arn=f"arn:aws:bedrock:{config['region']}:{config['account']}:model-customization-job/other/"
            f"{len(world.bedrock.jobs):012d}",
            name=name,
            request={},
            account=config["account"],
            region=config["region"],
            created=world.clock.now,
        )

    def bedrock_throttles_every_call_once(self) -> None:
        throttled = FakeError("ThrottlingException", "Rate exceeded")
        self.world.faults.add("bedrock", "*", throttled, times=50, when=lambda call: call.attempt == 1)

    def events_are_lost(self) -> None:
        self.world.eventbridge.drop_events = True

    def a_resource_fails_its_next_update(self) -> None:
        """A resource after the Bedrock ones fails, so that CloudFormation rolls back what succeeded before it."""
        for part in ("training", "serving"):
            stack = self.stage.stack(part)
            if stack is not None and stack.status.endswith("COMPLETE") and stack.resources:
                later = sorted(r.logical_id for r in stack.resources.values() if r.type == "AWS::SSM::Parameter")
                later = later or sorted(r.logical_id for r in stack.resources.values() if "Dashboard" in r.type)
                if later:
                    self.world.engine.fail_next(stack.name, later[0], "Update")

    @invariant()
    def nothing_billed_is_orphaned(self) -> None:
        if hasattr(self, "stage"):
            COUNTS["steps"] += 1
            self.stage.assert_invariants()


StageLifecycle.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=os.environ.get("SOAK_EXAMPLES") is None,
)
TestStageLifecycle = StageLifecycle.TestCase
