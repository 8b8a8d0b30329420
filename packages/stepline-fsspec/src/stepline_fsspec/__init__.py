"""Stepline catalog and chunked run log on any fsspec URL (s3://, gs://, memory://, file://)."""
