"""The invocation-logging handler: it never replaces or deletes a configuration that is not its own, and remembers."""

from __future__ import annotations

import json

import botocore.validate
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from tests.handlers.conftest import event, load_handler, lose_answers, rollback_of

PHYSICAL_ID = "bedrock-model-invocation-logging"
BUCKET = "sandbox-distillation-fou-storageinvocationlogs-1a2b3c4d5e6f"
PARAMETER = "/bedrock-distillation/sandbox/invocation-logging"
DESCRIPTION = "What the stage's invocation logging resource replaced and last put in place; do not edit"


def ours(prefix: str = "invocation-logs") -> dict:
    return {
        "s3Config": {"bucketName": BUCKET, "keyPrefix": prefix},
        "textDataDeliveryEnabled": True,
        "imageDataDeliveryEnabled": False,
        "embeddingDataDeliveryEnabled": False,
    }


OURS = ours()
OURS_MOVED = ours("bedrock/invocation-logs")
THEIRS = {
    "cloudWatchConfig": {"logGroupName": "/team/bedrock", "roleArn": "arn:aws:iam::123456789012:role/BedrockLogs"},
    "s3Config": {"bucketName": "security-team-logs", "keyPrefix": "bedrock"},
    "textDataDeliveryEnabled": True,
    "imageDataDeliveryEnabled": True,
    "embeddingDataDeliveryEnabled": True,
}
THEIRS_DESCRIBED = "delivering to s3://security-team-logs/bedrock and CloudWatch Logs group /team/bedrock"
REFUSAL = (
    "This account and Region already has a model invocation logging configuration that this stack did not create "
    f"({THEIRS_DESCRIBED}). Set invocationLogging.takeOver to true in the stage to replace it (it is restored when "
    "the stack is deleted), or set invocationLogging.enabled to false to leave it alone."
)
ANSWER = {"PhysicalResourceId": PHYSICAL_ID, "Data": {"Destination": f"s3://{BUCKET}/invocation-logs"}}
ANSWER_MOVED = {"PhysicalResourceId": PHYSICAL_ID, "Data": {"Destination": f"s3://{BUCKET}/bedrock/invocation-logs"}}


@pytest.fixture
def handler(stub):
    """The handler with both clients stubbed; ``calls`` lists the operations asked of Bedrock and SSM in order (each
    client's Stubber checks its own order, not the order between them)."""
    module = load_handler("invocation_logging")
    module.bedrock_stub = stub(module.bedrock)
    module.ssm_stub = stub(module.ssm)
    module.calls = []
    for client in (module.bedrock, module.ssm):
        client.meta.events.register(
            "before-parameter-build", lambda event_name, **_: module.calls.append(event_name.rsplit(".", 1)[1])
        )
    return module


def currently(handler, configuration: dict | None) -> None:
    response = {"loggingConfig": configuration} if configuration else {}
    handler.bedrock_stub.add_response("get_model_invocation_logging_configuration", response, {})


def expect_put(handler, configuration: dict) -> None:
    handler.bedrock_stub.add_response(
        "put_model_invocation_logging_configuration", {}, {"loggingConfig": configuration}
    )


def remembered(handler, state: dict | None, name: str = PARAMETER) -> None:
    if state is None:
        handler.ssm_stub.add_client_error("get_parameter", "ParameterNotFound", "", 400, {"Name": name})
        return
    parameter = {"Name": name, "Type": "String", "Value": json.dumps(state), "Version": 3}
    handler.ssm_stub.add_response("get_parameter", {"Parameter": parameter}, {"Name": name})


def expect_remember(handler, state: dict, name: str = PARAMETER) -> None:
    handler.ssm_stub.add_response(
        "put_parameter",
        {"Version": 4},
        {"Name": name, "Value": json.dumps(state), "Type": "String", "Overwrite": True, "Description": DESCRIPTION},
    )


def expect_forget(handler) -> None:
    handler.ssm_stub.add_response("delete_parameter", {}, {"Name": PARAMETER})


