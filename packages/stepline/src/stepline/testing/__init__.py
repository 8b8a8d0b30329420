"""Contract test suites that any backend package runs against its own class.

Each kit is a class of pytest tests; subclass it in your tests and provide the fixture it names:

- :class:`stepline.testing.runlog.RunLogStoreContract` — fixture ``store``
- :class:`stepline.testing.catalog.CatalogContract` — fixture ``catalog``
- :class:`stepline.testing.secrets.SecretsContract` — see that module

and two helpers: :mod:`stepline.testing.cli` runs the ``stepline`` command in a copy of an example,
for a backend's end-to-end test against its real server; :mod:`stepline.testing.integration` gives
an executor for each place steps run in, to test a backend's integration check.

The kit modules import pytest; this package does not, so ``import stepline`` never needs it.
"""
