"""The report's README.md: provenance, headline findings written from the numbers, links.

Everything here is derived from the loaded frame and the tables; nothing is hand-written
per run, so the README is regenerated with the rest of ``results/`` and never edited.
"""

from __future__ import annotations

import pandas as pd

from bnncompare.methods.convergence import R_HAT_LIMIT
from bnncompare.report.complexity import B_MAX, DRIFT_B_TOL, MAX_WIDTH
from bnncompare.report.curves import front_headline
from bnncompare.report.devices import speedup_line
from bnncompare.report.findings import claim, quality_rows
from bnncompare.report.formatting import format_cell, markdown_table
from bnncompare.report.method_meta import label_of, method_styles, reference_method
from bnncompare.report.replicates import rank_methods

__all__ = ["headline_findings", "method_sentence", "provenance_table", "readme_text"]

SYMBOL = {"n_train": "n", "num_samples": "S", "n_test": "n_test"}
WHAT = {"fit": "fit time", "predict": "predict time"}


def _name(method: object) -> str:
    return label_of(method)


def _where(row: pd.Series, several_machines: bool, *cols: str) -> str:
    """``"iris"`` or, when runs from several machines merge, ``"iris (laptop)"``."""
    text = ", ".join(str(row[c]) for c in cols if pd.notna(row[c]) and str(row[c]))
    return f"{text} ({str(row['machine']).split(' (')[0]})" if several_machines else text


def provenance_table(df: pd.DataFrame) -> str:
    """One Markdown row per input run: machine, profile, commit and library versions."""
    runs = df.drop_duplicates("run")
    view = pd.DataFrame({
        "Run": runs["run"], "Machine": runs["machine"], "Profile": runs["profile"],
        "Commit": [_commit(c, d) for c, d in zip(runs["commit"], runs["dirty"], strict=True)],
        "bnncompare": runs["bnncompare"], "torch": runs["torch"], "pyro": runs["pyro"],
        "Python": runs["python"], "Threads": runs["torch_threads"], "Device": runs["device"],
        "Recorded": runs["datetime"], "Benchmarks": [int((df["run"] == r).sum())
                                                     for r in runs["run"]],
    })
    return markdown_table(view.map(lambda v: format_cell(v, "d" if isinstance(v, int) else
                                                         ".4g")))


def _commit(commit: object, dirty: object) -> str:
    if not isinstance(commit, str) or not commit:
        return "-"
    return commit[:12] + (" (dirty)" if dirty is True else "")


def _exponent_lines(exps: pd.DataFrame) -> list[str]:
    lines = []
    several = exps["machine"].nunique() > 1 if len(exps) else False
    for _, e in exps.iterrows():
        what = f"{_name(e['method'])} {WHAT.get(e['phase'], e['phase'])}"
        sym = SYMBOL.get(e["axis"], e["axis"])
        where = _where(e, several, "dataset", "fixed")
        interval = f"[{e['b_lo']:.2f}, {e['b_hi']:.2f}]"
        if _why(e, "inconclusive"):
            text = (f"{what} vs {sym}: **inconclusive**, no growth law read "
                    f"({_why(e, 'inconclusive')})")
        elif e["b"] == 0 and e["c1"] == 0:
            text = (f"{what} does not grow measurably with {sym} (b = 0 {interval}, theory "
                    f"{_g(e, 'theory_exponent')})")
        else:
            text = (f"{what} grows as {sym}^{e['b']:.2f} {interval} (theory "
                    f"{_g(e, 'theory_exponent')}; naive log-log slope {e['naive_slope']:.2f})")
        if pd.notna(e["b_work"]):
            text += "; " + _work_text(e, sym)
        if e["flag"]:
            text += f" — **interval excludes theory ({e['flag']})**"
        lines.append(f"{text} — {where}.")
    return lines


def _why(row: pd.Series, col: str) -> str:
    value = row.get(col)
    return value if isinstance(value, str) else ""


def _work_text(e: pd.Series, sym: str) -> str:
    theory = _g(e, "theory_exponent_work")
    if _why(e, "inconclusive_work"):
        return (f"gradient evaluations vs {sym}: inconclusive "
                f"({_why(e, 'inconclusive_work')}; theory {theory})")
    if e["b_work"] == 0:
        return (f"gradient evaluations do not grow measurably with {sym} (b = 0 "
                f"[{e['b_work_lo']:.2f}, {e['b_work_hi']:.2f}], theory {theory})")
    return (f"gradient evaluations grow as {sym}^{e['b_work']:.2f} "
            f"[{e['b_work_lo']:.2f}, {e['b_work_hi']:.2f}] (theory {theory})")


