"""Lambda invocations per hour that the stack's own machinery makes while a distillation job runs.

Read from the synthesized serving template of the default stage (cdk.out, written by `make synth`): the fallback
poll's schedule, plus the state-change events Bedrock sends (one per job status change: at most InProgress and
then one final state, so at most 2 in any hour). Nothing polls through a custom resource while the job runs: the
serving stack waits on a CloudFormation wait condition. The floor it is compared with is what the CDK Provider
framework's default waiter would cost for the same wait (an isComplete call every 5 seconds). Target: at most 12.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 12
PROVIDER_DEFAULT_QUERY_SECONDS = 5
STATE_CHANGE_EVENTS_PER_HOUR = 2
RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours)\)")


def serving_template(stage: str) -> dict:
    manifest = json.loads((ROOT / "cdk.out" / f"assembly-{stage}" / "manifest.json").read_text())
    for artifact in manifest["artifacts"].values():
        if artifact.get("type") == "aws:cloudformation:stack" and artifact["displayName"].endswith("/Serving"):
            template = artifact["properties"]["templateFile"]
            return json.loads((ROOT / "cdk.out" / f"assembly-{stage}" / template).read_text())
    raise SystemExit(f"no serving stack for stage {stage} in cdk.out; run `make synth` first")


def scheduled_per_hour(template: dict) -> float:
    total = 0.0
    for resource in template["Resources"].values():
        expression = resource.get("Properties", {}).get("ScheduleExpression")
        if resource["Type"] != "AWS::Events::Rule" or not expression:
            continue
        amount, unit = RATE.fullmatch(expression).groups()
        minutes = int(amount) * (60 if unit.startswith("hour") else 1)
        total += 60 / minutes * len(resource["Properties"]["Targets"])
    return total


def main() -> int:
    stage = sys.argv[1] if len(sys.argv) > 1 else "sandbox"
    template = serving_template(stage)
    scheduled = scheduled_per_hour(template)
    worst_hour = scheduled + STATE_CHANGE_EVENTS_PER_HOUR
    floor = 3600 / PROVIDER_DEFAULT_QUERY_SECONDS
    print(f"stage {stage}: fallback poll {scheduled:g}/h + state-change events <= {STATE_CHANGE_EVENTS_PER_HOUR}/h")
    print(f"worst hour while the job runs: {worst_hour:g} Lambda invocations (target <= {TARGET})")
    print(f"CDK Provider default waiter for the same wait: {floor:g}/h; ratio {worst_hour / floor:.3f}")
    print("OK" if worst_hour <= TARGET else "ABOVE TARGET")
    return 0


if __name__ == "__main__":
    sys.exit(main())
