"""The built-in run log stores against the run log contract kit."""

from __future__ import annotations

import pytest
from stepline.runlog.buffered import BufferedRunLogStore
from stepline.runlog.chunked_fs import ChunkedFileSystemRunLogStore
from stepline.runlog.file_system import FileSystemRunLogStore
from stepline.testing.runlog import RunLogStoreContract


class TestBuffered(RunLogStoreContract):
    @pytest.fixture
    def store(self):
        return BufferedRunLogStore.from_config({})


class TestFileSystem(RunLogStoreContract):
    @pytest.fixture
    def store(self, tmp_path):
        return FileSystemRunLogStore.from_config({"log_folder": str(tmp_path / "runs")})


class TestChunkedFileSystem(RunLogStoreContract):
    @pytest.fixture
    def store(self, tmp_path):
        return ChunkedFileSystemRunLogStore.from_config({"log_folder": str(tmp_path / "runs")})
