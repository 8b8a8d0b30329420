"""The catalog contract, as a pytest suite a backend subclasses.

Usage, in a backend's tests::

    from stepline.testing.catalog import CatalogContract

    class TestMyCatalog(CatalogContract):
        @pytest.fixture
        def catalog(self, tmp_path):
            return MyCatalog.from_config({"location": ..., "compute_data_folder": str(tmp_path / "work")})

The fixture must return a catalog with an empty store and whose ``compute_data_folder`` is a fresh
folder the test may write to (the kit creates it if needed).

The contract: put and get round-trip files byte for byte (binary and empty ones too) and record each
with its sha256; glob patterns (``*``, ``**``) match files and folders named by a plain path match everything under them;
a put leaves out what it is told to (``exclude``) and, with ``missing_ok``, skips what matches nothing; putting again
replaces the stored file; ``store_copy: false`` records only the hash; a pattern matching nothing is a
CatalogError naming it (and the run); a pattern escaping the data folder is refused; bytes can be put
and got by name; runs do not share files; a run's files can be copied to another run;
``describe()`` is JSON.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from stepline.catalog.base import Catalog, CatalogError


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class CatalogContract:
    """Behaviour every catalog must have. Override the ``catalog`` fixture."""

    @pytest.fixture
    def catalog(self, tmp_path) -> Catalog:
        raise NotImplementedError("a CatalogContract subclass must provide the 'catalog' fixture")

    # ---- helpers --------------------------------------------------------------------------------
    @staticmethod
    def write(catalog: Catalog, rel: str, data: bytes) -> Path:
        path = catalog.compute_data_folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    @staticmethod
    def wipe(catalog: Catalog) -> None:
        """Empty the data folder, as a fresh step environment would be."""
        folder = catalog.compute_data_folder
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    # ---- put / get ------------------------------------------------------------------------------
    def test_put_then_get_round_trip_with_sha256(self, catalog):
        self.write(catalog, "data/table.csv", b"a,b\n1,2\n")
        put = catalog.put("run-1", ["data/table.csv"])
        assert [(i.name, i.stage, i.stored, i.data_hash) for i in put] == [
            ("data/table.csv", "put", True, sha256(b"a,b\n1,2\n"))]
        assert put[0].catalog_relative_path == "run-1/data/table.csv"
        assert isinstance(put[0].catalog_handler_location, str)
        self.wipe(catalog)
        got = catalog.get("run-1", ["data/table.csv"])
        assert [(i.name, i.stage, i.data_hash) for i in got] == [("data/table.csv", "get", sha256(b"a,b\n1,2\n"))]
        assert (catalog.compute_data_folder / "data/table.csv").read_bytes() == b"a,b\n1,2\n"

    def test_binary_and_empty_files_survive(self, catalog):
        blob = bytes(range(256)) * 1000
        self.write(catalog, "blob.bin", blob)
        self.write(catalog, "empty.txt", b"")
        catalog.put("run-1", ["blob.bin", "empty.txt"])
        self.wipe(catalog)
        catalog.get("run-1", ["blob.bin", "empty.txt"])
        assert (catalog.compute_data_folder / "blob.bin").read_bytes() == blob
        assert (catalog.compute_data_folder / "empty.txt").read_bytes() == b""

    def test_glob_pattern_matches_only_what_it_says(self, catalog):
        self.write(catalog, "data/a.csv", b"a")
        self.write(catalog, "data/b.csv", b"b")
        self.write(catalog, "data/notes.txt", b"n")
        put = catalog.put("run-1", ["data/*.csv"])
        assert sorted(i.name for i in put) == ["data/a.csv", "data/b.csv"]
        self.wipe(catalog)
        got = catalog.get("run-1", ["data/*.csv"])
        assert sorted(i.name for i in got) == ["data/a.csv", "data/b.csv"]
        assert not (catalog.compute_data_folder / "data/notes.txt").exists()
        with pytest.raises(CatalogError, match="notes.txt"):
            catalog.get("run-1", ["data/notes.txt"])

    def test_recursive_glob(self, catalog):
        self.write(catalog, "out/x/1.json", b"1")
        self.write(catalog, "out/y/z/2.json", b"2")
        self.write(catalog, "out/y/z/skip.txt", b"s")
        put = catalog.put("run-1", ["out/**/*.json"])
        assert sorted(i.name for i in put) == ["out/x/1.json", "out/y/z/2.json"]
        self.wipe(catalog)
        got = catalog.get("run-1", ["out/**/*.json"])
        assert sorted(i.name for i in got) == ["out/x/1.json", "out/y/z/2.json"]
        assert (catalog.compute_data_folder / "out/y/z/2.json").read_bytes() == b"2"

    def test_a_folder_is_put_and_got_with_everything_under_it(self, catalog):
        self.write(catalog, "model/weights.bin", b"w")
        self.write(catalog, "model/meta/info.json", b"{}")
        put = catalog.put("run-1", ["model"])
        assert sorted(i.name for i in put) == ["model/meta/info.json", "model/weights.bin"]
        self.wipe(catalog)
        got = catalog.get("run-1", ["model"])
        assert sorted(i.name for i in got) == ["model/meta/info.json", "model/weights.bin"]
        assert (catalog.compute_data_folder / "model/meta/info.json").read_bytes() == b"{}"

    def test_a_wildcard_put_takes_files_and_skips_the_folders_it_matches(self, catalog):
        self.write(catalog, "top.txt", b"t")
        self.write(catalog, "tree/inner.txt", b"i")
        put = catalog.put("run-1", ["*", "top.txt"])
        assert [i.name for i in put] == ["top.txt"]  # not tree/inner.txt; matched twice, put once
        assert [i.name for i in catalog.put("run-1", ["tree/**"])] == ["tree/inner.txt"]

    def test_a_put_leaves_out_what_it_is_told_and_may_skip_what_is_missing(self, catalog):
        self.write(catalog, "keep.txt", b"k")
        self.write(catalog, "state/own.json", b"{}")
        put = catalog.put("run-1", ["*", "state/*"], exclude=[catalog.compute_data_folder / "state"],
                          missing_ok=True)
        assert [i.name for i in put] == ["keep.txt"]
        assert catalog.put("run-1", ["never.txt"], missing_ok=True) == []

    def test_put_again_replaces_the_stored_file(self, catalog):
        self.write(catalog, "f.txt", b"old")
        catalog.put("run-1", ["f.txt"])
        self.write(catalog, "f.txt", b"new")
        catalog.put("run-1", ["f.txt"])
        self.wipe(catalog)
        assert catalog.get("run-1", ["f.txt"])[0].data_hash == sha256(b"new")
        assert (catalog.compute_data_folder / "f.txt").read_bytes() == b"new"

    # ---- errors ---------------------------------------------------------------------------------
    def test_put_matching_nothing_fails_naming_the_pattern(self, catalog):
        catalog.compute_data_folder.mkdir(parents=True, exist_ok=True)
        with pytest.raises(CatalogError, match=r"data/\*\.parquet"):
            catalog.put("run-1", ["data/*.parquet"])

    def test_get_matching_nothing_fails_naming_the_pattern_and_run(self, catalog):
        with pytest.raises(CatalogError, match=r"missing\.csv.*run-1"):
            catalog.get("run-1", ["missing.csv"])

    @pytest.mark.parametrize("pattern", ["../secret.txt", "data/../../x", "/etc/passwd"])
    def test_patterns_escaping_the_data_folder_are_rejected(self, catalog, pattern):
        self.write(catalog, "data/ok.txt", b"ok")
        with pytest.raises(CatalogError, match="escapes"):
            catalog.put("run-1", [pattern])
        with pytest.raises(CatalogError, match="escapes"):
            catalog.get("run-1", [pattern])

    # ---- no copy, bytes, runs -------------------------------------------------------------------
    def test_store_copy_false_records_the_hash_only(self, catalog):
        self.write(catalog, "huge.bin", b"big data")
        put = catalog.put("run-1", ["huge.bin"], store_copy=False)
        assert [(i.name, i.stored, i.data_hash) for i in put] == [("huge.bin", False, sha256(b"big data"))]
        self.wipe(catalog)
        with pytest.raises(CatalogError, match="huge.bin"):
            catalog.get("run-1", ["huge.bin"])

    def test_put_bytes_then_get_bytes(self, catalog):
        path = catalog.put_bytes("run-1", "objects/model.pkl", b"\x80\x04pickle")
        assert path == "run-1/objects/model.pkl"
        assert catalog.get_bytes(path) == b"\x80\x04pickle"
        catalog.put_bytes("run-1", "objects/model.pkl", b"v2")
        assert catalog.get_bytes(path) == b"v2"

    def test_get_bytes_of_something_absent_is_a_catalog_error(self, catalog):
        with pytest.raises(CatalogError, match="run-1/nothing.pkl"):
            catalog.get_bytes("run-1/nothing.pkl")

    def test_runs_do_not_share_files(self, catalog):
        self.write(catalog, "f.txt", b"a")
        catalog.put("run-a", ["f.txt"])
        with pytest.raises(CatalogError, match="run-b"):
            catalog.get("run-b", ["f.txt"])

    def test_copy_run_copies_files_and_bytes(self, catalog):
        self.write(catalog, "data/a.csv", b"a")
        self.write(catalog, "deep/er/b.txt", b"b")
        catalog.put("run-a", ["data/a.csv", "deep"])
        catalog.put_bytes("run-a", "obj.pkl", b"o")
        catalog.copy_run("run-a", "run-b")
        self.wipe(catalog)
        got = catalog.get("run-b", ["data/a.csv", "deep"])
        assert sorted(i.name for i in got) == ["data/a.csv", "deep/er/b.txt"]
        assert got[0].catalog_relative_path.startswith("run-b/")
        assert catalog.get_bytes("run-b/obj.pkl") == b"o"
        assert (catalog.compute_data_folder / "deep/er/b.txt").read_bytes() == b"b"
        # the source run is unchanged
        assert catalog.get_bytes("run-a/obj.pkl") == b"o"

    def test_copy_run_of_a_run_without_files_does_nothing(self, catalog):
        catalog.copy_run("never-stored", "run-b")
        with pytest.raises(CatalogError):
            catalog.get("run-b", ["*"])

    def test_describe_is_json(self, catalog):
        described = catalog.describe()
        assert described["type"] == catalog.name
        json.dumps(described)
