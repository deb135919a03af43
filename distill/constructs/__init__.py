"""The CDK construct library for Bedrock Model Distillation: one concern per construct; the app's stacks
compose them."""
