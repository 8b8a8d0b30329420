"""stepline.urls.mask_url: what the sql and fsspec backends show of a URL."""

import pytest
from stepline.urls import mask_url


@pytest.mark.parametrize("url, shown", [
    ("postgresql+psycopg://app:hunter2@db.example:5432/runs?sslpassword=x9",
     "postgresql+psycopg://app:***@db.example:5432/runs?sslpassword=***"),
    ("ftp://user:pw@host/root", "ftp://user:***@host/root"),
    ("s3://bucket/runs?sas_token=abc&region=eu", "s3://bucket/runs?sas_token=***&region=eu"),
    ("sqlite:///.stepline/runs.db", "sqlite:///.stepline/runs.db"),
    ("http://127.0.0.1:1", "http://127.0.0.1:1"),
    (".stepline/runs", ".stepline/runs"),
    ("postgresql://app:pw@host:notaport/db", "<unparseable url>"),
])
def test_passwords_and_secret_query_values_are_masked(url, shown):
    assert mask_url(url) == shown
