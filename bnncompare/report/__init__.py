"""Benchmark JSON -> tidy DataFrame -> tables, complexity exponents, figures and README.

>>> from bnncompare.report import build_report
>>> build_report(["results/raw/fast.json"], "results")       # doctest: +SKIP

The input schema is ``docs/benchmark-json.md``; unusable input raises
:class:`ReportInputError` (a ``ValueError``) naming the file, before anything is written.
"""

from __future__ import annotations

from bnncompare.report.build import build_report
from bnncompare.report.complexity import PowerLawFit, exponent_table, fit_power_law
from bnncompare.report.load import ReportInputError, load_runs

__all__ = [
    "PowerLawFit",
    "ReportInputError",
    "build_report",
    "exponent_table",
    "fit_power_law",
    "load_runs",
]
