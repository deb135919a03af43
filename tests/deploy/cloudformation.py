"""CloudFormation's stack operations as documented, and the CDK Provider framework as aws-cdk-lib ships it.

Stack operations (aws-cdk docs/CLOUDFORMATION.md, "CloudFormation stack lifecycle" and "Custom Resources", read
2026-11-30; AWS CloudFormation user guide, "Update behaviors of stack resources" and "Stack failure options"):

- Create runs resources in dependency order; a failure rolls back by deleting, in reverse order, what was created,
  including the failed custom resource with the physical id its FAILED response gave (ROLLBACK_COMPLETE, or
  ROLLBACK_FAILED when a delete fails).
- Update first creates and updates (a custom resource gets an Update whenever a property changes; a new physical id
  is a replacement), then, once everything succeeded, deletes replaced and removed resources in a cleanup phase whose
  failures do not fail the stack (the resource is left behind). A failure rolls back: every resource updated so far,
  and the one that failed, gets an Update back to its previous properties (ResourceProperties = old,
  OldResourceProperties = new, PhysicalResourceId = whatever the stack holds now), then a cleanup deletes what the
  operation created. The rollback's Updates run in the previous template's dependency order. A failed rollback
  Update ends in UPDATE_ROLLBACK_FAILED.
- Delete runs in reverse dependency order; DeletionPolicy Retain keeps a resource; a failure ends in DELETE_FAILED.
- A replaced resource with UpdateReplacePolicy Retain is kept.

The Provider framework (aws-cdk-lib's custom-resources provider framework, as bundled in the synthesized
framework-onEvent asset): the user's onEvent is invoked synchronously; its PhysicalResourceId defaults to the
RequestId on Create and to the incoming id otherwise, and may not change on Delete. With isComplete, the waiter
state machine calls it at once and then every IntervalSeconds, MaxAttempts times (read from the template's state
machine definition), and answers "Operation timed out" when it gives up. Any error from the user's functions is a
FAILED response with the incoming physical id (onEvent) or onEvent's (isComplete); a failed Create answers with the
CREATE_FAILED marker, and a later Delete with that marker is answered SUCCESS without calling the user's code.
CloudFormation itself fails a custom resource that has not answered within its ServiceTimeout (default 3600 s).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.deploy.intrinsics import Resolver, Unresolvable, as_custom_resource_properties, references
from tests.deploy.runtime import Function, Rule, rate_seconds

CREATE_FAILED_MARKER = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"
# What a deploy of an unchanged stack reports; the CDK CLI treats it as success.
UNCHANGED = "UNCHANGED"
SUCCEEDED = ("CREATE_COMPLETE", "UPDATE_COMPLETE", UNCHANGED)
DEFAULT_SERVICE_TIMEOUT = 3600
FAILED_STATES = ("CREATE_FAILED", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_FAILED")


class ResourceFailed(Exception):
    def __init__(self, reason: str, physical_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.physical_id = physical_id


class OperationRefused(Exception):
    """CloudFormation refused to start the operation (validation): the stack is unchanged."""


@dataclass
class StackTemplate:
    """One stack of a synthesized stage: what the CDK CLI deploys."""

    name: str
    template: dict[str, Any]
    account: str
    region: str
    assets: dict[str, dict[str, Any]]  # asset id -> {"path": Path, "packaging": ..., "destinations": ...}
    depends_on: list[str]


@dataclass
class Resource:
    logical_id: str
    type: str
    definition: dict[str, Any]
    properties: dict[str, Any] = field(default_factory=dict)
    physical_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    status: str = "CREATE_IN_PROGRESS"
    updated_at: float = 0.0

    @property
    def custom(self) -> bool:
        return self.type.startswith("Custom::") or self.type == "AWS::CloudFormation::CustomResource"


@dataclass
class Stack:
    name: str
    stack_id: str
    account: str
    region: str
    template: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    status: str = "CREATE_IN_PROGRESS"
    outputs: dict[str, Any] = field(default_factory=dict)
    exports: dict[str, Any] = field(default_factory=dict)
    status_reason: str = ""
    events: list[str] = field(default_factory=list)
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class WaitHandle:
    url: str
    stack_id: str
    logical_id: str
    signals: dict[str, dict[str, Any]] = field(default_factory=dict)
    late_signals: int = 0


@dataclass
class Leak:
    """A delete that failed where CloudFormation carries on (cleanup): the resource stays, unseen."""

    stack: str
    logical_id: str
    physical_id: str
    reason: str


class Engine:
    def __init__(self, world) -> None:
        self.world = world
        self.stacks: dict[str, Stack] = {}  # by name, live or last known
        self.deleted: list[Stack] = []
        self.handles: dict[str, WaitHandle] = {}
        self.leaks: list[Leak] = []
        self.retained: list[tuple[str, Resource]] = []  # (stack name, resource) kept by a Retain policy
        self.failures: list[str] = []
        # Custom resources CloudFormation deleted: (type, physical id, the properties the Delete carried).
        self.deleted_resources: list[tuple[str, str | None, dict[str, Any]]] = []
        self._names = itertools.count(1)
        self._fail_at: set[tuple[str, str, str]] = set()  # (stack, logical id, action) to fail once
        self._cancel_at: dict[str, float] = {}  # stack name -> when the user asks to delete it mid-operation

    # -- scenario controls -----------------------------------------------------------------------------------------
    def fail_next(self, stack: str, logical_id: str, action: str = "Update") -> None:
        """Make CloudFormation fail this resource's next Create or Update, as any resource can fail."""
        self._fail_at.add((stack, logical_id, action))

    def destroy_during_operation(self, stack: str, at: float) -> None:
        """The user deletes the stack while CloudFormation still waits on a resource: what is being created is
        cancelled ("Resource creation cancelled"), the operation rolls back, and the stack is then deleted."""
        self._cancel_at[stack] = at

    def cancelled(self, stack_name: str) -> bool:
        when = self._cancel_at.get(stack_name)
        return when is not None and self.world.clock.now >= when

    def stack_by_name_or_id(self, name_or_id: str) -> Stack | None:
        for stack in [*self.stacks.values()]:
            if name_or_id in (stack.name, stack.stack_id):
                return stack
        return None

    def live(self) -> list[Stack]:
        return [s for s in self.stacks.values() if s.status != "DELETE_COMPLETE"]

    # -- operations ------------------------------------------------------------------------------------------------
    def deploy(self, stack_template: StackTemplate) -> str:
        """What ``cdk deploy`` does for one stack: publish file assets, then create or update; returns the status."""
        self._publish_assets(stack_template)
        existing = self.stacks.get(stack_template.name)
        if existing is not None and existing.status == "ROLLBACK_COMPLETE":
            # The CDK CLI deletes a stack that failed its creation before creating it again.
            self.delete(stack_template.name)
            existing = None
        if existing is None or existing.status == "DELETE_COMPLETE":
            return self._create(stack_template)
        if existing.status in FAILED_STATES:
            raise OperationRefused(f"Stack {existing.name} is in {existing.status} state and can not be updated")
        return self._update(existing, stack_template)

    def finish_pending_destroy(self, name: str) -> str | None:
        """After an operation a destroy interrupted, CloudFormation goes on to delete the stack."""
        if name in self._cancel_at and self.cancelled(name):
            del self._cancel_at[name]
            return self.delete(name)
        return None

    def delete(self, name: str) -> str:
        stack = self.stacks.get(name)
        if stack is None or stack.status == "DELETE_COMPLETE":
            return "DELETE_COMPLETE"
        importers = self._importers(stack, set(stack.exports))
        if importers:
            raise OperationRefused(f"Exports of {name} cannot be deleted as they are in use by {', '.join(importers)}")
        stack.status = "DELETE_IN_PROGRESS"
        for logical_id in reversed(self._order(stack.template)):
            resource = stack.resources.get(logical_id)
            if resource is None:
                continue
            if resource.definition.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate"):
                self.retained.append((stack.name, resource))
                del stack.resources[logical_id]
                continue
            try:
                self._delete_resource(stack, resource, resource.physical_id, resource.properties)
            except ResourceFailed as failure:
                resource.status = "DELETE_FAILED"
                return self._end(stack, "DELETE_FAILED", f"{logical_id}: {failure.reason}")
            del stack.resources[logical_id]
        for export in stack.exports:
            self.world.exports.pop((stack.account, stack.region, export), None)
        self.deleted.append(stack)
        return self._end(stack, "DELETE_COMPLETE")

    # -- create ----------------------------------------------------------------------------------------------------
    def _create(self, stack_template: StackTemplate) -> str:
        stack = Stack(
            name=stack_template.name,
            stack_id=(
                f"arn:aws:cloudformation:{stack_template.region}:{stack_template.account}:stack/"
                f"{stack_template.name}/{uuid.uuid4()}"
            ),
            account=stack_template.account,
            region=stack_template.region,
            template=stack_template.template,
        )
        stack.assets = stack_template.assets
        self.stacks[stack.name] = stack
        stack.parameters = self._parameters(stack, stack_template.template)
        created: list[Resource] = []
        for logical_id in self._order(stack.template):
            definition = stack.template["Resources"][logical_id]
            resource = Resource(logical_id, definition["Type"], definition)
            stack.resources[logical_id] = resource
            try:
                self._create_resource(stack, resource)
            except ResourceFailed as failure:
                resource.status = "CREATE_FAILED"
                resource.physical_id = failure.physical_id
                return self._roll_back_create(stack, [*created, resource], f"{logical_id}: {failure.reason}")
            created.append(resource)
        self._set_outputs(stack)
        return self._end(stack, "CREATE_COMPLETE")

    def _roll_back_create(self, stack: Stack, created: list[Resource], reason: str) -> str:
        stack.status = "ROLLBACK_IN_PROGRESS"
        stack.status_reason = reason
        for resource in reversed(created):
            if resource.definition.get("DeletionPolicy") == "Retain":
                # A retained resource is kept when its stack's creation rolls back; only RetainExceptOnCreate
                # deletes it then (CloudFormation user guide, "DeletionPolicy attribute", read 2026-12-01).
                if resource.physical_id is not None:
                    self.retained.append((stack.name, resource))
                continue
            try:
                if resource.physical_id is not None or resource.custom:
                    self._delete_resource(stack, resource, resource.physical_id, resource.properties)
            except ResourceFailed as failure:
                return self._end(stack, "ROLLBACK_FAILED", f"{resource.logical_id}: {failure.reason}")
            stack.resources.pop(resource.logical_id, None)
        stack.resources.clear()
        return self._end(stack, "ROLLBACK_COMPLETE", reason)

    # -- update ----------------------------------------------------------------------------------------------------
    def _update(self, stack: Stack, stack_template: StackTemplate) -> str:
        old_template, old_parameters = stack.template, stack.parameters
        new_parameters = self._parameters(stack, stack_template.template)
        if old_template == stack_template.template and old_parameters == new_parameters:
            return UNCHANGED  # CloudFormation: "No updates are to be performed."
        stack.assets = stack_template.assets
        stack.status = "UPDATE_IN_PROGRESS"
        stack.template, stack.parameters = stack_template.template, new_parameters
        journal: list[dict[str, Any]] = []
        failure_reason = None
        for logical_id in self._order(stack.template):
            definition = stack.template["Resources"][logical_id]
            old = stack.resources.get(logical_id)
            if old is None or old.type != definition["Type"]:
                resource = Resource(logical_id, definition["Type"], definition)
                entry = {"action": "create", "resource": resource, "replaced": old}
                stack.resources[logical_id] = resource
                journal.append(entry)
                try:
                    self._create_resource(stack, resource)
                except ResourceFailed as failure:
                    resource.physical_id = failure.physical_id
                    failure_reason = f"{logical_id}: {failure.reason}"
                    break
                continue
            new_properties = self._properties(stack, old, definition)
            if new_properties == old.properties and not self._forced(stack, logical_id, "Update"):
                old.definition = definition
                continue
            entry = {
                "action": "update",
                "resource": old,
                "old_properties": old.properties,
                "old_physical_id": old.physical_id,
                "old_attributes": dict(old.attributes),
                "old_definition": old.definition,
                "new_properties": new_properties,
            }
            journal.append(entry)
            try:
                self._update_resource(stack, old, definition, new_properties)
            except ResourceFailed as failure:
                entry["failed"] = True
                failure_reason = f"{logical_id}: {failure.reason}"
                break
        if failure_reason is not None:
            return self._roll_back_update(stack, journal, old_template, old_parameters, failure_reason)
        # The cleanup deletes replaced and removed resources together, in reverse dependency order of the template
        # they came from: what used a resource (a throughput using a model lookup, a custom resource using its
        # provider's function) goes before it.
        doomed: list[tuple[str, Resource, str | None, dict[str, Any], bool]] = []
        for entry in journal:
            if entry["action"] == "update" and entry["resource"].physical_id != entry["old_physical_id"]:
                resource = entry["resource"]
                doomed.append((resource.logical_id, resource, entry["old_physical_id"], entry["old_properties"], True))
            if entry["action"] == "create" and entry["replaced"] is not None:
                replaced = entry["replaced"]
                doomed.append((replaced.logical_id, replaced, replaced.physical_id, replaced.properties, True))
        for logical_id, resource in list(stack.resources.items()):
            if logical_id not in stack.template["Resources"]:
                del stack.resources[logical_id]
                doomed.append((logical_id, resource, resource.physical_id, resource.properties, False))
        position = {lid: index for index, lid in enumerate(self._order(old_template))}
        stack.status = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
        for _, resource, physical_id, properties, replaced in sorted(doomed, key=lambda d: -position.get(d[0], -1)):
            self._cleanup(stack, resource, physical_id, properties, replaced=replaced)
        self._set_outputs(stack)
        return self._end(stack, "UPDATE_COMPLETE")

    def _roll_back_update(self, stack, journal, old_template, old_parameters, reason) -> str:
        """Update every resource the operation changed back to its previous properties, then delete what it made.

        The rollback updates the stack back to the previous template, in that template's dependency order: a resource
        before those whose properties Ref or GetAtt it (CloudFormation user guide, "DependsOn attribute", read
        2026-12-02: when resource A's properties Ref resource B, "Resource B is updated before resource A";
        https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html). AWS documents no
        order of its own for a rollback's updates, so dependency order is the safe reading; reverse journal order would,
        for one, roll a throughput back before the model lookup whose attribute its ModelArn is. The cleanup then
        deletes what the operation made in reverse dependency order of the new template.
        """
        stack.status = "UPDATE_ROLLBACK_IN_PROGRESS"
        stack.status_reason = reason
        stack.template, stack.parameters = old_template, old_parameters
        position = {lid: index for index, lid in enumerate(self._order(old_template))}
        to_delete: list[tuple[int, Resource, str | None, dict[str, Any]]] = []
        # A resource the operation created is not in the old template (or replaced one that is): it gets no Update.
        rolled_back = sorted(
            enumerate(journal), key=lambda item: (position.get(item[1]["resource"].logical_id, len(position)), item[0])
        )
        for index, entry in rolled_back:
            resource = entry["resource"]
            if entry["action"] == "create":
                to_delete.append((index, resource, resource.physical_id, resource.properties))
                if entry["replaced"] is not None:
                    stack.resources[resource.logical_id] = entry["replaced"]
                else:
                    stack.resources.pop(resource.logical_id, None)
                continue
            current_id, forward_properties = resource.physical_id, resource.properties
            try:
                self._update_resource(
                    stack,
                    resource,
                    entry["old_definition"],
                    entry["old_properties"],
                    old_properties=entry["new_properties"],
                    rollback=True,
                )
            except ResourceFailed as failure:
                resource.status = "UPDATE_FAILED"
                return self._end(stack, "UPDATE_ROLLBACK_FAILED", f"{resource.logical_id}: {failure.reason}")
            # Every id the resource had in this operation but not at its end is deleted in the cleanup.
            for stale in {current_id, entry["old_physical_id"]} - {resource.physical_id, None}:
                props = forward_properties if stale == current_id else entry["old_properties"]
                to_delete.append((index, resource, stale, props))
        stack.status = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
        for _, resource, physical_id, properties in sorted(to_delete, key=lambda item: -item[0]):
            self._cleanup(stack, resource, physical_id, properties, replaced=True)
        self._set_outputs(stack)
        return self._end(stack, "UPDATE_ROLLBACK_COMPLETE", reason)

    def _cleanup(self, stack, resource, physical_id, properties, *, replaced: bool) -> None:
        policy = resource.definition.get("UpdateReplacePolicy" if replaced else "DeletionPolicy")
        if policy in ("Retain", "RetainExceptOnCreate"):
            kept = copy.copy(resource)
            kept.physical_id, kept.properties = physical_id, properties
            self.retained.append((stack.name, kept))
            return
        try:
            self._delete_resource(stack, resource, physical_id, properties)
        except ResourceFailed as failure:
            self.leaks.append(Leak(stack.name, resource.logical_id, physical_id or "", failure.reason))

    def _end(self, stack: Stack, status: str, reason: str = "") -> str:
        stack.status = status
        stack.status_reason = reason or stack.status_reason
        stack.events.append(f"{status} {reason}".strip())
        if status in FAILED_STATES:
            self.failures.append(f"{stack.name} {status}: {reason}")
        return status

    # -- resources -------------------------------------------------------------------------------------------------
    def _forced(self, stack: Stack, logical_id: str, action: str) -> bool:
        return (stack.name, logical_id, action) in self._fail_at

    def _check_injected(self, stack: Stack, logical_id: str, action: str) -> None:
        if (stack.name, logical_id, action) in self._fail_at:
            self._fail_at.discard((stack.name, logical_id, action))
            raise ResourceFailed(f"Injected failure of {action}")

    def _properties(self, stack: Stack, resource: Resource, definition: dict[str, Any]) -> dict[str, Any]:
        properties = self._resolver(stack).resolve(definition.get("Properties", {}))
        return as_custom_resource_properties(properties) if resource.custom else properties

    def _create_resource(self, stack: Stack, resource: Resource) -> None:
        resource.properties = self._properties(stack, resource, resource.definition)
        self._check_injected(stack, resource.logical_id, "Create")
        if resource.custom:
            response = self._custom_request(stack, resource, "Create", resource.properties)
            resource.physical_id = response["PhysicalResourceId"]
            resource.attributes = response.get("Data") or {}
        else:
            kind = NATIVE.get(resource.type, Native)
            resource.physical_id, resource.attributes = kind(self, stack, resource).create(resource.properties)
        resource.status = "CREATE_COMPLETE"
        resource.updated_at = self.world.clock.now

    def _update_resource(self, stack, resource, definition, properties, *, old_properties=None, rollback=False) -> None:
        previous = resource.properties if old_properties is None else old_properties
        if not rollback:
            self._check_injected(stack, resource.logical_id, "Update")
        if resource.custom:
            response = self._custom_request(
                stack, resource, "Update", properties, old_properties=previous, physical_id=resource.physical_id
            )
            resource.physical_id = response["PhysicalResourceId"]
            resource.attributes = response.get("Data") or {}
        else:
            kind = NATIVE.get(resource.type, Native)
            resource.physical_id, resource.attributes = kind(self, stack, resource).update(previous, properties)
        resource.properties = properties
        resource.definition = definition
        resource.status = "UPDATE_COMPLETE"
        resource.updated_at = self.world.clock.now

    def _delete_resource(self, stack, resource, physical_id, properties) -> None:
        if resource.custom:
            self._custom_request(stack, resource, "Delete", properties, physical_id=physical_id)
            self.deleted_resources.append((resource.type, physical_id, properties))
        elif physical_id is not None:
            kind = NATIVE.get(resource.type, Native)
            kind(self, stack, resource).delete(physical_id, properties)

    # -- custom resources through the Provider framework -----------------------------------------------------------
    def _custom_request(self, stack, resource, request_type, properties, *, old_properties=None, physical_id=None):
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": properties.get("ServiceToken"),
            "ResponseURL": "https://cloudformation-custom-resource-response.s3.amazonaws.com/simulated",
            "StackId": stack.stack_id,
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": resource.logical_id,
            "ResourceType": resource.type,
            "ResourceProperties": properties,
        }
        if request_type != "Create":
            event["PhysicalResourceId"] = physical_id
        if request_type == "Update":
            event["OldResourceProperties"] = old_properties
        timeout = int(properties.get("ServiceTimeout", DEFAULT_SERVICE_TIMEOUT))
        started = self.world.clock.now
        framework = self.world.runtime.by_arn(properties.get("ServiceToken", ""))
        if framework is None:
            raise ResourceFailed(f"The service token {properties.get('ServiceToken')} is no function")
        if framework.handler == "framework.onEvent":
            response = ProviderFramework(self.world, framework, stack.name).handle(event)
        else:
            response = BUILTIN_PROVIDERS[resource.type](self, event)
        if self.world.clock.now - started > timeout:
            response = {
                "Status": "FAILED",
                "Reason": f"CloudFormation did not receive a response within {timeout} seconds",
                "PhysicalResourceId": physical_id,
            }
        if response["Status"] != "SUCCESS":
            raise ResourceFailed(response["Reason"], response.get("PhysicalResourceId"))
        return response

    # -- template plumbing -----------------------------------------------------------------------------------------
    def _order(self, template: dict[str, Any]) -> list[str]:
        resources = template["Resources"]
        depends: dict[str, set[str]] = {}
        for logical_id, definition in resources.items():
            explicit = definition.get("DependsOn", [])
            explicit = [explicit] if isinstance(explicit, str) else explicit
            depends[logical_id] = {
                d for d in set(explicit) | references(definition.get("Properties", {})) if d in resources
            }
        order: list[str] = []
        ready = sorted(lid for lid, d in depends.items() if not d)
        remaining = {lid: set(d) for lid, d in depends.items() if d}
        while ready:
            current = ready.pop(0)
            order.append(current)
            for lid in sorted(remaining):
                remaining[lid].discard(current)
                if not remaining[lid]:
                    del remaining[lid]
                    ready.append(lid)
            ready.sort()
        if remaining:
            raise AssertionError(f"Dependency cycle among {sorted(remaining)}")
        return order

    def _parameters(self, stack: Stack, template: dict[str, Any]) -> dict[str, Any]:
        values = {}
        for name, definition in template.get("Parameters", {}).items():
            if definition["Type"].startswith("AWS::SSM::Parameter::Value"):
                value = self.world.ssm.value(stack.region, definition["Default"])
                if value is None:
                    raise OperationRefused(
                        f"Unable to fetch parameters [{definition['Default']}] from parameter store for this account."
                    )
                values[name] = value
            else:
                values[name] = definition.get("Default")
        return values

    def _resolver(self, stack: Stack) -> Resolver:
        def ref(name: str) -> Any:
            pseudo = {
                "AWS::AccountId": stack.account,
                "AWS::Region": stack.region,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackName": stack.name,
                "AWS::StackId": stack.stack_id,
            }
            if name in pseudo:
                return pseudo[name]
            if name in stack.parameters:
                return stack.parameters[name]
            resource = stack.resources.get(name)
            if resource is None or resource.physical_id is None:
                raise Unresolvable(f"{stack.name}: Ref {name} before it exists")
            return resource.attributes.get("Ref", resource.physical_id)

        def get_att(logical_id: str, attribute: str) -> Any:
            resource = stack.resources.get(logical_id)
            if resource is None or attribute not in resource.attributes:
                raise Unresolvable(f"{stack.name}: GetAtt {logical_id}.{attribute} is not there")
            return resource.attributes[attribute]

        def import_value(name: str) -> Any:
            key = (stack.account, stack.region, name)
            if key not in self.world.exports:
                raise Unresolvable(f"{stack.name}: no export named {name}")
            return self.world.exports[key][1]

        def stack_output(name: str, region: str, output: str) -> Any:
            source = self.stacks.get(name)
            if source is None or source.status == "DELETE_COMPLETE" or output not in source.outputs:
                raise Unresolvable(f"{stack.name}: stack {name} has no output {output}")
            return source.outputs[output]

        return Resolver(
            ref=ref,
            get_att=get_att,
            import_value=import_value,
            stack_output=stack_output,
            conditions=stack.template.get("Conditions"),
            mappings=stack.template.get("Mappings"),
        )

    def _set_outputs(self, stack: Stack) -> None:
        resolver = self._resolver(stack)
        outputs, exports = {}, {}
        for name, output in stack.template.get("Outputs", {}).items():
            value = resolver.resolve(output["Value"])
            outputs[name] = value
            if "Export" in output:
                exports[resolver.resolve(output["Export"]["Name"])] = value
        for name in set(stack.exports) - set(exports):
            self.world.exports.pop((stack.account, stack.region, name), None)
        for name, value in exports.items():
            self.world.exports[(stack.account, stack.region, name)] = (stack.name, value)
        stack.outputs, stack.exports = outputs, exports

    def _importers(self, stack: Stack, names: set[str]) -> list[str]:
        importers = []
        for other in self.live():
            if other is stack:
                continue
            text = json.dumps(other.template)
            if any(f'"Fn::ImportValue": "{name}"' in text for name in names):
                importers.append(other.name)
        return importers

    def _publish_assets(self, stack_template: StackTemplate) -> None:
        """The CDK CLI uploads file assets to the bootstrap bucket before it deploys the stack."""
        for asset in stack_template.assets.values():
            if asset["packaging"] != "file":
                continue
            for destination in asset["destinations"].values():
                bucket = (
                    destination["bucketName"]
                    .replace("${AWS::AccountId}", stack_template.account)
                    .replace("${AWS::Region}", stack_template.region)
                )
                self.world.s3.create_bucket(bucket)
                self.world.s3.put(bucket, destination["objectKey"], Path(asset["path"]).read_bytes())

    def generated_name(self, stack: Stack, logical_id: str, max_length: int = 64, lower: bool = False) -> str:
        suffix = hashlib.sha256(f"{stack.stack_id}/{logical_id}/{next(self._names)}".encode()).hexdigest()[:12]
        name = f"{stack.name[:20]}-{logical_id[: max_length - 34]}-{suffix.upper()}"
        return name.lower() if lower else name

    def wait(self, stack: Stack, handle_url: str, count: int, timeout: float) -> dict[str, Any]:
        """CloudFormation waiting on a wait condition; returns its signals or raises ResourceFailed."""
        handle = self.handles.get(handle_url)
        if handle is None:
            raise ResourceFailed("The wait condition's handle does not exist")
        clock = self.world.clock
        deadline = clock.now + timeout

        def decided() -> bool:
            statuses = [s["Status"] for s in handle.signals.values()]
            return "FAILURE" in statuses or statuses.count("SUCCESS") >= count

        clock.run_until(deadline, stop=lambda: decided() or self.cancelled(stack.name))
        if self.cancelled(stack.name) and not decided():
            raise ResourceFailed("Resource creation cancelled")
        failures = [s for s in handle.signals.values() if s["Status"] == "FAILURE"]
        if failures:
            raise ResourceFailed(f"WaitCondition received failed message: '{failures[0]['Reason']}'")
        if not decided():
            received = len(handle.signals)
            raise ResourceFailed(f"WaitCondition timed out. Received {received} conditions when expecting {count}")
        return handle.signals


