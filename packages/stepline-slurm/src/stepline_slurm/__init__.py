"""Stepline batch executors: every leaf step is a Slurm, PBS or PJM job (see ``executor``)."""
