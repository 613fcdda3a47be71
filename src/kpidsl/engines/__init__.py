"""Engines: run a checked rule set's plan on data."""
