"""build_report: every output written, README from the numbers, byte-identical regeneration,
nothing touched on bad input, merged machines, figures skipped when their data is absent."""

from __future__ import annotations

import os
import re

import pytest

from bnncompare.report import ReportInputError, build_report

FIGURES = {
    "fit_vs_n_train.png", "predict_vs_num_samples.png", "predict_vs_n_test.png",
    "fit_vs_num_samples.png", "quality_vs_num_samples.png", "quality_vs_compute.png",
    "peer_ratios.png", "i_dont_know_iris.png", "i_dont_know_digits.png",
}
TABLES = {"quality", "uncertainty", "pareto", "exponents", "peers", "diagnostics", "fit",
          "predict"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_every_figure_is_written_and_non_empty(built):
    result, project = built
    figures = project / "results" / "figures"
    assert {p.name for p in figures.iterdir()} == FIGURES
    assert {p.name for p in result["figures"]} == FIGURES
    for path in figures.iterdir():
        data = path.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 10_000, path.name
        assert b"Software" not in data and b"matplotlib" not in data


def test_every_table_is_written_as_csv_and_markdown(built):
    result, project = built
    tables = project / "results" / "tables"
    expected = {f"{n}.{ext}" for n in TABLES for ext in ("csv", "md")}
    assert {p.name for p in tables.iterdir()} == expected
    assert len(result["tables"]) == len(expected)
    assert result["n_benchmarks"] == 69
    assert not [p for p in (project / "results").iterdir() if p.name.startswith(".")]


def test_readme_is_written_from_the_numbers(built):
    _, project = built
    readme = (project / "results" / "README.md").read_text(encoding="utf-8")
    assert "Do not edit by hand" in readme
    assert "\nbnncompare report results/raw/fast.json --out results\n" in readme
    for fact in ("| fast | ci-runner-2c (Intel(R) Xeon(R) Platinum 8272CL CPU @ 2.60GHz) | fast"
                 "    | 3f9c2ab71d0e |", "| 2.13.0 | 1.9.2 |",
                 "NN fit time grows as n^1.01", "NUTS fit time vs n: **inconclusive**",
                 "NUTS fit time grows as S^1.0", "gradient evaluations grow as S^1.00",
                 "NN predict time does not grow measurably with S",
                 "in-box OOD separation (entropy AUROC): NUTS 0.93 (one seed: not compared)",
                 "pyro-predictive 62.3×", "numpyro 0.594× (plus 11.8 s compile)",
                 "NUTS 17.8 s (33.3× NN)", "NLL: NUTS 0.083 (one seed: not compared)",
                 "2 of 11 fits flagged", "![peer_ratios.png](figures/peer_ratios.png)",
                 "[quality](tables/quality.md)"):
        assert fact in readme, fact


def test_regeneration_is_byte_identical(built, take_snapshot):
    _, project = built
    results = project / "results"
    before = take_snapshot(results)
    cwd = os.getcwd()
    os.chdir(project)
    try:
        build_report(["results/raw/fast.json"], "results")
    finally:
        os.chdir(cwd)
    after = take_snapshot(results)
    assert after.keys() == before.keys()
    # every file, the PNGs included: a figure may carry no timestamp, version or random state
    changed = [name for name in before if after[name] != before[name]]
    assert changed == [], f"regeneration changed {changed}"
    assert {n for n in before if n.startswith("figures/")} == {
        f"figures/{f}" for f in FIGURES}


def existing_out_dir(tmp_path):
    out = tmp_path / "results"
    (out / "tables").mkdir(parents=True)
    (out / "figures").mkdir()
    (out / "raw").mkdir()
    (out / "README.md").write_text("previous report\n")
    (out / "tables" / "quality.md").write_text("previous table\n")
    (out / "figures" / "fit_vs_n_train.png").write_bytes(b"previous figure")
    (out / "raw" / "fast.json").write_text("{}")
    return out


BAD_NAMES = ["empty", "not_json", "json_list", "no_benchmarks_key", "no_machine_info",
             "zero_benchmarks", "no_median", "unknown_group"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_input_leaves_out_dir_untouched(tmp_path, fixture_json, bad_inputs, write_input,
                                            take_snapshot, name):
    content, message = bad_inputs[name]
    bad = write_input(tmp_path / f"{name}.json", content)
    out = existing_out_dir(tmp_path)
    before = take_snapshot(out)
    with pytest.raises(ReportInputError, match=re.escape(message)) as info:
        build_report([fixture_json, bad], out)
    assert str(bad) in str(info.value)
    assert take_snapshot(out) == before
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "figures", "raw", "tables"]


def test_bad_input_does_not_create_out_dir(tmp_path, bad_inputs, write_input):
    bad = write_input(tmp_path / "empty.json", bad_inputs["empty"][0])
    with pytest.raises(ReportInputError):
        build_report([bad], tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_normalise_without_calibration_is_bad_input(tmp_path, fixture_doc, write_input,
                                                    take_snapshot):
    doc = {**fixture_doc, "benchmarks": [b for b in fixture_doc["benchmarks"]
                                         if b["group"] != "calibration"]}
    path = write_input(tmp_path / "nocal.json", doc)
    out = existing_out_dir(tmp_path)
    before = take_snapshot(out)
    with pytest.warns(UserWarning), pytest.raises(ReportInputError, match="calibration"):
        build_report([path], out, normalise=True)
    assert take_snapshot(out) == before


def test_two_machines_merge_and_replace_old_outputs(tmp_path, fixture_json, second_machine,
                                                   write_input):
    other = write_input(tmp_path / "laptop.json", second_machine)
    out = existing_out_dir(tmp_path)
    result = build_report([fixture_json, other], out, normalise=True, n_boot=20)
    assert len(result["machines"]) == 2
    exps = result["exponents"]
    assert len(exps) == 20 and exps["machine"].nunique() == 2
    assert (out / "raw" / "fast.json").read_text() == "{}"          # not ours: kept
    assert (out / "README.md").read_text() != "previous report\n"   # ours: replaced
    assert (out / "figures" / "fit_vs_n_train.png").read_bytes().startswith(PNG_MAGIC)
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert re.search(r"^\| laptop +\| laptop \(Apple M2\) +\|", readme, re.MULTILINE)
    assert "NN fit time grows as n^" in readme and "(laptop)." in readme
    assert "divided by each run's calibration time" in readme
    assert "--normalise" in readme
    quality = (out / "tables" / "quality.md").read_text(encoding="utf-8")
    assert "| Machine " in quality and "laptop (Apple M2)" in quality


def test_figures_without_data_are_skipped(tmp_path, fixture_doc, write_input):
    doc = {**fixture_doc, "benchmarks": [b for b in fixture_doc["benchmarks"]
                                         if b["group"] in ("peers", "calibration")]}
    path = write_input(tmp_path / "peers.json", doc)
    result = build_report([path], tmp_path / "out", n_boot=10)
    assert [p.name for p in result["figures"]] == ["peer_ratios.png"]
    assert sorted(p.name for p in (tmp_path / "out" / "tables").iterdir()) == [
        "peers.csv", "peers.md"]
    assert "Peers, predict" in (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