class ProviderFramework:
    """The CDK Provider framework's onEvent, isComplete and onTimeout, for one provider."""

    def __init__(self, world, framework: Function, stack_name: str) -> None:
        self.world = world
        self.stack_name = stack_name
        self.on_event = framework.environment["USER_ON_EVENT_FUNCTION_ARN"]
        self.is_complete = framework.environment.get("USER_IS_COMPLETE_FUNCTION_ARN")
        self.state_machine = framework.environment.get("WAITER_STATE_MACHINE_ARN")

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        if event["RequestType"] == "Delete" and event.get("PhysicalResourceId") == CREATE_FAILED_MARKER:
            return {"Status": "SUCCESS", "PhysicalResourceId": CREATE_FAILED_MARKER, "Data": None}
        outcome = self.world.runtime.invoke(self.on_event, event)
        if outcome.error is not None:
            return self._failed(event, outcome.error)
        result = outcome.result or {}
        physical_id = result.get("PhysicalResourceId") or (
            event["RequestId"] if event["RequestType"] == "Create" else event["PhysicalResourceId"]
        )
        if event["RequestType"] == "Delete" and physical_id != event["PhysicalResourceId"]:
            return self._failed(event, "DELETE: cannot change the physical resource ID during deletion")
        resource_event = {**event, **result, "PhysicalResourceId": physical_id}
        if not self.is_complete:
            return {"Status": "SUCCESS", "PhysicalResourceId": physical_id, "Data": result.get("Data")}
        interval, attempts = self.world.waiter_schedule(self.state_machine)
        clock = self.world.clock
        for attempt in range(attempts + 1):
            if attempt:
                clock.run_until(clock.now + interval)
            # The waiter's first isComplete runs as soon as onEvent returns (its state machine starts with it), as
            # a provider without isComplete answers then; a cancellation can only fall in a wait between checks.
            if attempt and self.world.engine.cancelled(self.stack_name):
                # CloudFormation stops waiting and never learns the physical id onEvent returned.
                return {
                    "Status": "FAILED",
                    "Reason": "Resource creation cancelled",
                    "PhysicalResourceId": event["RequestId"],
                }
            outcome = self.world.runtime.invoke(self.is_complete, resource_event)
            if outcome.error is not None:
                return self._failed(resource_event, outcome.error)
            answer = outcome.result or {}
            if answer.get("IsComplete"):
                data = {**(resource_event.get("Data") or {}), **(answer.get("Data") or {})}
                return {"Status": "SUCCESS", "PhysicalResourceId": physical_id, "Data": data}
            if answer.get("Data"):
                return self._failed(resource_event, '"Data" is not allowed if "IsComplete" is "False"')
        return {"Status": "FAILED", "Reason": "Operation timed out", "PhysicalResourceId": physical_id}

    @staticmethod
    def _failed(event: dict[str, Any], reason: str) -> dict[str, Any]:
        physical_id = event.get("PhysicalResourceId") or (
            CREATE_FAILED_MARKER if event["RequestType"] == "Create" else None
        )
        return {"Status": "FAILED", "Reason": reason, "PhysicalResourceId": physical_id}


