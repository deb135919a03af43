"""A deploy simulator: synthesized stages driven through CloudFormation's and the CDK Provider framework's
documented sequences, against a stateful fake of the AWS services the handlers call."""
