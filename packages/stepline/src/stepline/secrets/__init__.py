"""Secrets backends: where a task's secrets come from."""
