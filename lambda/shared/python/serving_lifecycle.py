"""One lifecycle for the resources that serve the distilled model: a Provisioned Throughput, an on-demand deployment.

Both bill while they exist and both can move to another custom model in place (UpdateProvisionedModelThroughput with
desiredModelId, for a custom model of the same base model; UpdateCustomModelDeployment), so a new model never buys a
second throughput: no double billing during the swap, no second set of model units, no second commitment term (user
guide, prov-thru-edit.html and prov-thru-purchase.html, read 2026-11-30).

- The resource's name (the Name property, derived by the stack from what it cannot change in place: model units,
  commitment, base model) is its identity. Create and an Update that changes the name first look for a resource of
  that name and adopt it, so CloudFormation's rollback (an Update with the previous properties) finds the one that
  served before instead of buying another; only a name Bedrock does not know creates one. One that has Failed is
  deleted and created anew. What is found by name is the stage's only if it carries the stage's tag
  (stage_ownership.require_stage): another team's resource of that name fails the request and is left as it is.
- An Update that keeps the name moves the live resource to the model it is given and retags it in place. A
  resource still changing cannot move (a rollback asks to move back a throughput the failed update had just begun
  to move): on_event answers at once, and is_complete, which the Provider framework polls, makes the move once the
  resource is ready, within the hour CloudFormation waits for a custom resource. A rollback never leaves the
  resource on another model than the one the stack records.
- on_event returns once Bedrock has accepted the request; a wait condition in the stack waits for the resource to
  serve the model (served_model_wait), as that can take longer than a custom resource may wait.
- Delete deletes it (a throughput with a commitment is retained by its removal policy and never gets a Delete).
"""

import logging
import time

import aws_clients
import lost_answers
import resource_identity
import stage_ownership
from botocore.exceptions import BotoCoreError

LOG = logging.getLogger()

FAILED = "Failed"
# How long is_complete waits for a resource that is still changing before it gives up on moving it: inside the hour
# that CloudFormation waits for a custom resource's answer (the Provider's total timeout, model_serving.py).
GIVE_UP_AFTER_SECONDS = 50 * 60
# How often a handler looks again at a resource whose create answer was lost.
LOOK_AGAIN_SECONDS = 30


