#!/usr/bin/env python3
"""CDK entry point: reads the stages from cdk.json context and synthesizes one Stage per environment."""

import sys

from aws_cdk import App

from distill.app import build_app
from distill.config.reader import ConfigError

# aws-cdk-lib's built-in CloudFormation validator (WebAssembly) costs about a second per synth; `make test` runs
# it on every stage in the test session, and cfn-lint over every template in cdk.out, so synth itself skips it.
app = App(builtin_cloud_formation_validation=False)
try:
    build_app(app)
except ConfigError as error:
    sys.exit(str(error))
app.synth()