# -- native resource types --------------------------------------------------------------------------------------------
class Native:
    """A resource CloudFormation manages itself: a physical id, attributes, and effects the fakes must see."""

    def __init__(self, engine: Engine, stack: Stack, resource: Resource) -> None:
        self.engine = engine
        self.world = engine.world
        self.stack = stack
        self.resource = resource

    def arn(self, service: str, rest: str, region: bool = True, account: bool = True) -> str:
        return f"arn:aws:{service}:{self.stack.region if region else ''}:{self.stack.account if account else ''}:{rest}"

    def create(self, properties) -> tuple[str, dict[str, Any]]:
        physical_id = self.engine.generated_name(self.stack, self.resource.logical_id)
        return physical_id, {"Arn": self.arn("simulated", physical_id)}

    def update(self, old, new) -> tuple[str, dict[str, Any]]:
        return self.resource.physical_id, self.resource.attributes

    def delete(self, physical_id, properties) -> None:
        return None


class Bucket(Native):
    def create(self, properties):
        name = properties.get("BucketName") or self.engine.generated_name(
            self.stack, self.resource.logical_id, 63, lower=True
        )
        self.world.s3.create_bucket(name)
        return name, {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{self.stack.region}.amazonaws.com",
        }

    def delete(self, physical_id, properties):
        if self.world.s3.buckets.get(physical_id):
            raise ResourceFailed("The bucket you tried to delete is not empty")
        self.world.s3.buckets.pop(physical_id, None)


