"""Execution, resolution, invalidation, planning, runners, deferred results."""
