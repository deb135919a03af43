"""The app's configuration: the stages in cdk.json parsed once into frozen dataclasses, every problem reported
together (``stages``), with the model catalog, the distillation and serving settings and promotion."""
