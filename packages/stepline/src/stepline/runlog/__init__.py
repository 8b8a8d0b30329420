"""Run logs: the record of a run, and the stores that keep it."""
