"""Every Lambda function of every stage logs in the runtime's JSON format, so each line is a record with the fields
the handlers add (the CloudFormation request's ids: lambda/shared/python/request_log.py)."""

from __future__ import annotations

# The one function aws-cdk-lib adds with no setting to give it (the auto-delete handler of a destroy stage's
# buckets, a CustomResourceProvider): the README's Security section says so.
CDK_OWN = "CustomS3AutoDeleteObjectsCustomResourceProviderHandler"


def test_every_function_of_every_stack_logs_json(templates):
    checked = 0
    for stage, stacks in templates.items():
        for part, template in stacks.items():
            for logical_id, function in template.find_resources("AWS::Lambda::Function").items():
                if logical_id.startswith(CDK_OWN):
                    continue
                config = function["Properties"].get("LoggingConfig", {})
                assert config.get("LogFormat") == "JSON", (stage, part, logical_id)
                checked += 1
    # Handlers, watchers and the Provider framework's functions across the stages: a test that checks none is wrong.
    assert checked > 50
