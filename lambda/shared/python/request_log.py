"""The ids of the request a handler serves, on every log line it writes while it serves it.

The functions log in Lambda's JSON format (LoggingConfig LogFormat JSON, distill/constructs/handler_function.py):
the Python runtime writes each ``logging`` record as one JSON object and adds the record's other attributes, such as
those ``extra`` gives, as keys of it (Lambda developer guide, python-logging.html, "Using Lambda advanced logging
controls with Python", https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html#python-logging-advanced,
read 2026-12-02). So each entry point is wrapped (``cloudformation_request``, ``eventbridge_event``): while it runs,
a filter on the root logger's handlers (the runtime's among them) sets the request's ids on every record that reaches
them, from the handler, the shared modules or botocore; it is removed when the entry point returns or raises, so a
warm function never logs a request with the previous one's ids. The standard library alone: nothing is added to a
cold start.

The keys are camelCase, as the runtime's own are, and none of them is one of the runtime's: its formatter
(aws-lambda-python-runtime-interface-client, awslambdaric/lambda_runtime_log_utils.py JsonFormatter, read
2026-12-02) writes ``timestamp``, ``level``, ``message``, ``logger``, ``requestId``, ``stackTrace``, ``errorType``,
``errorMessage``, ``location`` and ``tenantId`` itself and skips a record attribute of the same name. Its
``requestId`` is Lambda's id of the invocation (the one its START, END and REPORT lines carry), so CloudFormation's
RequestId, which the Provider framework's onEvent and isComplete invocations of one request share, is
``cfnRequestId``. A key whose value is missing or empty is left out, as the runtime leaves out its own.

Handlers set no log level of their own: before it imports a handler, the runtime sets the root logger to the
function's application log level (awslambdaric/bootstrap.py _setup_logging, from AWS_LAMBDA_LOG_LEVEL), which is
INFO unless the function sets another (Lambda developer guide, monitoring-cloudwatchlogs-log-level.html,
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html, read 2026-12-02: "The
default application log level for log filtering is INFO"); a level set at import would override the function's.
"""

import functools
import logging


class _RequestIds(logging.Filter):
    """Sets the request's ids on every record that reaches a handler it is added to, and lets the record through."""

    def __init__(self, ids):
        super().__init__()
        self.ids = {key: value for key, value in ids.items() if value}

    def filter(self, record):
        record.__dict__.update(self.ids)
        return True


def _serve(ids, entry, event, context):
    """``entry(event, context)`` with ``ids`` on every record the root logger's handlers see meanwhile."""
    bound = _RequestIds(ids)
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(bound)
    try:
        return entry(event, context)
    finally:
        for handler in handlers:
            handler.removeFilter(bound)


def cloudformation_ids(event):
    """The log keys of a CloudFormation custom resource request (as the Provider framework passes it to onEvent, and
    to isComplete with onEvent's PhysicalResourceId): ``requestType``, ``logicalResourceId``, ``cfnRequestId``,
    ``stackId``, and ``physicalResourceId`` when the request has one (a Create's onEvent has none yet)."""
    return {
        "requestType": event.get("RequestType"),
        "logicalResourceId": event.get("LogicalResourceId"),
        "cfnRequestId": event.get("RequestId"),
        "stackId": event.get("StackId"),
        "physicalResourceId": event.get("PhysicalResourceId"),
    }


def cloudformation_request(entry):
    """A Provider framework entry point (``on_event``, ``is_complete``) whose log lines carry the request's
    ``cloudformation_ids``."""

    @functools.wraps(entry)
    def serve(event, context):
        return _serve(cloudformation_ids(event), entry, event, context)

    return serve


def eventbridge_event(acted_on):
    """A decorator for an EventBridge target's entry point, whose log lines carry the event's id (``eventId``) and the
    ids ``acted_on(event)`` gives as a dict: those of the job or resource the function acts on."""

    def wrap(entry):
        @functools.wraps(entry)
        def serve(event, context):
            return _serve({"eventId": event.get("id"), **acted_on(event)}, entry, event, context)

        return serve

    return wrap
