"""Stepline local-container executor (podman CLI or Docker API)."""
