"""One lifecycle for the resources that serve the distilled model: a Provisioned Throughput, an on-demand deployment.

Both bill while they exist and both can move to another custom model in place (UpdateProvisionedModelThroughput with
desiredModelId, for a custom model of the same base model; UpdateCustomModelDeployment), so a new model never buys a
second throughput: no double billing during the swap, no second set of model units, no second commitment term (user
guide, prov-thru-edit.html and prov-thru-purchase.html, read 2026-11-30).

- The resource's name (the Name property, derived by the stack from what it cannot change in place: model units,
  commitment, base model) is its identity. Create and an Update that changes the name first look for a resource of
  that name and adopt it, so CloudFormation's rollback (an Update with the previous properties) finds the one that
  served before instead of buying another; only a name Bedrock does not know creates one. One that has Failed is
  deleted and created anew.
- An Update that keeps the name moves the live resource to the model it is given and retags it in place. A
  resource still changing cannot move: the handler waits for it within its timeout (a rollback asks to move back a
  throughput the failed update had just begun to move).
- on_event returns once Bedrock has accepted the request; a wait condition in the stack waits for the resource to
  serve the model (serving_watcher), as that can take longer than a custom resource may wait.
- Delete deletes it (a throughput with a commitment is retained by its removal policy and never gets a Delete).
"""

import logging
import time

import custom_resource

LOG = logging.getLogger()

FAILED = "Failed"
# How often a handler looks again at a resource that is still changing (Creating, Updating) before moving it.
BUSY_CHECK_SECONDS = 30


class ServingLifecycle:
    """``on_event`` for a serving resource; a handler supplies the Bedrock calls.

    - ``describe(identifier) -> dict | None``: Bedrock's description by name or ARN, None once gone.
    - ``create(properties, model, token) -> arn`` starts one.
    - ``move(arn, model)`` moves it to another custom model.
    - ``remove(arn)`` deletes it.
    - ``wanted_model(description)``: the model it serves or is moving to; ``busy(description)``: the status it is
      in that it cannot move from (None when it can move).
    """

    def __init__(self, bedrock, *, kind, describe, create, move, remove, wanted_model, busy):
        self.bedrock = bedrock
        self.kind = kind
        self.describe = describe
        self.create = create
        self.move = move
        self.remove = remove
        self.wanted_model = wanted_model
        self.busy = busy

    def on_event(self, event, context):
        """Provider framework entry point: Create, Update and Delete."""
        kind, physical_id = event["RequestType"], event.get("PhysicalResourceId", "")
        LOG.info("%s %s (%s)", kind, event["LogicalResourceId"], physical_id)
        properties = event["ResourceProperties"]
        if kind == "Delete":
            if custom_resource.is_arn(physical_id):
                custom_resource.unless_gone(self.remove, arn=physical_id)
                LOG.info("Deleted the %s %s", self.kind, physical_id)
            return {"PhysicalResourceId": physical_id}
        model = properties["ModelArn"]
        if kind == "Update" and properties["Name"] == event["OldResourceProperties"]["Name"]:
            current = self.describe(physical_id)
            if (
                current is not None
                and current["status"] != FAILED
                and self._follow(physical_id, current, model, context)
            ):
                custom_resource.retag(
                    self.bedrock, physical_id, properties.get("Tags"), event["OldResourceProperties"].get("Tags")
                )
                return self._answer(physical_id, model)
        return self._find_or_create(event, model, context)

    def _find_or_create(self, event, model, context):
        properties = event["ResourceProperties"]
        name = properties["Name"]
        current = self.describe(name)
        if current is not None and current["status"] == FAILED:
            arn = self._arn(current)
            LOG.info(
                "The %s %s has failed (%s); deleting it to create it anew",
                self.kind,
                arn,
                current.get("failureMessage"),
            )
            custom_resource.unless_gone(self.remove, arn=arn)
            current = None
        if current is not None:
            arn = self._arn(current)
            LOG.info("Adopting the %s %s, which already exists", self.kind, arn)
            self._follow(arn, current, model, context)
            custom_resource.retag(self.bedrock, arn, properties.get("Tags"), None)
            return self._answer(arn, model)
        # The name is free again once a resource is deleted, so the token also carries this request's id.
        arn = self.create(properties, model, custom_resource.token(name, event["RequestId"]))
        LOG.info("Bedrock accepted the %s %s", self.kind, arn)
        return self._answer(arn, model)

    def _follow(self, arn, current, model, context):
        """Move the live resource to ``model``, waiting first while it is changing; False when it failed or
        vanished meanwhile (the caller then buys it anew)."""
        if self.wanted_model(current) == model:
            return True
        while self.busy(current) and custom_resource.remaining_seconds(context) > (
            BUSY_CHECK_SECONDS + 2 * custom_resource.CALL_BUDGET_SECONDS
        ):
            LOG.info("The %s %s is %s; waiting before moving it to %s", self.kind, arn, self.busy(current), model)
            time.sleep(BUSY_CHECK_SECONDS)
            current = self.describe(arn)
            if current is None or current["status"] == FAILED:
                return False
            if self.wanted_model(current) == model:
                return True
        if self.busy(current):
            raise RuntimeError(custom_resource.busy_message(self.kind, arn, self.busy(current), model))
        self.move(arn, model)
        LOG.info("Moving the %s %s to %s", self.kind, arn, model)
        return True

    @staticmethod
    def _arn(description):
        return description.get("provisionedModelArn") or description["customModelDeploymentArn"]

    @staticmethod
    def _answer(arn, model):
        return {"PhysicalResourceId": arn, "Data": {"Arn": arn, "ModelArn": model}}
