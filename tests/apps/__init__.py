"""Test apps shared by several test modules (unit, browser and audit tests)."""
