"""The version of kpidsl, in one place (the package, the CLI, the docs and every report)."""

__version__ = "0.1.0"