def taking_over(request: dict) -> dict:
    request["ResourceProperties"]["TakeOver"] = "true"
    return request


# -- Create -------------------------------------------------------------------------------------------------------
def test_create_with_no_configuration_records_ours_pending_puts_it_then_records_it_applied(handler):
    currently(handler, None)
    remembered(handler, None)
    expect_remember(handler, {"pending": OURS})
    expect_put(handler, OURS)
    expect_remember(handler, {"applied": OURS})
    assert handler.on_event(event("invocation_logging_create"), None) == ANSWER
    assert handler.calls == [
        "GetModelInvocationLoggingConfiguration",
        "GetParameter",
        "PutParameter",
        "PutModelInvocationLoggingConfiguration",
        "PutParameter",
    ]


def test_create_refuses_to_replace_a_configuration_it_did_not_create(handler):
    currently(handler, THEIRS)
    remembered(handler, None)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("invocation_logging_create"), None)
    assert str(raised.value) == REFUSAL


@pytest.mark.parametrize(
    ("configuration", "described"),
    [
        (
            {"cloudWatchConfig": {"logGroupName": "/team/bedrock", "roleArn": "arn:aws:iam::123456789012:role/Logs"}},
            "delivering to CloudWatch Logs group /team/bedrock",
        ),
        ({"textDataDeliveryEnabled": True}, "delivering nowhere"),
    ],
)
def test_a_refusal_says_where_the_configuration_in_place_delivers(handler, configuration, described):
    currently(handler, configuration)
    remembered(handler, None)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("invocation_logging_create"), None)
    assert str(raised.value) == REFUSAL.replace(THEIRS_DESCRIBED, described)


def test_create_taking_over_remembers_the_configuration_it_replaces_before_replacing_it(handler):
    currently(handler, THEIRS)
    remembered(handler, None)
    expect_remember(handler, {"replaced": THEIRS, "pending": OURS})
    expect_put(handler, OURS)
    expect_remember(handler, {"replaced": THEIRS, "applied": OURS})
    assert handler.on_event(taking_over(event("invocation_logging_create")), None) == ANSWER
    assert handler.calls[-3:] == ["PutParameter", "PutModelInvocationLoggingConfiguration", "PutParameter"]


def test_a_retried_create_finds_its_own_configuration_and_puts_it_again(handler):
    currently(handler, OURS)
    remembered(handler, {"applied": OURS})
    expect_remember(handler, {"applied": OURS, "pending": OURS})
    expect_put(handler, OURS)
    expect_remember(handler, {"applied": OURS})
    assert handler.on_event(event("invocation_logging_create"), None) == ANSWER


def test_a_take_over_retried_after_a_refused_put_records_theirs_once(handler):
    """The first attempt recorded theirs and ours pending, then Bedrock refused ours: theirs is still in place, and
    the record keeps one replaced configuration, theirs."""
    currently(handler, THEIRS)
    remembered(handler, {"replaced": THEIRS, "pending": OURS})
    expect_remember(handler, {"replaced": THEIRS, "pending": OURS})
    expect_put(handler, OURS)
    expect_remember(handler, {"replaced": THEIRS, "applied": OURS})
    assert handler.on_event(taking_over(event("invocation_logging_create")), None) == ANSWER
    assert handler.calls == [
        "GetModelInvocationLoggingConfiguration",
        "GetParameter",
        "PutParameter",
        "PutModelInvocationLoggingConfiguration",
        "PutParameter",
    ]


def test_a_retried_take_over_keeps_what_it_replaced_the_first_time(handler):
    currently(handler, OURS)
    remembered(handler, {"replaced": THEIRS, "applied": OURS})
    expect_remember(handler, {"replaced": THEIRS, "applied": OURS, "pending": OURS})
    expect_put(handler, OURS)
    expect_remember(handler, {"replaced": THEIRS, "applied": OURS})
    assert handler.on_event(taking_over(event("invocation_logging_create")), None) == ANSWER


