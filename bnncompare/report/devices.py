"""CPU and GPU runs of one profile side by side: a speed-up table and a figure.

``bnncompare report cpu.json gpu.json`` loads both runs like any others; when the runs name
both devices (``machine_info["device"]``, from ``bnncompare run --device``; absent = cpu),
this module adds ``tables/cpu_vs_gpu.md`` (every fit and predict cell measured on both: CPU
seconds, GPU seconds, speed-up = CPU / GPU) and ``figures/cpu_vs_gpu.png`` (predict time vs
S and fit time vs n, one line per device per method). Times are raw seconds: the
calibration is timed on the CPU in both runs, so it cannot put the two devices on one scale.
Cells are matched by benchmark identity (test name and workload, the gate's rule), so only
runs of one profile can be put side by side. No method is named here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bnncompare.report.figures import (
    AXIS_LABEL,
    _measured_ticks,
    _new_figure,
    _plain_log,
    _save,
    _style,
    styles_of,
)
from bnncompare.report.load import ReportInputError
from bnncompare.report.method_meta import label_of, method_order
from bnncompare.report.tables import sort_methods

__all__ = ["DEVICES", "check_devices", "cpu_vs_gpu_figure", "cpu_vs_gpu_table", "device_figure",
           "device_of", "speedup_line"]

#: the devices compared, and how each is drawn (CPU solid circles, GPU dashed squares)
DEVICES = ("cpu", "cuda")
_LINE = {"cpu": ("o", "-", "CPU"), "cuda": ("s", "--", "GPU")}
#: the panels of the figure: (phase, swept axis, title)
PANELS = (("predict", "num_samples", "Predict time vs posterior draws S"),
          ("fit", "n_train", "Fit time vs training rows n"))
_CELL = ["phase", "method", "dataset", "hidden", "axis", "n_train", "n_test", "num_samples"]


def device_of(df: pd.DataFrame) -> pd.Series:
    """Each row's device: the run's ``machine_info["device"]``, ``"cpu"`` where absent."""
    return df["device"].where(df["device"].notna(), "cpu").astype(str)


def _both(df: pd.DataFrame) -> bool:
    return set(DEVICES) <= set(device_of(df))


def check_devices(df: pd.DataFrame) -> None:
    """Refuse CPU and GPU runs of different profiles: their cells do different work.

    Raises
    ------
    ReportInputError
        When the runs include both devices and more than one profile.
    """
    if not _both(df):
        return
    runs = df.assign(_device=device_of(df)).drop_duplicates("run")
    if runs["profile"].nunique(dropna=False) > 1:
        which = ", ".join(f"{r['run']} is {r['profile']!r} on {r['_device']}"
                          for _, r in runs.iterrows())
        raise ReportInputError(
            f"CPU and GPU runs of different profiles ({which}): their cells do different "
            "work, so they cannot be put side by side; give runs of one profile")


def _timed_cells(df: pd.DataFrame, device: str) -> pd.DataFrame:
    rows = df[df["phase"].isin(["fit", "predict"]) & (device_of(df) == device)]
    return rows.assign(_key=rows["name"].astype(str) + "|" + rows["workload"].fillna(""))


def cpu_vs_gpu_table(df: pd.DataFrame) -> pd.DataFrame:
    """Every fit and predict cell measured on both devices: ``cpu_s`` and ``gpu_s`` (median
    seconds) and ``speedup`` = ``cpu_s / gpu_s`` (> 1: the GPU is faster). With several runs
    of a device, one row per pair of runs (``cpu_machine``, ``gpu_machine`` then vary).
    Empty unless the frame holds runs of both devices."""
    cols = [*_CELL, "cpu_machine", "gpu_machine", "cpu_s", "gpu_s", "speedup"]
    if not _both(df):
        return pd.DataFrame(columns=cols)
    cpu, gpu = _timed_cells(df, "cpu"), _timed_cells(df, "cuda")
    pairs = cpu.merge(gpu[["_key", "machine", "median_s"]], on="_key", suffixes=("", "_gpu"))
    pairs = pairs.rename(columns={"machine": "cpu_machine", "machine_gpu": "gpu_machine",
                                  "median_s": "cpu_s", "median_s_gpu": "gpu_s"})
    pairs["speedup"] = pairs["cpu_s"] / pairs["gpu_s"]
    keep = [c for c in cols if c not in ("cpu_machine", "gpu_machine")
            or pairs[c].nunique() > 1]
    if pairs.empty:
        return pd.DataFrame(columns=keep)
    return sort_methods(pairs, ["phase", "method", "dataset", "axis", "n_train", "n_test",
                                "num_samples", "cpu_machine", "gpu_machine"])[keep]


def cpu_vs_gpu_figure(df: pd.DataFrame, exps, path: Path, *, normalise: bool = False):
    """:func:`device_figure` saved to ``path``; None, writing nothing, when there is none."""
    fig = device_figure(df)
    return None if fig is None else _save(fig, path)


def device_figure(df: pd.DataFrame):
    """Predict time vs S and fit time vs n, log-log, one line per device per method (the
    method's colour; CPU solid circles, GPU dashed squares), every measured x labelled.
    Raw seconds (see the module docstring). The unsaved figure, or None unless the frame
    holds runs of both devices with a sweep of either panel."""
    if not _both(df):
        return None
    styles = styles_of(df)
    fig = _new_figure(12.0, 5.2)
    drawn = 0
    for ax, (phase, axis, title) in zip(fig.subplots(1, 2), PANELS, strict=True):
        # scales first: setting a log scale afterwards would reset the measured ticks
        ax.set(xscale="log", yscale="log", xlabel=AXIS_LABEL[axis], ylabel="time (s)",
               title=title)
        drawn += _panel(ax, df, phase, axis, styles)
        _plain_log(ax.yaxis)
        ax.legend(fontsize=7)
    if not drawn:
        return None
    fig.suptitle("CPU vs GPU, one profile (markers: median of rounds)")
    return fig


def _panel(ax, df: pd.DataFrame, phase: str, axis: str, styles) -> int:
    rows = df[(df["phase"] == phase) & (df["axis"] == axis) & df[axis].notna()]
    rows = rows.assign(_device=device_of(rows), _hidden=rows["hidden"].fillna("none"))
    keys = ["_device", "method", "dataset", "_hidden", "machine"]
    groups = list(rows.groupby(keys, sort=True, dropna=False))
    order = method_order(rows["method"])
    groups.sort(key=lambda g: (order.index(str(g[0][1])), str(g[0][2]), g[0][0]))
    several = {k: rows[k].nunique() > 1 for k in ("dataset", "_hidden")}
    for (device, method, dataset, hidden, _), g in groups:
        g = g.sort_values(axis)
        marker, line, name = _LINE.get(device, ("^", ":", device))
        style = _style(styles, method)
        label = ", ".join([style.label, name, *([str(dataset)] if several["dataset"] else []),
                           *([str(hidden)] if several["_hidden"] else [])])
        ax.plot(g[axis].to_numpy(float), g["median_s"].to_numpy(float), marker=marker,
                ls=line, color=style.color, label=label)
    if groups:
        _measured_ticks(ax, rows[axis].to_numpy(float))
    else:
        ax.text(0.5, 0.5, "not measured", transform=ax.transAxes, ha="center")
    return len(groups)


def speedup_line(table: pd.DataFrame) -> str | None:
    """A headline sentence: the range of GPU speed-ups in ``table``, naming both ends."""
    if table.empty:
        return None
    ends = table.iloc[[int(np.argmin(table["speedup"])), int(np.argmax(table["speedup"]))]]
    cells = [_cell_text(r) for _, r in ends.iterrows()]
    lo, hi = ends["speedup"].to_list()
    return (f"GPU vs CPU over {len(table)} cells: speed-up (CPU s / GPU s) from {lo:.3g}× "
            f"({cells[0]}) to {hi:.3g}× ({cells[1]}); see tables/cpu_vs_gpu.md.")


def _cell_text(row: pd.Series) -> str:
    sizes = [f"{a}={int(row[a])}" for a in ("n_train", "n_test", "num_samples")
             if pd.notna(row[a])]
    return " ".join([label_of(row["method"]), str(row["phase"]), str(row["dataset"]), *sizes])