def _g(row: pd.Series, col: str) -> str:
    return "?" if pd.isna(row[col]) else f"{row[col]:g}"


def _per_machine_dataset(table: pd.DataFrame):
    """``(rows, several_machines)`` per (machine, dataset) group, in a stable order."""
    several = table["machine"].nunique() > 1 if len(table) else False
    for _, rows in table.groupby(["machine", "dataset"], sort=True):
        yield rows, several


def _cost_lines(quality: pd.DataFrame) -> list[str]:
    """Fit cost per dataset, relative to the reference method (the first registered point
    estimate present), else to the cheapest fit."""
    lines = []
    reference = reference_method(quality["method"])
    for rows, several in _per_machine_dataset(quality):
        ref = rows[rows["method"] == reference]
        ref_s = float(ref["fit_s"].iloc[0]) if len(ref) else float(rows["fit_s"].min())
        ref_name = _name(reference) if len(ref) else "the cheapest"
        parts = [f"{_name(r['method'])} {r['fit_s']:.3g} s"
                 + ("" if r["fit_s"] == ref_s else f" ({r['fit_s'] / ref_s:.3g}× {ref_name})")
                 for _, r in rows.iterrows()]
        where = _where(rows.iloc[0], several, "dataset")
        lines.append(f"Fitting on {where} costs " + ", ".join(parts) + ".")
    return lines


QUALITY_CLAIMS = (("tv_test", "TV to the reference posterior (test rows)"), ("nll", "NLL"),
                  ("ece", "ECE"), ("accuracy", "accuracy"),
                  ("ood_auroc", "in-box OOD separation (entropy AUROC)"),
                  ("ood_auroc_far", "far-input separation (entropy AUROC)"))


def _quality_lines(df: pd.DataFrame) -> list[str]:
    """Per machine and dataset, each quality metric's leader, or its tied group: a "best"
    only where a paired comparison over the method seeds separates it
    (:mod:`bnncompare.report.findings`)."""
    rows = quality_rows(df)
    lines = []
    several = rows["machine"].nunique() > 1
    for _, part in rows.groupby(["machine", "dataset"], sort=True):
        claims = [claim(r, label).rstrip(".") for metric, label in QUALITY_CLAIMS
                  if metric in part and (r := rank_methods(part, metric)) is not None]
        if claims:
            where = _where(part.iloc[0], several, "dataset")
            lines.append(f"Held-out quality on {where} over "
                         f"{part['method_seed'].nunique()} method seed(s): "
                         + "; ".join(claims) + ".")
    return lines


def _peer_lines(peers: pd.DataFrame) -> list[str]:
    lines = []
    several = peers["machine"].nunique() > 1 if len(peers) else False
    for _, rows in peers.groupby(["machine", "task"], sort=False):
        others = rows[rows["implementation"] != "bnncompare"]
        if others.empty:
            continue
        parts = []
        for _, r in others.iterrows():
            part = f"{r['implementation']} {r['ratio_vs_bnncompare']:.3g}×"
            if pd.notna(r["compile_s"]):
                part += f" (plus {r['compile_s']:.3g} s compile)"
            parts.append(part)
        where = _where(rows.iloc[0], several, "task")
        lines.append(f"Peers, {where}: time per {rows['unit'].iloc[0]} relative to bnncompare "
                     f"(> 1: bnncompare is faster): " + ", ".join(parts) + ".")
    return lines


def _side_by_side_lines(side: pd.DataFrame) -> list[str]:
    """One line per bnncompare row that timed its peers in its own rounds."""
    lines = []
    several = side["machine"].nunique() > 1
    for _, rows in side.groupby(["machine", "task", "implementation"], sort=False):
        first = rows.iloc[0]
        parts = [f"{r['peer']} {r['ratio_vs_bnncompare']:.3g}× ({first['implementation']} "
                 f"takes {1 / r['ratio_vs_bnncompare']:.3g}× its time)"
                 for _, r in rows.iterrows()]
        where = _where(first, several, "task")
        lines.append(f"Side by side, {where} (peers timed within {first['implementation']}'s "
                     f"{first['rounds']} rounds): time per {first['unit']} relative to "
                     "bnncompare: " + ", ".join(parts) + ".")
    return lines