def test_a_take_over_whose_record_cannot_be_saved_replaces_nothing(handler):
    """A replaced configuration with no record of it could never be restored (a failed Create gets no Delete that
    would): the record comes first, and a failed save stops the take-over."""
    currently(handler, THEIRS)
    remembered(handler, None)
    handler.ssm_stub.add_client_error("put_parameter", "AccessDeniedException", "Not authorized", 400)
    with pytest.raises(ClientError, match="AccessDeniedException"):
        handler.on_event(taking_over(event("invocation_logging_create")), None)
    assert "PutModelInvocationLoggingConfiguration" not in handler.calls


# -- Update -------------------------------------------------------------------------------------------------------
def test_update_moves_its_own_configuration_to_the_new_prefix_in_place(handler):
    currently(handler, OURS)
    remembered(handler, {"applied": OURS})
    expect_remember(handler, {"applied": OURS, "pending": OURS_MOVED})
    expect_put(handler, OURS_MOVED)
    expect_remember(handler, {"applied": OURS_MOVED})
    assert handler.on_event(event("invocation_logging_update"), None) == ANSWER_MOVED
    assert handler.calls[-3:] == ["PutParameter", "PutModelInvocationLoggingConfiguration", "PutParameter"]


def test_update_with_its_configuration_already_in_place_puts_and_saves_nothing(handler):
    currently(handler, OURS_MOVED)
    remembered(handler, {"applied": OURS_MOVED})
    assert handler.on_event(event("invocation_logging_update"), None) == ANSWER_MOVED
    assert handler.calls == ["GetModelInvocationLoggingConfiguration", "GetParameter"]


def test_update_finding_its_configuration_in_place_remembers_it_as_applied(handler):
    """A retried Update whose put went through before its answer was lost: the record catches up, nothing is put."""
    currently(handler, OURS_MOVED)
    remembered(handler, {"replaced": THEIRS, "applied": OURS})
    expect_remember(handler, {"replaced": THEIRS, "applied": OURS_MOVED})
    assert handler.on_event(event("invocation_logging_update"), None) == ANSWER_MOVED


def test_update_puts_ours_where_there_is_none(handler):
    currently(handler, None)
    remembered(handler, {"applied": OURS})
    expect_remember(handler, {"applied": OURS, "pending": OURS_MOVED})
    expect_put(handler, OURS_MOVED)
    expect_remember(handler, {"applied": OURS_MOVED})
    assert handler.on_event(event("invocation_logging_update"), None) == ANSWER_MOVED


def test_update_replaces_the_configuration_it_last_applied(handler):
    earlier = ours("earlier-prefix")
    currently(handler, earlier)
    remembered(handler, {"applied": earlier})
    expect_remember(handler, {"applied": earlier, "pending": OURS_MOVED})
    expect_put(handler, OURS_MOVED)
    expect_remember(handler, {"applied": OURS_MOVED})
    assert handler.on_event(event("invocation_logging_update"), None) == ANSWER_MOVED


def test_update_refuses_a_configuration_someone_else_put_in_the_meantime(handler):
    currently(handler, THEIRS)
    remembered(handler, {"applied": OURS})
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("invocation_logging_update"), None)
    assert str(raised.value) == REFUSAL


def test_a_rollback_to_the_configuration_it_last_applied_succeeds_and_leaves_theirs(handler):
    """The forward Update was refused because theirs replaced ours; CloudFormation rolls back to ours: nothing to
    undo, and a second refusal would leave the stack in UPDATE_ROLLBACK_FAILED."""
    currently(handler, THEIRS)
    remembered(handler, {"applied": OURS})
    request = rollback_of(event("invocation_logging_update"), physical_id=PHYSICAL_ID)
    assert handler.on_event(request, None) == ANSWER
    assert handler.calls == ["GetModelInvocationLoggingConfiguration", "GetParameter"]


def test_update_taking_over_remembers_what_it_replaces_before_replacing_it(handler):
    currently(handler, THEIRS)
    remembered(handler, {"applied": OURS})
    expect_remember(handler, {"applied": OURS, "replaced": THEIRS, "pending": OURS_MOVED})
    expect_put(handler, OURS_MOVED)
    expect_remember(handler, {"applied": OURS_MOVED, "replaced": THEIRS})
    assert handler.on_event(taking_over(event("invocation_logging_update")), None) == ANSWER_MOVED
    assert handler.calls[-3:] == ["PutParameter", "PutModelInvocationLoggingConfiguration", "PutParameter"]


