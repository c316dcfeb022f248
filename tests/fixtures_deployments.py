"""Shared pytest fixtures for this area (registered in tests/conftest.py)."""
