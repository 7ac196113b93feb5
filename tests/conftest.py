"""Root pytest configuration for igniter_nb.

Intentionally minimal: fixtures live next to the tests that use them, in each
subfolder's own conftest.py (e.g. tests/stores/conftest.py starts its own Redis and
PostgreSQL servers on temporary ports and directories).
"""

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # (a light venv without it runs no property test)
    pass
else:
    # The property tests do not depend on the machine they run on: no example database (a `.hypothesis/` folder
    # left by an earlier run replayed its examples first) and no health check timing the data generation (on a
    # loaded machine generating the first examples took longer than its limit: FailedHealthCheck, not a defect).
    # Each test's own @settings changes only what it names.
    settings.register_profile("igniter_nb", database=None, suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile("igniter_nb")