def test_update_taking_over_again_records_the_latest_replaced_configuration(handler):
    """This stack replaced the original, then theirs replaced ours: theirs, not the original it superseded, is what
    a Delete is to put back."""
    original = {"s3Config": {"bucketName": "original-logs", "keyPrefix": ""}, "textDataDeliveryEnabled": True}
    currently(handler, THEIRS)
    remembered(handler, {"replaced": original, "applied": OURS})
    expect_remember(handler, {"replaced": THEIRS, "applied": OURS, "pending": OURS_MOVED})
    expect_put(handler, OURS_MOVED)
    expect_remember(handler, {"replaced": THEIRS, "applied": OURS_MOVED})
    assert handler.on_event(taking_over(event("invocation_logging_update")), None) == ANSWER_MOVED


# -- Delete -------------------------------------------------------------------------------------------------------
def test_delete_restores_the_configuration_it_replaced(handler):
    currently(handler, OURS)
    remembered(handler, {"replaced": THEIRS, "applied": OURS})
    expect_put(handler, THEIRS)
    expect_forget(handler)
    assert handler.on_event(event("invocation_logging_delete"), None) == {"PhysicalResourceId": PHYSICAL_ID}


def test_delete_removes_its_own_configuration_when_it_replaced_nothing(handler):
    currently(handler, OURS)
    remembered(handler, {"applied": OURS})
    handler.bedrock_stub.add_response("delete_model_invocation_logging_configuration", {}, {})
    expect_forget(handler)
    assert handler.on_event(event("invocation_logging_delete"), None) == {"PhysicalResourceId": PHYSICAL_ID}


def test_delete_leaves_alone_a_configuration_that_is_no_longer_its_own(handler):
    currently(handler, THEIRS)
    remembered(handler, {"replaced": {"s3Config": {"bucketName": "x", "keyPrefix": ""}}, "applied": OURS})
    expect_forget(handler)
    assert handler.on_event(event("invocation_logging_delete"), None) == {"PhysicalResourceId": PHYSICAL_ID}


def test_delete_with_no_configuration_left_deletes_nothing(handler):
    currently(handler, None)
    remembered(handler, {"applied": OURS})
    expect_forget(handler)
    assert handler.on_event(event("invocation_logging_delete"), None) == {"PhysicalResourceId": PHYSICAL_ID}


def test_delete_that_cannot_restore_theirs_deletes_ours_and_says_so(handler, caplog):
    """Bedrock refuses theirs (its log group's role is gone, say): ours is deleted instead, so that nothing keeps
    delivering the account's prompts to a bucket the stack is removing, and the Delete succeeds."""
    currently(handler, OURS)
    remembered(handler, {"replaced": THEIRS, "applied": OURS})
    refused = "Failed to validate permissions for log group: /team/bedrock"
    handler.bedrock_stub.add_client_error(
        "put_model_invocation_logging_configuration", "ValidationException", refused, 400, {"loggingConfig": THEIRS}
    )
    handler.bedrock_stub.add_response("delete_model_invocation_logging_configuration", {}, {})
    expect_forget(handler)
    assert handler.on_event(event("invocation_logging_delete"), None) == {"PhysicalResourceId": PHYSICAL_ID}
    assert handler.calls == [
        "GetModelInvocationLoggingConfiguration",
        "GetParameter",
        "PutModelInvocationLoggingConfiguration",
        "DeleteModelInvocationLoggingConfiguration",
        "DeleteParameter",
    ]
    assert [(record.levelname, record.getMessage()) for record in caplog.records if record.levelname == "WARNING"] == [
        (
            "WARNING",
            f"Could not restore the configuration this stack replaced ({THEIRS_DESCRIBED}): An error occurred "
            f"(ValidationException) when calling the PutModelInvocationLoggingConfiguration operation: {refused}. "
            "Deleted this stack's own instead: the account now has no invocation logging configuration.",
        )
    ]


