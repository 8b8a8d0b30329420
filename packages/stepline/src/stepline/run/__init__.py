"""A run's life, in one place: every way a pipeline runs (CLI, SDK, an engine's callbacks) calls it.

- :mod:`stepline.run.prepare`: load the graph and the configuration, check integrations, steps
  and tasks before anything runs.
- :mod:`stepline.run.lifecycle`: start a run (its run log, with the initial parameters), traverse
  it with its executor or render it for an engine, execute one node of it, finish it.
- :mod:`stepline.run.rerun`: a new run that continues a failed one (``stepline retry``).
- :mod:`stepline.run.run_context`: :class:`~stepline.run.run_context.RunContext`, what a run
  (or one step of it) needs; :mod:`stepline.run.services`: the executor and services of a run.

The layers below (executors, the step context, the services) never import this package.
"""
