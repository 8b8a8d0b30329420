"""Stepline secrets from HashiCorp Vault / OpenBao (hvac)."""
