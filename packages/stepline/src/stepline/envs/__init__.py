"""Per-step Python environments: a task step with ``uv:`` (or a python task whose module carries PEP 723
inline script metadata) runs its attempts in an environment uv resolves and caches, one per spec per
machine. See ``docs/environments.md``.

- :mod:`stepline.pipeline.uv_spec`: the ``uv:`` model and the effective spec of a step (pure).
- :mod:`stepline.envs.uv`: building and finding environments with uv (I/O).
- :mod:`stepline.envs.task`: the task type that runs one attempt in an environment's interpreter.
- :mod:`stepline.envs.child`: what that interpreter runs.
"""
