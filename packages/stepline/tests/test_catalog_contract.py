"""The built-in catalogs against the catalog contract kit."""

from __future__ import annotations

import pytest
from stepline.catalog.file_system import FileSystemCatalog
from stepline.testing.catalog import CatalogContract


class TestFileSystemCatalog(CatalogContract):
    @pytest.fixture
    def catalog(self, tmp_path):
        return FileSystemCatalog.from_config({"catalog_location": str(tmp_path / "catalog"),
                                              "compute_data_folder": str(tmp_path / "work")})
