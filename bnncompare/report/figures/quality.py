"""Test NLL and ECE against the posterior draws S used at prediction, one line per method."""

from __future__ import annotations

from bnncompare.report.figures._common import (
    AXIS_LABEL,
    _measured_ticks,
    _new_figure,
    _save,
    _short_machine,
    _style,
    styles_of,
)
from bnncompare.report.method_meta import method_order

__all__ = ["quality_vs_num_samples"]


def quality_vs_num_samples(df, exps, path, *, normalise=False):
    """Test NLL and ECE against posterior draws S used at prediction."""
    rows = df[(df["phase"] == "predict") & (df["axis"] == "num_samples") & df["nll"].notna()]
    if rows.empty:
        return None
    styles = styles_of(df)
    fig = _new_figure(9.0, 3.8)
    axes = fig.subplots(1, 2)
    groups = list(rows.groupby(["machine", "dataset", "method", "n_test"], sort=True,
                               dropna=False))
    order = method_order(rows["method"])
    groups.sort(key=lambda item: (order.index(str(item[0][2])), str(item[0][0]),
                                  str(item[0][1]), str(item[0][3])))
    several = rows["dataset"].nunique() > 1 or rows["machine"].nunique() > 1
    for ax, metric, name in zip(axes, ("nll", "ece"), ("test NLL", "test ECE"), strict=True):
        for (machine, dataset, method, _), g in groups:
            g = g.sort_values("num_samples")
            style = _style(styles, method)
            label = (f"{style.label}, {dataset}, {_short_machine(machine)}" if several
                     else style.label)
            ax.plot(g["num_samples"].astype(float), g[metric], "o-", color=style.color,
                    label=label)
        ax.set(xscale="log", xlabel=AXIS_LABEL["num_samples"], ylabel=name,
               title=f"{name} vs S")
        _measured_ticks(ax, rows["num_samples"])
    axes[0].legend()
    return _save(fig, path)
