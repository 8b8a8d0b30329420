"""The configuration file: which executor and services a run uses."""
