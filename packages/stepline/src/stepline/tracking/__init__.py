"""Experiment trackers: where metrics go besides the run log."""
