"""Root pytest configuration for igniter_nb.

Intentionally minimal: fixtures live next to the tests that use them, in each
subfolder's own conftest.py (e.g. tests/stores/conftest.py starts its own Redis and
PostgreSQL servers on temporary ports and directories).
"""
