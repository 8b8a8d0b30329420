"""Catalogs: where files that steps put and get live between steps and runs."""
