"""chunked-fsspec against the run log contract kit on memory://, file:// and moto S3."""

from __future__ import annotations

import pytest
from stepline.testing.runlog import RunLogStoreContract
from stepline_fsspec.runlog import ChunkedFsspecRunLogStore


class TestOnMemory(RunLogStoreContract):
    @pytest.fixture
    def store(self, memory_root):
        return ChunkedFsspecRunLogStore.from_config({"location": memory_root})


class TestOnLocalFiles(RunLogStoreContract):
    @pytest.fixture
    def store(self, tmp_path):
        return ChunkedFsspecRunLogStore.from_config({"location": f"file://{tmp_path}/runs"})


class TestOnS3(RunLogStoreContract):
    @pytest.fixture
    def store(self, s3_bucket):
        return ChunkedFsspecRunLogStore.from_config({"location": f"s3://{s3_bucket}/runs"})