def _diagnostic_lines(diag: pd.DataFrame) -> list[str]:
    """One line per method that recorded convergence diagnostics."""
    lines = []
    for method in method_styles(diag["method"]):
        rows = diag[diag["method"] == method]
        flagged = rows[rows["flag"] != ""]
        r_hat = int(flagged["flag"].str.contains("R-hat").sum())
        div = int(flagged["flag"].str.contains("divergences").sum())
        if flagged.empty:
            lines.append(f"{_name(method)} diagnostics: all {len(rows)} fits have R-hat <= "
                         f"{R_HAT_LIMIT} and no divergences.")
        else:
            lines.append(f"{_name(method)} diagnostics: {len(flagged)} of {len(rows)} fits "
                         f"flagged ({r_hat} with R-hat > {R_HAT_LIMIT}, {div} with divergences); "
                         "see tables/diagnostics.md.")
    return lines


def headline_findings(exps: pd.DataFrame, tables: dict[str, pd.DataFrame],
                      df: pd.DataFrame | None = None) -> list[str]:
    """Bullet sentences, each quoting the numbers it rests on; quality claims need the
    per-seed frame ``df``."""
    empty = pd.DataFrame(columns=["machine"])
    get = lambda name: tables.get(name, empty)  # noqa: E731
    lines = _exponent_lines(exps) if len(exps) else []
    if len(get("pareto")):
        lines += front_headline(get("pareto"), get("pareto")["machine"].nunique() > 1)
    if len(get("quality")):
        lines += _cost_lines(get("quality"))
        lines += _quality_lines(df) if df is not None else []
    if len(get("peers")):
        lines += _peer_lines(get("peers"))
    if len(get("side_by_side")):
        lines += _side_by_side_lines(get("side_by_side"))
    if len(get("diagnostics")):
        lines += _diagnostic_lines(get("diagnostics"))
    if len(get("cpu_vs_gpu")):
        lines.append(speedup_line(get("cpu_vs_gpu")))
    return lines


def method_sentence(df: pd.DataFrame) -> str:
    """Labels of the methods of the fit and predict benchmarks, e.g. ``"A (point estimate), B"``."""
    names = df.loc[df["phase"].isin(["fit", "predict"]), "method"]
    parts = [s.label + (" (point estimate)" if s.point_estimate else "")
             for s in method_styles(names).values()]
    return ", ".join(parts) if parts else "none"


def readme_text(df: pd.DataFrame, exps: pd.DataFrame, tables: dict[str, pd.DataFrame],
                figures: list[str], command: str, normalise: bool) -> str:
    """The whole README.md; ``figures`` are file names under ``figures/``."""
    out = [
        "# bnncompare results",
        "",
        "<!-- Generated by bnncompare.report from the raw benchmark JSON. Do not edit by hand:"
        " regenerate. -->",
        "",
        "What does Bayesian inference cost, and what does it buy? One MLP classifier fitted "
        f"by each method in these runs: {method_sentence(df)}. Regenerate everything "
        "below (tables/, figures/ and this file) with:",
        "",
        "```",
        command,
        "```",
        "",
        "## Provenance",
        "",
        provenance_table(df).rstrip("\n"),
        "",
        "## Headline findings",
        "",
        "Complexity exponents are fits of `t = c0 + c1·x^b` to the per-size median times, "
        "with a 95 % interval that carries the run's own moment-to-moment noise (pooled over "
        "its series and calibrations); the naive log-log slope is shown to "
        "expose the overhead bias. A fit is *inconclusive* (no growth law is read from it) "
        f"when its b sits on the upper bound {B_MAX:g} of the grid it is searched on, its "
        "interval (at the run's noise, or from the scatter of the per-size medians about the "
        f"curve) reaches that bound or is wider than {MAX_WIDTH:g}, or the run's calibration "
        f"drifted around the series enough to move b by more than {DRIFT_B_TOL:g}. A fit "
        "with no growing term reads as not growing measurably.",
        "",
        *[f"- {line}" for line in headline_findings(exps, tables, df)],
        "",
        "## Tables",
        "",
        *[f"- [{name}](tables/{name}.md) ([CSV](tables/{name}.csv))" for name in tables],
        "",
        "## Figures",
        "",
        "Times are " + ("divided by each run's calibration time." if normalise else
                        "wall-clock seconds (median of rounds; bars: IQR)."),
        "",
        *[f"![{name}](figures/{name})\n" for name in figures],
    ]
    return "\n".join(out).rstrip("\n") + "\n"
