"""``python -m kpidsl``: the command line."""

from kpidsl.cli import run

run()