class Role(Native):
    def create(self, properties):
        name = properties.get("RoleName") or self.engine.generated_name(self.stack, self.resource.logical_id, 64)
        arn = f"arn:aws:iam::{self.stack.account}:role/{name}"
        self.world.iam.put_role(
            name,
            arn,
            properties.get("AssumeRolePolicyDocument", {}),
            properties.get("Policies", []),
            properties.get("ManagedPolicyArns", []),
        )
        return name, {"Arn": arn, "RoleId": f"AROA{name[-12:].upper()}"}

    def update(self, old, new):
        name = self.resource.physical_id
        arn = self.resource.attributes["Arn"]
        self.world.iam.put_role(
            name,
            arn,
            new.get("AssumeRolePolicyDocument", {}),
            new.get("Policies", []),
            new.get("ManagedPolicyArns", []),
        )
        return name, self.resource.attributes

    def delete(self, physical_id, properties):
        self.world.iam.delete_role(physical_id)


class ManagedPolicy(Native):
    def _put(self, policy_id, properties):
        from tests.deploy.iam import _statements

        self.world.iam.put_policy(policy_id, _statements(properties["PolicyDocument"]), properties.get("Roles", []))

    def create(self, properties):
        name = properties.get("ManagedPolicyName") or self.engine.generated_name(self.stack, self.resource.logical_id)
        arn = f"arn:aws:iam::{self.stack.account}:policy/{name}"
        self._put(arn, properties)
        return arn, {"PolicyArn": arn}

    def update(self, old, new):
        self._put(self.resource.physical_id, new)
        return self.resource.physical_id, self.resource.attributes

    def delete(self, physical_id, properties):
        self.world.iam.delete_policy(physical_id)


