"""Data sets and where they come from: :class:`~kpidsl.data.dataset.Dataset` (the records and
the checks that hold them to :mod:`kpidsl.contract`), the loaders of CSV folders
(``csvfiles``), datasheet workbooks (``datasheet``) and ILR returns (``ilr``, merged with a
datasheet by ``sources``), the choice among them (``load``), and synthetic data
(``generate``)."""
