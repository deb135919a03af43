#!/usr/bin/env python3
"""CDK entry point: reads the stages from cdk.json context and synthesizes one Stage per environment."""

import sys

from aws_cdk import App

from distill.app import build_app
from distill.config_reader import ConfigError

app = App()
try:
    build_app(app)
except ConfigError as error:
    sys.exit(str(error))
app.synth()