class Policy(ManagedPolicy):
    def create(self, properties):
        name = properties.get("PolicyName") or self.engine.generated_name(self.stack, self.resource.logical_id)
        self._put(f"policy:{self.stack.name}:{name}", properties)
        return name, {"Id": name}

    def update(self, old, new):
        self._put(f"policy:{self.stack.name}:{self.resource.physical_id}", new)
        return self.resource.physical_id, self.resource.attributes

    def delete(self, physical_id, properties):
        self.world.iam.delete_policy(f"policy:{self.stack.name}:{physical_id}")


class LambdaFunction(Native):
    def _register(self, name, properties):
        arn = self.arn("lambda", f"function:{name}")
        code_dir = self._code(properties["Code"])
        layers = [self.world.layers[arn] for arn in properties.get("Layers", []) if arn in self.world.layers]
        role_arn = properties["Role"]
        role_name = role_arn.rsplit("/", 1)[1]
        function = Function(
            name=name,
            arn=arn,
            account=self.stack.account,
            region=self.stack.region,
            handler=properties["Handler"],
            runtime=properties.get("Runtime", ""),
            code=code_dir,
            layers=layers,
            environment={k: str(v) for k, v in properties.get("Environment", {}).get("Variables", {}).items()},
            role_name=role_name,
            timeout=int(properties.get("Timeout", 3)),
        )
        self.world.runtime.register(function)
        self.world.iam.function_roles[name] = role_name
        return arn

    def _code(self, code: dict[str, Any]) -> Path | None:
        key = code.get("S3Key", "")
        asset_id = key.split(".", 1)[0]
        asset = self.stack.assets.get(asset_id)
        return Path(asset["path"]) if asset else None

    def create(self, properties):
        name = properties.get("FunctionName") or self.engine.generated_name(self.stack, self.resource.logical_id, 64)
        return name, {"Arn": self._register(name, properties)}

    def update(self, old, new):
        self._register(self.resource.physical_id, new)
        return self.resource.physical_id, self.resource.attributes

    def delete(self, physical_id, properties):
        self.world.runtime.remove(physical_id)
        self.world.iam.function_roles.pop(physical_id, None)


