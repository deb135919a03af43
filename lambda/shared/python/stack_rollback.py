"""Whether CloudFormation is rolling back the request's stack, or another stack of its model.

A rollback asks a handler for what was (the previous properties), so a handler leaves alone what that needs: the
smoke test is not run, a job that cannot produce a model may be adopted, and no unserved model is released.
"""

import logging

from botocore.exceptions import ClientError

LOG = logging.getLogger()


def rolling_back(cloudformation, stack_id):
    """Whether CloudFormation is rolling the stack ``stack_id`` back: its StackStatus (DescribeStacks) is one of the
    ``*ROLLBACK_IN_PROGRESS`` values of botocore's CloudFormation model (ROLLBACK_IN_PROGRESS after a failed creation,
    UPDATE_ROLLBACK_IN_PROGRESS after a failed update, IMPORT_ROLLBACK_IN_PROGRESS). The cleanup that follows a
    rollback's updates (UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS) is not. Raises what DescribeStacks raises."""
    stack = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]
    return stack["StackStatus"].endswith("ROLLBACK_IN_PROGRESS")


def stage_unsettled(cloudformation, stack_id, guard_stacks):
    """Whether the request's own stack (``stack_id``) rolls back (``rolling_back``), or another of ``guard_stacks``
    (the names of the model's stacks, the GuardStacks property) rolls back or is stuck in a failed rollback
    (``*ROLLBACK_FAILED``), which still needs the models it would move serving back to once someone continues it. A
    guard stack that does not exist is settled. Raises what DescribeStacks raises otherwise."""
    if rolling_back(cloudformation, stack_id):
        return True
    own = stack_id.split(":stack/", 1)[-1].split("/", 1)[0]
    for other in guard_stacks:
        if other == own:
            continue
        try:
            status = cloudformation.describe_stacks(StackName=other)["Stacks"][0]["StackStatus"]
        except ClientError as error:
            # A stack that does not exist is a ValidationError "Stack with id <name> does not exist"; the API
            # reference documents no error code for it (boto/boto3 issue 2807 shows the answer, read 2026-12-02).
            if error.response["Error"].get("Code") == "ValidationError" and "does not exist" in str(error):
                continue
            raise
        if status.endswith(("ROLLBACK_IN_PROGRESS", "ROLLBACK_FAILED")):
            LOG.info("The stack %s is %s", other, status)
            return True
    return False
