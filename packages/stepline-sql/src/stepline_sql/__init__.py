"""Stepline run log store on SQLAlchemy (SQLite, PostgreSQL)."""