class LayerVersion(Native):
    def create(self, properties):
        name = properties.get("LayerName") or self.engine.generated_name(self.stack, self.resource.logical_id)
        arn = self.arn("lambda", f"layer:{name}:{next(self.engine._names)}")
        asset_id = properties["Content"]["S3Key"].split(".", 1)[0]
        asset = self.stack.assets.get(asset_id)
        if asset:
            self.world.layers[arn] = Path(asset["path"])
        return arn, {}

    def update(self, old, new):
        return self.create(new)


class EventRule(Native):
    def _put(self, name, properties):
        schedule = properties.get("ScheduleExpression")
        rule = Rule(
            name=name,
            arn=self.arn("events", f"rule/{name}"),
            account=self.stack.account,
            region=self.stack.region,
            pattern=properties.get("EventPattern"),
            schedule_seconds=rate_seconds(schedule) if schedule else None,
            # CloudFormation sets the state the template gives (ENABLED when it gives none) on every create and
            # update: a rule disabled out of band is enabled again by any update of the rule.
            enabled=properties.get("State", "ENABLED") == "ENABLED",
            targets=properties.get("Targets", []),
        )
        self.world.eventbridge.put_rule(rule)
        return rule.arn

    def create(self, properties):
        name = properties.get("Name") or self.engine.generated_name(self.stack, self.resource.logical_id, 64)
        return name, {"Arn": self._put(name, properties)}

    def update(self, old, new):
        self._put(self.resource.physical_id, new)
        return self.resource.physical_id, self.resource.attributes

    def delete(self, physical_id, properties):
        self.world.eventbridge.delete_rule(self.stack.region, physical_id)


