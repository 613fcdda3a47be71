"""The Sphinx extension under its first name: ``kpidsl.sphinxext`` in ``extensions`` is
:mod:`kpidsl.sphinx`, kept so that existing ``conf.py`` files go on working."""

from kpidsl.sphinx import setup as setup
