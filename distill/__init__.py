"""Amazon Bedrock Model Distillation as a CDK app: configuration, constructs, stacks and the `distill` command."""
