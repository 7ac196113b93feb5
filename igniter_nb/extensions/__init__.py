"""Auditing timeline and reactive engine."""
