"""The fixture renders to known table cells; the Markdown writer is exact and stable."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from bnncompare.report.formatting import format_cell, markdown_table, markdown_view
from bnncompare.report.tables import (
    diagnostics_table,
    peers_table,
    quality_table,
    uncertainty_table,
)


def md_rows(text: str) -> list[dict[str, str]]:
    """Parse a pipe table (skipping any caption) into dicts keyed by header."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    split = [[c.strip() for c in line.strip().strip("|").split(" | ")] for line in lines]
    header, body = split[0], split[2:]
    return [dict(zip(header, row, strict=True)) for row in body]


def find(rows: list[dict[str, str]], **cells: str) -> dict[str, str]:
    hits = [r for r in rows if all(r[k] == v for k, v in cells.items())]
    assert len(hits) == 1, (cells, hits)
    return hits[0]


@pytest.fixture(scope="module")
def tables_dir(built):
    _, project = built
    return project / "results" / "tables"


def read_md(tables_dir, name: str) -> list[dict[str, str]]:
    return md_rows((tables_dir / f"{name}.md").read_text(encoding="utf-8"))


def test_quality_table_cells(tables_dir):
    rows = read_md(tables_dir, "quality")
    assert list(rows[0]) == ["Method", "Dataset", "Accuracy", "NLL", "Brier", "ECE", "Fit s",
                             "Predict ms/example", "Seeds", "#params"]
    assert {r["Seeds"] for r in rows} == {"1"}  # one seed: no interval, so no "±"
    assert [(r["Dataset"], r["Method"]) for r in rows] == [
        ("digits", "nn"), ("digits", "svi"), ("digits", "nuts"),
        ("iris", "nn"), ("iris", "svi"), ("iris", "nuts")]
    nuts = find(rows, Method="nuts", Dataset="iris")
    assert (nuts["Accuracy"], nuts["NLL"], nuts["Brier"], nuts["ECE"]) == (
        "0.967", "0.083", "0.047", "0.028")
    assert nuts["Fit s"] == "17.8"
    assert nuts["Predict ms/example"] == "0.431"
    assert nuts["#params"] == "2233"
    assert find(rows, Method="nn", Dataset="digits")["#params"] == "2410"


def test_quality_csv_keeps_numbers(tables_dir):
    csv = pd.read_csv(tables_dir / "quality.csv")
    row = csv[(csv["method"] == "svi") & (csv["dataset"] == "digits")].iloc[0]
    assert row["accuracy"] == 0.953 and row["nll"] == 0.164
    assert row["machine"].startswith("ci-runner-2c")


def test_quality_prefers_the_fit_entrys_own_predict_time(frame):
    df = frame.copy()
    df["predict_ms_per_example"] = float("nan")
    fit_rows = (df["phase"] == "fit") & (df["axis"] == "none")
    df.loc[fit_rows & (df["dataset"] == "iris") & (df["method"] == "nuts"),
           "predict_ms_per_example"] = 0.5
    table = quality_table(df).set_index(["dataset", "method"])
    assert table.loc[("iris", "nuts"), "ms_per_example"] == 0.5
    assert table.loc[("iris", "svi"), "ms_per_example"] == pytest.approx(0.458, abs=5e-4)
    no_predict = quality_table(df[df["phase"] != "predict"]).set_index(["dataset", "method"])
    assert pd.isna(no_predict.loc[("iris", "svi"), "ms_per_example"])


def test_uncertainty_table_cells(tables_dir):
    rows = read_md(tables_dir, "uncertainty")
    nuts = find(rows, Method="nuts", Dataset="digits")
    assert nuts["OOD AUROC (entropy)"] == "0.960"
    assert nuts["OOD AUROC (MI)"] == "0.970"
    assert (nuts["Mean entropy test"], nuts["Mean entropy OOD"]) == ("0.240", "1.710")
    assert find(rows, Method="nn", Dataset="iris")["OOD AUROC (MI)"] == "0.500"
    assert find(rows, Method="svi", Dataset="iris")["Acc @ 80% coverage"] == "0.954"


def test_peers_table_cells(tables_dir):
    rows = read_md(tables_dir, "peers")
    assert [r["Implementation"] for r in rows if r["Task"] == "predict"] == [
        "bnncompare", "torch-floor", "pyro-predictive"]
    assert find(rows, Implementation="pyro-predictive")["Ratio vs bnncompare"] == "62.3"
    assert find(rows, Implementation="pyro-model-nuts")["Ratio vs bnncompare"] == "5.61"
    numpyro = find(rows, Implementation="numpyro")
    assert (numpyro["Ratio vs bnncompare"], numpyro["Compile s"]) == ("0.594", "11.8")
    assert find(rows, Task="svi_step", Implementation="bnncompare")["Ratio vs bnncompare"] == "1"


def test_diagnostics_flags(tables_dir):
    rows = read_md(tables_dir, "diagnostics")
    assert {r["Method"] for r in rows} == {"nuts"}      # the only method that records them
    assert len(rows) == 11
    assert find(rows, Axis="n_train", n_train="3000")["Flag"] == "R-hat > 1.1"
    assert find(rows, Axis="num_samples", S="50")["Flag"] == "divergences"
    assert sum(r["Flag"] != "-" for r in rows) == 2
    assert find(rows, Dataset="iris")["R-hat max"] == "1.040"


