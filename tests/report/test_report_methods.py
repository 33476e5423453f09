"""The report names no method: labels, colours, order and the reference method come from the
classes in the registry, with a fallback for a method that is not installed; params missing
per group (the redesigned benchmark JSON) are handled."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

import bnncompare
from bnncompare.report import build_report
from bnncompare.report.method_meta import (
    method_order,
    method_styles,
    reference_method,
)

PLUGIN = "zz_plugin"  # conftest.contract_doc: a method that is not installed
REPORT_DIR = Path(bnncompare.__file__).parent / "report"
TAB10 = [matplotlib.colors.to_hex(c) for c in matplotlib.colormaps["tab10"].colors]


def test_no_report_module_names_a_method():
    """grep: no registered name or label appears as a word in bnncompare/report/."""
    words = {w for name, cls in bnncompare.METHODS.items() for w in (name, cls.method_label())}
    hits = []
    for path in sorted(REPORT_DIR.glob("*.py")):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            hits += [f"{path.name}:{i}: {w}" for w in words
                     if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", line, re.I)]
    assert hits == []


def test_order_is_registry_then_alphabetical():
    registered = list(bnncompare.METHODS)
    names = ["zeta", *reversed(registered), "alpha", registered[0], None, float("nan")]
    assert method_order(names) == [*registered, "alpha", "zeta"]


def test_styles_come_from_the_class_with_a_palette_fallback():
    registered = list(bnncompare.METHODS)
    styles = method_styles([*registered, "beta", "alpha"])
    for name, cls in bnncompare.METHODS.items():
        assert styles[name].label == cls.method_label()
        assert styles[name].point_estimate is cls.point_estimate
        if cls.color:
            assert styles[name].color == cls.color
    class_colors = {cls.color for cls in bnncompare.METHODS.values() if cls.color}
    free = [c for c in TAB10 if c not in class_colors]
    assert (styles["alpha"].label, styles["alpha"].color) == ("alpha", free[0])
    assert (styles["beta"].label, styles["beta"].color) == ("beta", free[1])
    assert not styles["alpha"].point_estimate
    colors = [s.color for s in styles.values()]
    assert len(set(colors)) == len(colors)


def test_reference_is_the_first_registered_point_estimate_present():
    points = [n for n, cls in bnncompare.METHODS.items() if cls.point_estimate]
    others = [n for n, cls in bnncompare.METHODS.items() if not cls.point_estimate]
    assert points, "the registry has a point estimate"
    assert reference_method([*others, "alpha", *reversed(points)]) == points[0]
    assert reference_method([*others, "alpha"]) is None


@pytest.fixture(scope="module")
def contract_report(tmp_path_factory, contract_doc, write_input):
    root = tmp_path_factory.mktemp("contract")
    path = write_input(root / "contract.json", contract_doc)
    return build_report([path], root / "out", n_boot=30), root / "out"


def test_params_missing_per_group_still_report(contract_report):
    result, out = contract_report
    frame = result["frame"]
    fits = frame[(frame["phase"] == "fit") & (frame["axis"] == "n_train")]
    assert fits["num_samples"].isna().all() and fits["n_test"].isna().all()
    exps = result["exponents"].set_index(["phase", "method", "axis"])
    points = [n for n, cls in bnncompare.METHODS.items() if cls.point_estimate]
    # nothing else held fixed in a fit-vs-n cell now; the draws sweep holds only n_train
    assert exps.loc[("fit", points[0], "n_train"), "fixed"] == ""
    draws = [n for n, cls in bnncompare.METHODS.items() if cls.fit_draws_param]
    assert exps.loc[("fit", draws[0], "num_samples"), "fixed"] == "n_train=300"
    assert len(exps) == 10
    assert {p.name for p in result["figures"]} >= {"fit_vs_n_train.png",
                                                    "fit_vs_num_samples.png",
                                                    "quality_vs_compute.png"}
    quality = (out / "tables" / "quality.md").read_text(encoding="utf-8")
    assert "0.431" in quality      # predict ms/example still found without shared sizes


def test_an_uninstalled_method_appears_under_its_name(contract_report):
    result, out = contract_report
    readme = (out / "README.md").read_text(encoding="utf-8")
    line = next(li for li in readme.splitlines() if li.startswith(f"- {PLUGIN} fit time"))
    assert f"{PLUGIN} fit time grows as n^" in line
    assert line.endswith(" — synthetic.")               # nothing else held fixed
    ref = bnncompare.METHODS[reference_method(bnncompare.METHODS)].method_label()
    cost = next(li for li in readme.splitlines() if li.startswith("- Fitting on iris"))
    assert f"{PLUGIN} " in cost and f"× {ref})" in cost
    labels = ", ".join(cls.method_label() + (" (point estimate)" if cls.point_estimate else "")
                       for name, cls in bnncompare.METHODS.items()
                       if name in set(result["frame"]["method"]))
    assert f"fitted by each method in these runs: {labels}, {PLUGIN}." in readme
    rows = [li for li in (out / "tables" / "quality.md").read_text().splitlines()
            if "| iris" in li]
    assert rows[-1].startswith(f"| {PLUGIN} ")          # after every registered method