def test_delete_whose_restore_fails_otherwise_fails_and_keeps_the_record(handler):
    """Only Bedrock's refusal of the configuration itself gives the restore up: any other error fails the Delete with
    the record kept, so that the retried Delete still knows what to put back."""
    currently(handler, OURS)
    remembered(handler, {"replaced": THEIRS, "applied": OURS})
    handler.bedrock_stub.add_client_error(
        "put_model_invocation_logging_configuration",
        "ThrottlingException",
        "Rate exceeded",
        429,
        {"loggingConfig": THEIRS},
    )
    with pytest.raises(ClientError, match="ThrottlingException"):
        handler.on_event(event("invocation_logging_delete"), None)
    assert "DeleteParameter" not in handler.calls
    assert "DeleteModelInvocationLoggingConfiguration" not in handler.calls


def test_delete_removes_a_configuration_it_was_putting_when_a_request_ended(handler):
    """The record says ours was pending (a put whose answer was lost): the configuration in place is that one, not
    what the Delete's properties ask for, and it is still this stack's to delete."""
    currently(handler, OURS_MOVED)
    remembered(handler, {"applied": OURS, "pending": OURS_MOVED})
    handler.bedrock_stub.add_response("delete_model_invocation_logging_configuration", {}, {})
    expect_forget(handler)
    assert handler.on_event(event("invocation_logging_delete"), None) == {"PhysicalResourceId": PHYSICAL_ID}
    assert handler.calls[-2:] == ["DeleteModelInvocationLoggingConfiguration", "DeleteParameter"]


def test_delete_removes_the_configuration_it_last_applied(handler):
    """What the record says this stack applied is its own, whatever prefix the Delete's properties name."""
    currently(handler, OURS_MOVED)
    remembered(handler, {"applied": OURS_MOVED})
    handler.bedrock_stub.add_response("delete_model_invocation_logging_configuration", {}, {})
    expect_forget(handler)
    assert handler.on_event(event("invocation_logging_delete"), None) == {"PhysicalResourceId": PHYSICAL_ID}
    assert handler.calls[-2:] == ["DeleteModelInvocationLoggingConfiguration", "DeleteParameter"]


def test_a_repeated_delete_succeeds_though_the_state_is_already_forgotten(handler):
    currently(handler, None)
    remembered(handler, None)
    handler.ssm_stub.add_client_error(
        "delete_parameter", "ParameterNotFound", "Parameter not found", 400, {"Name": PARAMETER}
    )
    assert handler.on_event(event("invocation_logging_delete"), None) == {"PhysicalResourceId": PHYSICAL_ID}


class ParameterStore:
    """SSM's GetParameter, PutParameter and DeleteParameter over a dict of the parameters that exist, each request
    checked against the service model: for tests that follow the state through several requests."""

    def __init__(self, ssm, parameters: dict[str, dict]) -> None:
        self.ssm = ssm
        self.values = {name: json.dumps(state) for name, state in parameters.items()}

    def _check(self, operation: str, params: dict) -> None:
        shape = self.ssm.meta.service_model.operation_model(operation).input_shape
        botocore.validate.validate_parameters(params, shape)

    def get_parameter(self, **params):
        self._check("GetParameter", params)
        if params["Name"] not in self.values:
            raise self.ssm.exceptions.ParameterNotFound({"Error": {"Code": "ParameterNotFound"}}, "GetParameter")
        return {"Parameter": {"Name": params["Name"], "Type": "String", "Value": self.values[params["Name"]]}}

    def put_parameter(self, **params):
        self._check("PutParameter", params)
        self.values[params["Name"]] = params["Value"]
        return {"Version": 1}

    def delete_parameter(self, **params):
        self._check("DeleteParameter", params)
        if self.values.pop(params["Name"], None) is None:
            raise self.ssm.exceptions.ParameterNotFound({"Error": {"Code": "ParameterNotFound"}}, "DeleteParameter")
        return {}

    def state(self) -> dict | None:
        """The stage's state as saved, None once it is deleted."""
        return json.loads(self.values[PARAMETER]) if PARAMETER in self.values else None


