"""Lambda invocations per hour that the stack's own machinery makes while a distillation job runs.

Measured in the deploy simulator (tests/deploy): the shipped dev stage is deployed with a Provisioned Throughput,
its job runs for 8 hours, and every Lambda invocation is counted, hour by hour, from the hour after the job started
to the hour it ended (the first hour also holds the deploy's custom resources). What runs then is the wait's
fallback poll and the watcher's reactions to Bedrock's state-change events; nothing polls through a custom
resource, as the serving stack waits on a CloudFormation wait condition. The floor is what the CDK Provider
framework's default waiter would cost for the same wait: an isComplete call every 5 seconds (aws-cdk-lib
custom-resources Provider, queryInterval default). Target: at most 12 an hour.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.deploy.harness import StageDeployment, stage_config  # noqa: E402
from tests.deploy.world import World  # noqa: E402

TARGET = 12
PROVIDER_DEFAULT_QUERY_SECONDS = 5
JOB_HOURS = 8


def main() -> int:
    world = World()
    world.bedrock.timing.job_seconds = JOB_HOURS * 3600
    with world.active():
        # The shipped dev stage's support assistant alone, served by a Provisioned Throughput.
        models = {"ticket-classifier": None, "support-assistant": {"serving": {"mode": "provisioned", "modelUnits": 1}}}
        stage = StageDeployment(world, "dev", stage_config(models=models))
        results = stage.deploy()
        if set(results.values()) != {"CREATE_COMPLETE"}:
            print(f"the simulated deploy did not complete: {results}")
            return 1
        [job] = world.bedrock.jobs.values()
        per_hour = Counter(
            int((when - job.created) // 3600)
            for _, when, _ in world.runtime.invocations
            if job.created + 3600 <= when < job.ended
        )
    worst = max(per_hour.values(), default=0)
    floor = 3600 / PROVIDER_DEFAULT_QUERY_SECONDS
    print(f"stage dev, a job of {JOB_HOURS} h in the deploy simulator")
    by_hour = {hour + 1: count for hour, count in sorted(per_hour.items())}
    print(f"Lambda invocations in each hour of the job after the first (hour: count): {by_hour}")
    print(f"worst hour: {worst} (target <= {TARGET})")
    print(f"CDK Provider default waiter for the same wait: {floor:g}/h; ratio {worst / floor:.3f}")
    print("OK" if worst <= TARGET else "ABOVE TARGET")
    return 0


if __name__ == "__main__":
    sys.exit(main())
