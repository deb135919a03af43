"""How handler code reaches the fake AWS: real botocore clients, short-circuited just before the network.

botocore itself validates every request against its service model (as it does before any real call), builds the
request, and then emits ``before-call``; a hook registered there answers from the fake service instead of HTTP. The
hook also runs botocore's own retry handler (``needs-retry``) between attempts, so throttling and lost responses are
retried exactly as the client's retry configuration says, with the waits spent on the simulated clock. Every answer
the fake gives is validated against the operation's output shape (as botocore's Stubber does), so the fake cannot
drift from the model the handlers are written against.

Before each call, the caller's permissions are checked against the IAM policies the synthesized template gives the
calling function's role (see ``iam.py``); a denial is recorded and answered with AccessDenied.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError
from botocore.hooks import first_non_none_response
from botocore.validate import ParamValidator

# The status code botocore sees for an error code, where the service model does not model one.
DEFAULT_ERROR_STATUS = {
    "ThrottlingException": 429,
    "AccessDeniedException": 403,
    "AccessDenied": 403,
    "ResourceNotFoundException": 404,
    "NoSuchKey": 404,
    "NoSuchBucket": 404,
    "ParameterNotFound": 400,
    "ConflictException": 409,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}


class FakeError(Exception):
    """An error answer from a fake service: botocore raises the modeled exception class for ``code``."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status or DEFAULT_ERROR_STATUS.get(code, 400)


@dataclass
class Call:
    """One API call as the fake sees it, after botocore validated it."""

    service: str
    operation: str
    params: dict[str, Any]
    region: str
    account: str
    caller: str | None  # the calling function's name; None for the test harness itself
    attempt: int = 1  # botocore's attempt number for this call (retries count up)


@dataclass
class Authorization:
    """What IAM evaluates for a call: each (action, resource, condition context) must be allowed."""

    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def need(self, action: str, resource: str, **context: Any) -> Authorization:
        self.requests.append((action, resource, context))
        return self


class Service:
    """Base of a fake service: an operation ``Foo`` is the method ``foo(call)``; ``authorize_foo(call)`` (optional)
    returns what IAM must allow, else ``<prefix>:Foo`` on ``*`` is asked for."""

    name = ""
    iam_prefix = ""

    def __init__(self, world) -> None:
        self.world = world

    def handler_for(self, operation: str) -> Callable[[Call], dict[str, Any]]:
        handler = getattr(self, snake(operation), None)
        if handler is None:
            raise AssertionError(f"The fake {self.name} does not implement {operation}; add it to the simulator")
        return handler

    def authorization(self, call: Call) -> Authorization:
        custom = getattr(self, f"authorize_{snake(call.operation)}", None)
        if custom is not None:
            return custom(call)
        return Authorization().need(f"{self.iam_prefix}:{call.operation}", "*")


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


_ACTIVE: list[Bridge] = []
_SESSION: list[botocore.session.Session] = []


def shared_session() -> botocore.session.Session:
    """The botocore session every simulated function makes its clients from.

    In Lambda each function has a session of its own; here they share one, because a session loads each service
    model from disk once and a fresh one per cold start would make the simulation crawl. Clients stay per function,
    and the hooks answer for whichever world is active.
    """
    if not _SESSION:
        session = botocore.session.Session()
        session.register("before-parameter-build", lambda **kw: _ACTIVE[-1]._keep_params(**kw))
        session.register("before-call", lambda **kw: _ACTIVE[-1]._answer(**kw))
        _SESSION.append(session)
    return _SESSION[0]


class Bridge:
    """The botocore hooks behind ``shared_session``, for one world while it is active (``with bridge.active()``)."""

    def __init__(self, world) -> None:
        self.world = world
        self._validator = ParamValidator()

    def activate(self) -> None:
        _ACTIVE.append(self)

    def deactivate(self) -> None:
        _ACTIVE.remove(self)

    @staticmethod
    def _keep_params(params, context, **_kwargs) -> None:
        # The serialized request is all before-call gets; the fake wants the parameters the handler passed.
        context["simulated_params"] = copy.deepcopy(params)

    def _answer(self, model, params, request_signer, context, **_kwargs):
        service = model.service_model.service_name
        emitter = request_signer._event_emitter
        config = context["client_config"]
        call = Call(
            service=service,
            operation=model.name,
            params=context["simulated_params"],
            region=context["client_region"],
            account=self.world.account_of_caller(),
            caller=self.world.current_function(),
        )
        attempts = 0
        while True:
            attempts += 1
            call.attempt = attempts
            response, caught = self._attempt(call, model, config)
            delay = first_non_none_response(
                emitter.emit(
                    f"needs-retry.{model.service_model.service_id.hyphenize()}.{model.name}",
                    response=response,
                    endpoint=None,
                    operation=model,
                    attempts=attempts,
                    caught_exception=caught,
                    request_dict=params,
                )
            )
            if delay is None:
                break
            self.world.clock.sleep(delay)
        if caught is not None:
            raise caught
        return response

    def _attempt(self, call: Call, model, config):
        world = self.world
        fake = world.services.get(call.service)
        if fake is None:
            raise AssertionError(f"A handler called {call.service}, which the simulator has no fake for")
        url = f"https://{call.service}.{call.region}.amazonaws.com"
        world.calls.append(call)
        world.clock.run_due_services()
        denial = world.iam.check(call, fake.authorization(call))
        if denial is not None:
            world.denials.append(denial)
            code = "AccessDenied" if call.service == "s3" else "AccessDeniedException"
            return self._error(FakeError(code, denial), url), None
        fault = world.faults.take(call)
        if fault == "unreachable":
            world.clock.advance(config.connect_timeout)
            return None, ConnectTimeoutError(endpoint_url=url)
        if isinstance(fault, FakeError):
            return self._error(fault, url), None
        try:
            result = fake.handler_for(call.operation)(call)
        except FakeError as error:
            return self._error(error, url), None
        self._check_output(call, model, result)
        if fault == "lose-response":
            # Bedrock did the work; the answer never reached the client.
            world.clock.advance(config.read_timeout)
            return None, ReadTimeoutError(endpoint_url=url)
        result = dict(result)
        result["ResponseMetadata"] = {"HTTPStatusCode": 200, "RetryAttempts": 0}
        return (AWSResponse(url, 200, {}, None), result), None

    def _check_output(self, call: Call, model, result: dict[str, Any]) -> None:
        if model.output_shape is None:
            return
        report = self._validator.validate(
            {k: v for k, v in result.items() if k != "Body"}, _without_streaming(model.output_shape)
        )
        if report.has_errors():
            raise AssertionError(
                f"The fake {call.service} answered {call.operation} outside its model: {report.generate_report()}"
            )

    @staticmethod
    def _error(error: FakeError, url: str):
        parsed = {
            "Error": {"Code": error.code, "Message": error.message},
            "ResponseMetadata": {"HTTPStatusCode": error.status},
        }
        return AWSResponse(url, error.status, {}, None), parsed


class _ShapeWithoutStreaming:
    """The output shape minus its streaming payload member (a file-like Body that the validator cannot read)."""

    def __init__(self, shape) -> None:
        self._shape = shape
        self.members = {k: v for k, v in shape.members.items() if not v.serialization.get("eventstream")}
        payload = shape.serialization.get("payload")
        if payload and shape.members[payload].type_name == "blob":
            self.members.pop(payload, None)
        self.required_members = [m for m in shape.required_members if m in self.members]

    def __getattr__(self, name):
        return getattr(self._shape, name)


def _without_streaming(shape):
    return _ShapeWithoutStreaming(shape) if shape.type_name == "structure" else shape
