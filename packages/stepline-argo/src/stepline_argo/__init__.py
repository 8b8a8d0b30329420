"""Stepline's ``argo`` executor: renders a pipeline as an Argo Workflows ``Workflow`` or ``CronWorkflow``."""
