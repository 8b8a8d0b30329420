"""Stepline experiment tracker for mlflow."""