class SsmParameter(Native):
    def create(self, properties):
        name = properties.get("Name") or f"CFN-{self.engine.generated_name(self.stack, self.resource.logical_id)}"
        self.world.ssm.set(self.stack.region, name, properties["Value"])
        return name, {"Type": properties.get("Type", "String"), "Value": properties["Value"]}

    def update(self, old, new):
        self.world.ssm.set(self.stack.region, self.resource.physical_id, new["Value"])
        return self.resource.physical_id, {"Type": new.get("Type", "String"), "Value": new["Value"]}

    def delete(self, physical_id, properties):
        self.world.ssm.parameters.pop((self.stack.region, physical_id), None)


class WaitConditionHandle(Native):
    def create(self, properties):
        stack_id = urllib.parse.quote(self.stack.stack_id, safe="")
        url = (
            f"https://cloudformation-waitcondition-{self.stack.region}.s3.amazonaws.com/{stack_id}/"
            f"{self.resource.logical_id}?X-Amz-Signature={uuid.uuid4().hex}"
        )
        self.engine.handles[url] = WaitHandle(url, self.stack.stack_id, self.resource.logical_id)
        return url, {}


class WaitCondition(Native):
    def create(self, properties):
        signals = self.engine.wait(
            self.stack, properties["Handle"], int(properties.get("Count", 1)), float(properties["Timeout"])
        )
        name = self.engine.generated_name(self.stack, self.resource.logical_id)
        data = {unique_id: signal.get("Data", "") for unique_id, signal in signals.items()}
        return name, {"Data": json.dumps(data)}

    def update(self, old, new):
        if old.get("Handle") != new.get("Handle"):
            return self.create(new)
        return self.resource.physical_id, self.resource.attributes


