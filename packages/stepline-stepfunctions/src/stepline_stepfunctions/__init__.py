"""Stepline's AWS Step Functions renderer (executor type ``step-functions``). Importing does nothing."""