class ServingLifecycle:
    """``on_event`` for a serving resource; a handler supplies the Bedrock calls.

    - ``describe(identifier) -> dict | None``: Bedrock's description by name or ARN, None once gone.
    - ``create(properties, model, token) -> arn`` starts one.
    - ``move(arn, model)`` moves it to another custom model.
    - ``remove(arn)`` deletes it.
    - ``wanted_model(description)``: the model it serves or is moving to; ``busy(description)``: the status it is
      in that it cannot move from (None when it can move).

    ``remedy`` says what to do when a resource of the stage's name is not the stage's (stage_ownership.require_stage).
    """

    def __init__(self, bedrock, *, kind, describe, create, move, remove, wanted_model, busy, remedy):
        self.bedrock = bedrock
        self.kind = kind
        self.describe = describe
        self.create = create
        self.move = move
        self.remove = remove
        self.wanted_model = wanted_model
        self.busy = busy
        self.remedy = remedy

    def on_event(self, event, context):
        """Provider framework entry point: Create, Update and Delete."""
        kind, physical_id = event["RequestType"], event.get("PhysicalResourceId", "")
        LOG.info("%s %s (%s)", kind, event["LogicalResourceId"], physical_id)
        properties = event["ResourceProperties"]
        if kind == "Delete":
            target = physical_id if resource_identity.is_arn(physical_id) else self._made_unheard(event)
            if target:
                aws_clients.unless_gone(self.remove, arn=target)
                LOG.info("Deleted the %s %s", self.kind, target)
            return {"PhysicalResourceId": physical_id}
        model = properties["ModelArn"]
        if kind == "Create":
            return self._find_or_create(event, model, context)
        answered = None
        if properties["Name"] == event["OldResourceProperties"]["Name"]:
            answered = self._update_in_place(event, model)
        answered = answered or self._find_or_create(event, model, context)
        self._delete_stray(event, answered["PhysicalResourceId"])
        return answered

    def _update_in_place(self, event, model):
        physical_id = event["PhysicalResourceId"]
        current = self.describe(physical_id)
        if current is None or current["status"] == FAILED:
            return None
        pending = self._follow(physical_id, current, model)
        properties = event["ResourceProperties"]
        resource_identity.retag(
            self.bedrock, physical_id, properties.get("Tags"), event["OldResourceProperties"].get("Tags")
        )
        return self._answer(physical_id, model, pending)

    def _find_or_create(self, event, model, context):
        properties = event["ResourceProperties"]
        name = properties["Name"]
        current = self.describe(name)
        if current is not None:
            self._require_stage(event, name, self._arn(current))
        if current is not None and current["status"] != FAILED:
            arn = self._arn(current)
            LOG.info("Adopting the %s %s, which already exists", self.kind, arn)
            pending = self._follow(arn, current, model)
            resource_identity.retag(self.bedrock, arn, properties.get("Tags"), None)
            return self._answer(arn, model, pending)
        if current is not None:
            self._delete_failed(current)
        # The name is free again once a resource is deleted, so the token also carries this request's id.
        token = resource_identity.token(name, event["RequestId"])
        try:
            arn = self.create(properties, model, token)
        except BotoCoreError as error:
            found = lost_answers.settle_by_name(
                self.describe, self.kind, name, error, context, interval=LOOK_AGAIN_SECONDS
            )
            arn = self._arn(found)
            self._require_stage(event, name, arn)
        LOG.info("Bedrock accepted the %s %s", self.kind, arn)
        return self._answer(arn, model, pending=False)

    def _delete_failed(self, current):
        arn = self._arn(current)
        reason = current.get("failureMessage") or "Bedrock gave no reason"
        if current.get("commitmentDuration"):
            # A throughput with a commitment cannot be deleted before its term ends (user guide,
            # prov-thru-delete.html, read 2026-11-30), so it cannot be bought anew under its name either.
            term = current["commitmentDuration"]
            raise RuntimeError(
                f"The {self.kind} {arn} for these settings has failed ({reason}) and has a {term} commitment, so it "
                "can be neither deleted nor bought anew before its term ends. Ask AWS support to restore it, or change "
                "serving.modelUnits to buy another."
            )
        LOG.info("The %s %s has failed (%s); deleting it to create it anew", self.kind, arn, reason)
        aws_clients.unless_gone(self.remove, arn=arn)

    def _delete_stray(self, event, kept):
        """What a failed forward Update made but the stack never learnt of (its answer lost, or its request failed
        after Bedrock accepted it) would bill unowned after CloudFormation's rollback: the resource named by the
        OldResourceProperties, when it is neither the one the stack holds nor the one this request kept, is deleted
        (never one with a commitment, nor one that does not carry the stage's tag)."""
        old_name = event["OldResourceProperties"].get("Name")
        if not old_name or old_name == event["ResourceProperties"]["Name"]:
            return
        stray = self.describe(old_name)
        if stray is None or stray.get("commitmentDuration"):
            return
        arn = self._arn(stray)
        if arn not in (event["PhysicalResourceId"], kept):
            try:
                self._require_stage(event, old_name, arn)
            except stage_ownership.NotTheStages as refusal:
                # Failing here would fail the request for what is not the stage's (in a rollback, leaving the
                # stack in UPDATE_ROLLBACK_FAILED); it is only not deleted.
                LOG.warning("Not deleting the %s named %s: %s", self.kind, old_name, refusal)
                return
            LOG.info("Deleting the %s %s, which a failed update made and nothing holds", self.kind, arn)
            aws_clients.unless_gone(self.remove, arn=arn)

    def _made_unheard(self, event):
        """The ARN to delete for a Delete whose physical id is not an ARN: it follows a Create that CloudFormation
        never heard back from (the stack was deleted while is_complete waited to move what the Create had made or
        adopted), so that resource is found by its name. None when there is none, it has a commitment (never
        deleted by a handler), or it is not the stage's (logged and left alone)."""
        name = event["ResourceProperties"]["Name"]
        current = self.describe(name)
        if current is None or current.get("commitmentDuration"):
            return None
        arn = self._arn(current)
        try:
            self._require_stage(event, name, arn)
        except stage_ownership.NotTheStages as refusal:
            LOG.warning("Not deleting the %s named %s: %s", self.kind, name, refusal)
            return None
        return arn

    def _require_stage(self, event, name, arn):
        """stage_ownership.require_stage for a resource found by ``name`` (not by the physical id the stack holds)."""
        stage = stage_ownership.stage_of(event["ResourceProperties"].get("Tags"))
        stage_ownership.require_stage(self.bedrock, self.kind, name, arn, stage, self.remedy)

    def _follow(self, arn, current, model):
        """Move the live resource to ``model``; True when it is still changing and cannot move yet, so that
        is_complete makes the move once it can."""
        if self.wanted_model(current) == model:
            return False
        if self.busy(current):
            LOG.info("The %s %s is %s; it moves to %s once it is ready", self.kind, arn, self.busy(current), model)
            return True
        self.move(arn, model)
        LOG.info("Moving the %s %s to %s", self.kind, arn, model)
        return False

    def is_complete(self, event, _context):
        """Provider framework isComplete: done at once unless on_event left a move to make (MovePending); then the
        move is made as soon as the resource stops changing. A resource that fails or vanishes meanwhile, or stays
        busy past GIVE_UP_AFTER_SECONDS, fails the request with what to do."""
        data = event.get("Data") or {}
        if event["RequestType"] == "Delete" or data.get("MovePending") != "true":
            return {"IsComplete": True}
        arn, model = event["PhysicalResourceId"], event["ResourceProperties"]["ModelArn"]
        current = self.describe(arn)
        if current is None:
            raise RuntimeError(
                f"The {self.kind} {arn} was deleted before it could move to {model}; deploy again to create it anew."
            )
        if current["status"] == FAILED:
            reason = current.get("failureMessage") or "Bedrock gave no reason"
            raise RuntimeError(
                f"The {self.kind} {arn} failed ({reason}) before it could move to {model}; deploy again to replace it."
            )
        if self.wanted_model(current) == model:
            return {"IsComplete": True}
        if self.busy(current):
            if time.time() - int(data["StartedAt"]) > GIVE_UP_AFTER_SECONDS:
                raise RuntimeError(self._busy_message(arn, self.busy(current), model))
            return {"IsComplete": False}
        self.move(arn, model)
        LOG.info("Moving the %s %s to %s", self.kind, arn, model)
        return {"IsComplete": False}

    def _busy_message(self, arn, status, model):
        return (
            f"The {self.kind} {arn} is {status} and cannot move to {model} until it is ready. Once Bedrock reports it "
            "ready, deploy again (or, if the stack is in UPDATE_ROLLBACK_FAILED, continue its rollback: aws "
            "cloudformation continue-update-rollback)."
        )

    @staticmethod
    def _arn(description):
        return description.get("provisionedModelArn") or description["customModelDeploymentArn"]

    @staticmethod
    def _answer(arn, model, pending):
        data = {"Arn": arn, "ModelArn": model}
        if pending:
            data.update(MovePending="true", StartedAt=str(int(time.time())))
        return {"PhysicalResourceId": arn, "Data": data}
