"""Contract test suites that any backend package runs against its own class.

Each kit is a class of pytest tests; subclass it in your tests and provide the fixture it names:

- :class:`stepline.testing.runlog.RunLogStoreContract` — fixture ``store``
- :class:`stepline.testing.catalog.CatalogContract` — fixture ``catalog``
- :class:`stepline.testing.secrets.SecretsContract` — see that module

The kit modules import pytest; this package does not, so ``import stepline`` never needs it.
"""
