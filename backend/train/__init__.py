"""Training: a model-agnostic engine (checkpoints, resume, AMP, metrics) and tasks."""
