"""Task types: how the work of a task step is run (python function, shell command)."""
