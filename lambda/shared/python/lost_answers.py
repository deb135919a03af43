"""Settling a create whose answer was lost: Bedrock is asked for the resource by the name it was to be created under.

A create that times out or cannot reach Bedrock (a BotoCoreError) may or may not have been accepted. Each create
carries a name the stack derives (resource_identity), so looking that name up tells which.
"""

import logging
import time

import aws_clients
from botocore.exceptions import BotoCoreError

LOG = logging.getLogger()


def settle_by_name(look_up, kind, name, error, context, *, interval):
    """After a create whose answer was lost (``error``, a BotoCoreError): Bedrock may or may not have accepted it, so
    ``look_up(name)`` is asked, every ``interval`` seconds while it cannot be reached, as long as the function has
    time. Returns what it finds, which is this request's; raises a RuntimeError that says what to do otherwise."""
    while aws_clients.remaining_seconds(context) > 2 * aws_clients.CALL_BUDGET_SECONDS:
        try:
            found = look_up(name)
        except BotoCoreError:
            time.sleep(interval)
            continue
        if found is not None:
            LOG.info("Bedrock had accepted the %s %s", kind, name)
            return found
        raise RuntimeError(f"Bedrock did not accept the {kind} {name} ({error}); deploy again to retry.")
    raise RuntimeError(
        f"Bedrock could not be reached to create the {kind} {name} ({error}). Deploy again: the next deploy adopts it "
        "if Bedrock did create it, and creates it otherwise. A stack deleted instead never learns of it: then look for "
        f"the {kind} {name} in Bedrock, as it may exist and bill."
    )
