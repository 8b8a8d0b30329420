"""The fsspec catalog against the catalog contract kit on memory://, file:// and moto S3."""

from __future__ import annotations

import pytest
from stepline.testing.catalog import CatalogContract
from stepline_fsspec.catalog import FsspecCatalog


class TestOnMemory(CatalogContract):
    @pytest.fixture
    def catalog(self, memory_root, tmp_path):
        return FsspecCatalog.from_config({"location": memory_root, "compute_data_folder": str(tmp_path / "work")})


class TestOnLocalFiles(CatalogContract):
    @pytest.fixture
    def catalog(self, tmp_path):
        return FsspecCatalog.from_config({"location": f"file://{tmp_path}/catalog",
                                          "compute_data_folder": str(tmp_path / "work")})


class TestOnS3(CatalogContract):
    @pytest.fixture
    def catalog(self, s3_bucket, tmp_path):
        return FsspecCatalog.from_config({"location": f"s3://{s3_bucket}/catalog",
                                          "compute_data_folder": str(tmp_path / "work")})
