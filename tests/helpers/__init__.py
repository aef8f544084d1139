"""Helpers that test modules import (fixtures stay in tests/conftest.py)."""
