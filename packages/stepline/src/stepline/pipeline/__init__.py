"""Pipelines: node models, the graph and its validation, the YAML loader."""