@pytest.fixture
def parameters(handler, monkeypatch):
    """``parameters(states)``: SSM answered by a ParameterStore holding ``states`` by name."""

    def install(states: dict[str, dict]) -> ParameterStore:
        store = ParameterStore(handler.ssm, states)
        for method in ("get_parameter", "put_parameter", "delete_parameter"):
            monkeypatch.setattr(handler.ssm, method, getattr(store, method))
        return store

    return install


def refuse_put(handler, configuration: dict) -> None:
    handler.bedrock_stub.add_client_error(
        "put_model_invocation_logging_configuration",
        "ValidationException",
        f"Failed to validate permissions for bucket {BUCKET}",
        400,
        {"loggingConfig": configuration},
    )


def test_a_take_over_whose_put_bedrock_refuses_records_theirs_and_nothing_applied(handler, parameters):
    """Theirs is in place: it is recorded to be restored, and nothing that Bedrock did not take is recorded applied."""
    store = parameters({})
    currently(handler, THEIRS)
    refuse_put(handler, OURS)
    with pytest.raises(ClientError, match="Failed to validate permissions"):
        handler.on_event(taking_over(event("invocation_logging_create")), None)
    assert store.state() == {"replaced": THEIRS, "pending": OURS}


def test_an_update_taking_over_whose_put_is_refused_keeps_what_it_last_applied(handler, parameters):
    store = parameters({PARAMETER: {"applied": OURS}})
    currently(handler, THEIRS)
    refuse_put(handler, OURS_MOVED)
    with pytest.raises(ClientError, match="Failed to validate permissions"):
        handler.on_event(taking_over(event("invocation_logging_update")), None)
    assert store.state() == {"applied": OURS, "replaced": THEIRS, "pending": OURS_MOVED}


def test_a_take_over_whose_put_answer_is_lost_still_restores_theirs_on_delete(handler, parameters, monkeypatch):
    """Bedrock took the put but its answer was lost, so the Create failed; the next deploy's Create finds ours in place
    and completes, and the Delete puts theirs back from the record made before the put."""
    store = parameters({})
    lost = ReadTimeoutError(endpoint_url="https://bedrock.us-west-2.amazonaws.com/logging/modelinvocations")
    lose_answers(monkeypatch, handler.bedrock, "put_model_invocation_logging_configuration", lost)
    create = taking_over(event("invocation_logging_create"))
    currently(handler, THEIRS)
    with pytest.raises(ReadTimeoutError):
        handler.on_event(create, None)
    currently(handler, OURS)
    expect_put(handler, OURS)
    assert handler.on_event(create, None) == ANSWER
    assert store.state() == {"replaced": THEIRS, "applied": OURS}
    currently(handler, OURS)
    expect_put(handler, THEIRS)
    delete = event("invocation_logging_delete", ResourceProperties=create["ResourceProperties"])
    assert handler.on_event(delete, None) == {"PhysicalResourceId": PHYSICAL_ID}
    assert store.state() is None


def test_the_rollback_of_a_take_over_whose_put_failed_leaves_theirs_and_succeeds(handler, parameters):
    """The rollback asks for what this stack last applied, which Bedrock's refusal left recorded: nothing to undo,
    theirs is left in place, and the stack does not end in UPDATE_ROLLBACK_FAILED."""
    store = parameters({PARAMETER: {"applied": OURS}})
    forward = taking_over(event("invocation_logging_update"))
    currently(handler, THEIRS)
    refuse_put(handler, OURS_MOVED)
    with pytest.raises(ClientError, match="Failed to validate permissions"):
        handler.on_event(forward, None)
    currently(handler, THEIRS)
    assert handler.on_event(rollback_of(forward, physical_id=PHYSICAL_ID), None) == ANSWER
    assert store.state() == {"applied": OURS, "replaced": THEIRS, "pending": OURS_MOVED}
