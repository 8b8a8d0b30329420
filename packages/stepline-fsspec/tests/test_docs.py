"""The docs page and the README show every setting and both config blocks."""

from pathlib import Path

from stepline_fsspec.catalog import FsspecCatalog
from stepline_fsspec.runlog import ChunkedFsspecRunLogStore

ROOT = Path(__file__).resolve().parents[3]


def test_every_setting_is_in_the_docs_table():
    page = (ROOT / "docs" / "backends" / "fsspec.md").read_text()
    for cls in (FsspecCatalog, ChunkedFsspecRunLogStore):
        for field in cls.Settings.model_fields:
            assert f"| `{field}` |" in page, field
    assert "type: chunked-fsspec" in page and "type: fsspec" in page


def test_readme_shows_both_config_blocks():
    readme = (ROOT / "packages" / "stepline-fsspec" / "README.md").read_text()
    assert "type: chunked-fsspec" in readme and "type: fsspec" in readme