class StateMachine(Native):
    def create(self, properties):
        name = properties.get("StateMachineName") or self.engine.generated_name(self.stack, self.resource.logical_id)
        arn = self.arn("states", f"stateMachine:{name}")
        self.world.state_machines[arn] = json.loads(properties["DefinitionString"])
        return arn, {"Name": name, "Arn": arn}

    def update(self, old, new):
        self.world.state_machines[self.resource.physical_id] = json.loads(new["DefinitionString"])
        return self.resource.physical_id, self.resource.attributes


class Topic(Native):
    def create(self, properties):
        name = properties.get("TopicName") or self.engine.generated_name(self.stack, self.resource.logical_id)
        arn = self.arn("sns", name)
        return arn, {"TopicArn": arn, "TopicName": name}


class Queue(Native):
    """AWS::SQS::Queue: Ref is the queue URL; Arn, QueueName and QueueUrl are its attributes (CloudFormation user
    guide, AWS::SQS::Queue, "Return values", read 2026-12-02)."""

    def create(self, properties):
        name = properties.get("QueueName") or self.engine.generated_name(self.stack, self.resource.logical_id)
        url = f"https://sqs.{self.stack.region}.amazonaws.com/{self.stack.account}/{name}"
        return url, {"Arn": self.arn("sqs", name), "QueueName": name, "QueueUrl": url}


class LogGroup(Native):
    def create(self, properties):
        name = properties.get("LogGroupName") or self.engine.generated_name(self.stack, self.resource.logical_id)
        return name, {"Arn": self.arn("logs", f"log-group:{name}:*")}


class Key(Native):
    def create(self, properties):
        key_id = str(uuid.UUID(hashlib.md5(self.engine.generated_name(self.stack, "key").encode()).hexdigest()))
        return key_id, {"Arn": self.arn("kms", f"key/{key_id}"), "KeyId": key_id}


class Alias(Native):
    def create(self, properties):
        return properties["AliasName"], {}


class GenericArn(Native):
    """Resources whose Ref is an ARN and whose effects the handlers never see (dashboards, shares, alarms...)."""

    def create(self, properties):
        name = self.engine.generated_name(self.stack, self.resource.logical_id)
        service = self.resource.type.split("::")[1].lower()
        arn = self.arn(service, name)
        return arn, {"Arn": arn}


NATIVE: dict[str, type[Native]] = {
    "AWS::S3::Bucket": Bucket,
    "AWS::IAM::Role": Role,
    "AWS::IAM::ManagedPolicy": ManagedPolicy,
    "AWS::IAM::Policy": Policy,
    "AWS::Lambda::Function": LambdaFunction,
    "AWS::Lambda::LayerVersion": LayerVersion,
    "AWS::Events::Rule": EventRule,
    "AWS::SSM::Parameter": SsmParameter,
    "AWS::CloudFormation::WaitConditionHandle": WaitConditionHandle,
    "AWS::CloudFormation::WaitCondition": WaitCondition,
    "AWS::StepFunctions::StateMachine": StateMachine,
    "AWS::SNS::Topic": Topic,
    "AWS::Logs::LogGroup": LogGroup,
    "AWS::KMS::Key": Key,
    "AWS::KMS::Alias": Alias,
    "AWS::RAM::ResourceShare": GenericArn,
    "AWS::SQS::Queue": Queue,
    "AWS::Budgets::Budget": GenericArn,
}


def _auto_delete_objects(engine: Engine, event: dict[str, Any]) -> dict[str, Any]:
    """aws-cdk-lib's S3 auto-delete-objects handler: when the resource is deleted, denies every write in the bucket's
    policy, then empties it (the handler bundled in aws-cdk-lib 2.275.0, read 2026-12-02). A logging configuration
    that still delivers into the bucket then loses every log, which the world records."""
    physical_id = event.get("PhysicalResourceId") or event["RequestId"]
    if event["RequestType"] == "Delete":
        bucket = event["ResourceProperties"]["BucketName"]
        s3 = engine.world.s3
        s3.writes_denied.add(bucket)
        for (account, region), configuration in engine.world.bedrock.logging.items():
            if (configuration.get("s3Config") or {}).get("bucketName") == bucket:
                s3.lost_log_deliveries.append(
                    f"the invocation logging of {account}/{region} still delivers into {bucket} when its deletion "
                    "denies writes and empties it"
                )
        s3.buckets.get(bucket, {}).clear()
    return {"Status": "SUCCESS", "PhysicalResourceId": physical_id, "Data": {}}


BUILTIN_PROVIDERS = {"Custom::S3AutoDeleteObjects": _auto_delete_objects}
