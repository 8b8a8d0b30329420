"""Contract test suites that any backend package runs against its own class, for every kind.

Installed with ``pip install "stepline[testing]"``. Each kit is a class of pytest tests; subclass
it in your tests and provide the fixture it names. Each kit's docstring states the contract it
checks.

- :class:`stepline.testing.runlog.RunLogStoreContract` — fixture ``store``
- :class:`stepline.testing.catalog.CatalogContract` — fixture ``catalog``
- :class:`stepline.testing.secrets.SecretsContract` — fixture ``make_secrets``
- :class:`stepline.testing.tracker.ExperimentTrackerContract` — fixtures ``tracker`` and ``recorded``
- :class:`stepline.testing.executor.ExecutorContract` — fixture ``executor_config``
- :class:`stepline.testing.renderer.RendererContract` — fixture ``executor_config``
- :class:`stepline.testing.integration.IntegrationCheckContract` — fixtures ``plugin`` and ``services``

and helpers: :mod:`stepline.testing.standard` writes the standard pipelines the executor and
renderer kits run; :mod:`stepline.testing.cli` runs the ``stepline`` command in a copy of an
example, for a backend's end-to-end test against its real server;
:func:`stepline.testing.integration.executor_running_steps_in` gives an executor for each place
steps run in, to test a backend's integration check; :mod:`stepline.testing.fuzz` mutates pipeline,
job, config and parameter files and checks every one loads or is a short error naming its file
(``python -m stepline.testing.fuzz --count 10000``).

The kit modules import pytest; importing this package does not.
"""

import sys

if "pytest" in sys.modules:  # under pytest: show the compared values when a kit's assert fails
    sys.modules["pytest"].register_assert_rewrite(
        *(f"stepline.testing.{kit}" for kit in ("runlog", "catalog", "secrets", "tracker", "executor",
                                                 "renderer", "integration")))
