"""Peer implementations against bnncompare: time per unit of work divided by bnncompare's."""

from __future__ import annotations

import numpy as np

from bnncompare.report.figures._common import _new_figure, _plain_log, _save, _short_machine

__all__ = ["PEER_COLOR", "peer_ratios"]

PEER_COLOR = "#7F7F7F"  # grey: no method uses it (methods own the palette)


def peer_ratios(df, exps, path, *, normalise=False):
    """Peer time per unit of work divided by bnncompare's (log scale; > 1: bnncompare faster)."""
    rows = df[(df["phase"] == "peers") & (df["method"] != "bnncompare")
              & df["ratio_vs_bnncompare"].notna()]
    if rows.empty:
        return None
    rows = rows.sort_values(["task", "ratio_vs_bnncompare"], kind="stable")
    several = rows["machine"].nunique() > 1
    labels = [f"{r['task']}: {r['method']}" + (f" ({_short_machine(r['machine'])})"
              if several else "") for _, r in rows.iterrows()]
    fig = _new_figure(6.8, 0.45 * len(rows) + 1.6)
    ax = fig.add_subplot()
    y = np.arange(len(rows))
    ratios = rows["ratio_vs_bnncompare"].to_numpy(float)
    ax.barh(y, ratios, color=PEER_COLOR, left=0)
    for yi, ratio in zip(y, ratios, strict=True):
        ax.annotate(f"{ratio:.3g}×", (ratio, yi), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.axvline(1.0, color="black", lw=1, label="bnncompare = 1")
    ax.set(xscale="log", yticks=y, yticklabels=labels,
           xlabel="time per unit / bnncompare's (> 1: bnncompare is faster)",
           title="Peer implementations vs bnncompare")
    ax.set_xlim(min(ratios.min(), 1.0) / 2, max(ratios.max(), 1.0) * 4)
    _plain_log(ax.xaxis)
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    return _save(fig, path)
