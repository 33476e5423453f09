"""CPU and GPU runs of one profile side by side (``bnncompare report cpu.json gpu.json``).

The GPU run is the CPU fixture relabelled (``machine_info["device"] = "cuda"``) with every
predict cell 4x and every fit cell 2.5x faster, and no peers (the GPU sweep leaves them out),
so every speed-up is known by hand.
"""

from __future__ import annotations

import copy
import json

import pytest

from bnncompare.cli import main
from bnncompare.report import build_report, load_runs
from bnncompare.report.devices import cpu_vs_gpu_table, device_figure

SPEEDUP = {"predict": 4.0, "fit": 2.5}
PNG = b"\x89PNG\r\n\x1a\n"


def _gpu_doc(fixture_doc: dict, profile: str = "fast") -> dict:
    doc = copy.deepcopy(fixture_doc)
    doc["machine_info"].update(device="cuda", cuda_device_name="NVIDIA H200", profile=profile)
    kept = []
    for bench in doc["benchmarks"]:
        if bench["group"] == "peers":
            continue
        stats = bench["stats"]
        factor = 1.0 / SPEEDUP.get(bench["group"], 1.0)
        stats["data"] = [t * factor for t in stats["data"]]
        for key in ("min", "max", "mean", "median", "q1", "q3", "iqr"):
            stats[key] *= factor
        bench["extra_info"]["profile"] = profile
        kept.append(bench)
    doc["benchmarks"] = kept
    return doc


@pytest.fixture
def runs(tmp_path, fixture_json, fixture_doc):
    gpu = tmp_path / "gpu.json"
    gpu.write_text(json.dumps(_gpu_doc(fixture_doc)))
    return fixture_json, gpu


def test_table_has_every_timed_cell_with_hand_computed_speedups(runs, fixture_doc):
    table = cpu_vs_gpu_table(load_runs(list(runs)))
    timed = [b for b in fixture_doc["benchmarks"] if b["group"] in SPEEDUP]
    assert len(table) == len(timed)  # every fit and predict cell, once
    for phase, speedup in SPEEDUP.items():
        rows = table[table["phase"] == phase]
        assert len(rows) == sum(b["group"] == phase for b in timed)
        # a quotient of two float64 numbers, the GPU one scaled by 1/speedup: a few ulps
        assert rows["speedup"].to_numpy() == pytest.approx(speedup, rel=1e-12)
    one = next(b for b in timed if b["name"] == "test_fit_vs_n_train[synthetic-nn-n300]")
    row = table[(table["method"] == "nn") & (table["axis"] == "n_train")
                & (table["n_train"] == 300)].iloc[0]
    assert row["cpu_s"] == one["stats"]["median"]
    assert row["gpu_s"] == pytest.approx(one["stats"]["median"] / 2.5, rel=1e-15)
    # a single CPU and a single GPU run: the machine columns would say nothing
    assert "cpu_machine" not in table and "gpu_machine" not in table


def test_figure_has_a_line_per_device_per_method_and_labels_every_measured_x(runs):
    df = load_runs(list(runs))
    fig = device_figure(df)
    for ax, (phase, axis) in zip(fig.axes, (("predict", "num_samples"), ("fit", "n_train")),
                                 strict=True):
        rows = df[(df["phase"] == phase) & (df["axis"] == axis)]
        measured = sorted({float(x) for x in rows[axis]})
        assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
        assert [float(t) for t in ax.get_xticks()] == measured
        assert [t.get_text() for t in ax.get_xticklabels()] == [f"{x:g}" for x in measured]
        labels = [line.get_label() for line in ax.get_lines()]
        methods = rows["method"].unique()
        assert len(labels) == 2 * len(methods)  # one dataset and net per sweep here
        assert all(label.endswith((", CPU", ", GPU")) for label in labels)


def test_machine_names_the_gpu_so_cpu_and_gpu_are_separate_series(runs, fixture_doc):
    df = load_runs(list(runs))
    machines = set(df.drop_duplicates("run")["machine"])
    brand = fixture_doc["machine_info"]["cpu"]["brand_raw"]
    assert machines == {f"ci-runner-2c ({brand})", f"ci-runner-2c cuda (NVIDIA H200, {brand})"}


def test_report_of_cpu_and_gpu_writes_the_table_and_figure(runs, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["report", *map(str, runs), "--out", str(out)]) == 0
    figure = out / "figures" / "cpu_vs_gpu.png"
    assert figure.read_bytes().startswith(PNG)
    lines = (out / "tables" / "cpu_vs_gpu.md").read_text().splitlines()
    table = lines[lines.index(next(x for x in lines if x.startswith("| Phase"))):]
    assert table[0].split("|")[-2].strip() == "Speed-up (CPU / GPU)"
    assert {row.split("|")[-2].strip() for row in table[2:]} == {"4", "2.5"}
    csv = (out / "tables" / "cpu_vs_gpu.csv").read_text().splitlines()
    assert csv[0].split(",")[-3:] == ["cpu_s", "gpu_s", "speedup"]
    assert {line.split(",")[-1] for line in csv[1:]} == {"4", "2.5"}
    readme = (out / "README.md").read_text()
    assert "figures/cpu_vs_gpu.png" in readme and "speed-up (CPU s / GPU s) from 2.5×" in readme


def test_one_device_writes_no_cpu_vs_gpu_output(built):
    result, _ = built
    assert not any("cpu_vs_gpu" in p.name for p in result["figures"] + result["tables"])


def test_cpu_and_gpu_runs_of_different_profiles_exit_2(tmp_path, fixture_json, fixture_doc,
                                                       capsys):
    gpu = tmp_path / "gpu.json"
    gpu.write_text(json.dumps(_gpu_doc(fixture_doc, profile="smoke")))
    out = tmp_path / "out"
    assert main(["report", str(fixture_json), str(gpu), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bnncompare report: error: CPU and GPU")
    assert "fast.json" not in err and "fast is 'fast' on cpu" in err
    assert "gpu is 'smoke' on cuda" in err
    assert not out.exists() or not any(out.iterdir())  # nothing written


def test_build_report_refuses_before_writing(tmp_path, fixture_json, fixture_doc):
    gpu = tmp_path / "gpu.json"
    gpu.write_text(json.dumps(_gpu_doc(fixture_doc, profile="full")))
    with pytest.raises(ValueError, match="different profiles"):
        build_report([fixture_json, gpu], tmp_path / "out")
    assert not (tmp_path / "out").exists()