def test_exponents_table_cells(tables_dir):
    rows = read_md(tables_dir, "exponents")
    assert len(rows) == 10
    nuts = find(rows, Phase="fit", Method="nuts", Axis="n_train")
    assert nuts["Theory"] == "1.00" and nuts["Naive slope"] == "0.12"
    # overhead-bound (naive slope 0.12): at the run's noise its interval spans more than 1
    assert nuts["b [95% CI]"] == "inconclusive"
    assert "is wider than 1" in nuts["Inconclusive because"]
    svi = find(rows, Phase="fit", Method="svi", Axis="n_train")
    b, interval = svi["b [95% CI]"].split(" ", 1)
    lo, hi = (float(v) for v in interval.strip("[]").split(", "))
    assert lo <= float(b) <= hi and lo <= 1.0 <= hi
    work = find(rows, Phase="fit", Method="nuts", Axis="num_samples")
    assert work["b work [95% CI]"] == "1.00 [1.00, 1.00]"
    assert find(rows, Phase="predict", Method="nn", Axis="num_samples")["b [95% CI]"].startswith(
        "0.00 [0.00,")


def test_fit_and_predict_tables(tables_dir, frame):
    fit = read_md(tables_dir, "fit")
    assert len(fit) == (frame["phase"] == "fit").sum()
    row = find(fit, Method="nuts", Dataset="synthetic", Axis="num_samples", S="800")
    assert row["Grad evals"] == str(255 * 900)
    predict = read_md(tables_dir, "predict")
    row = find(predict, Method="nn", Dataset="iris")
    assert row["Predict ms/example"] == "0.00372"


def test_tables_are_empty_without_their_data(frame):
    only_fit = frame[frame["phase"] == "fit"]
    assert peers_table(only_fit).empty
    assert not quality_table(only_fit).empty
    no_nuts = frame[frame["method"] != "nuts"]
    assert diagnostics_table(no_nuts).empty
    assert uncertainty_table(frame[frame["dataset"] == "synthetic"]).empty


def test_markdown_writer_is_exact():
    df = pd.DataFrame({"method": ["nn", "nuts"], "accuracy": [0.96666, float("nan")],
                       "n_params": [2233.0, 467.0], "b": [1.0123, 0.5],
                       "b_lo": [0.98, 0.4], "b_hi": [1.04, 0.6], "note": ["a|b", ""]})
    assert markdown_table(markdown_view(df)) == (
        "| Method | Accuracy | #params |        b [95% CI] | note |\n"
        "| ------ | -------: | ------: | ----------------: | ---- |\n"
        "| nn     |    0.967 |    2233 | 1.01 [0.98, 1.04] | a\\|b |\n"
        "| nuts   |        - |     467 | 0.50 [0.40, 0.60] | -    |\n"
    )


@pytest.mark.parametrize(("value", "spec", "text"), [
    (None, ".3f", "-"), (float("nan"), ".3f", "-"), (pd.NA, "d", "-"), (True, ".3f", "yes"),
    (12.0, "d", "12"), (0.000123456, ".4g", "0.0001235"), ("x", ".3f", "x"),
])
def test_format_cell(value, spec, text):
    assert format_cell(value, spec) == text


def test_side_by_side_table_and_line(fixture_doc, write_input, tmp_path):
    """The peers a row timed inside its own rounds: medians over rounds of both sides and
    the stored per-round-ratio median, one row per peer, and the README line from them."""
    from bnncompare.report import load_runs
    from bnncompare.report.summary import headline_findings
    from bnncompare.report.tables import side_by_side_table

    doc = copy.deepcopy(fixture_doc)
    ours = next(b for b in doc["benchmarks"] if b["group"] == "peers"
                and b["params"]["task"] == "nuts_leapfrog"
                and b["params"]["method"] == "bnncompare")
    ours["extra_info"]["side_by_side"] = {
        "rounds": 3, "order": "alternating, peers first in round 0",
        "s_per_unit": [4e-4, 2e-4, 3e-4],
        "peers": {"numpyro": {"s_per_unit": [1e-4, 1.2e-4, 0.9e-4],
                              "ratio_vs_bnncompare": 0.4}}}
    frame = load_runs([write_input(tmp_path / "run.json", doc)])
    table = side_by_side_table(frame)
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["implementation"], row["peer"], row["unit"]) == ("bnncompare", "numpyro",
                                                                 "leapfrog")
    assert row["s_per_unit"] == 3e-4 and row["peer_s_per_unit"] == 1e-4
    assert (row["ratio_vs_bnncompare"], row["rounds"]) == (0.4, 3)
    lines = headline_findings(frame.iloc[:0], {"side_by_side": table})
    side = [line for line in lines if line.startswith("Side by side")]
    assert side == ["Side by side, nuts_leapfrog (peers timed within bnncompare's 3 rounds): "
                    "time per leapfrog relative to bnncompare: numpyro 0.4× (bnncompare "
                    "takes 2.5× its time)."]
    # a run without side-by-side rounds has no such table
    assert side_by_side_table(load_runs([write_input(tmp_path / "plain.json",
                                                     fixture_doc)])).empty
