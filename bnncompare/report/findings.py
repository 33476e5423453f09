"""``findings.md``: per dataset a scoreboard over method seeds and the claims the data support.

Every number is generated from the run; a claim names a single winner only when a paired
comparison over the method seeds separates it from every other method
(:func:`bnncompare.report.replicates.rank_methods`), and otherwise names the tied group. The
README holds this text verbatim between ``<!-- findings:start -->`` and
``<!-- findings:end -->`` (a test keeps the two equal).
"""

from __future__ import annotations

import pandas as pd

from bnncompare.methods.convergence import R_HAT_LIMIT
from bnncompare.report.curves import converged
from bnncompare.report.formatting import format_cell, markdown_table
from bnncompare.report.method_meta import label_of, method_order
from bnncompare.report.replicates import (
    LEVEL,
    Ranking,
    min_detectable_difference,
    rank_methods,
    t_interval,
    with_seeds,
)

__all__ = ["BEGIN", "END", "SCOREBOARD", "claim", "findings_text", "quality_rows",
           "readme_block"]

BEGIN, END = "<!-- findings:start -->", "<!-- findings:end -->"
#: scoreboard columns: metric -> header (fit s is a cost: lower is better, as for the losses)
SCOREBOARD = {"fit_s": "Fit s", "tv_test": "TV test", "tv_ood": "TV in-box", "nll": "NLL",
              "ood_auroc": "AUROC in-box", "ood_auroc_far": "AUROC far"}
#: the claims written under each scoreboard: metric -> what a leader is
CLAIMS = {"tv_test": "Closest to the reference posterior on test rows",
          "tv_ood": "Closest to it on in-box OOD inputs",
          "nll": "Lowest test NLL",
          "ood_auroc": "Separates in-box OOD inputs best (entropy AUROC)",
          "ood_auroc_far": "Separates far inputs best (entropy AUROC)"}
NOISE = {"tv_test": "tv_test_ref_noise", "tv_ood": "tv_ood_ref_noise"}


def quality_rows(df: pd.DataFrame) -> pd.DataFrame:
    """One row per quality fit (axis ``none``, one per method seed), ``fit_s`` = its median."""
    rows = df[(df["phase"] == "fit") & (df["axis"] == "none") & df["accuracy"].notna()]
    return with_seeds(rows.assign(fit_s=rows["median_s"]))


def _cell(values: pd.Series, metric: str, tied: bool) -> str:
    mean, lo, hi = t_interval(values)
    spec, half_spec = (".3g", ".2g") if metric == "fit_s" else (".3f", ".3f")
    text = format_cell(mean, spec)
    if pd.notna(lo):
        text += f" ± {format_cell((hi - lo) / 2, half_spec)}"
    return f"**{text}**" if tied else text


def scoreboard(rows: pd.DataFrame, rankings: dict[str, Ranking]) -> str:
    """Markdown table: methods down, :data:`SCOREBOARD` across, mean ± half-width over the
    seeds; the leader's tied group in bold (with two seeds or more: one cannot compare)."""
    metrics = [m for m in SCOREBOARD if m in rows and rows[m].notna().any()]
    records = []
    for method in method_order(rows["method"]):
        own = rows[rows["method"] == method]
        record = {"Method": label_of(method), "Seeds": str(own["method_seed"].nunique())}
        for metric in metrics:
            ranking = rankings.get(metric)
            tied = ranking is not None and ranking.n_seeds >= 2 and method in ranking.tied
            record[SCOREBOARD[metric]] = _cell(pd.to_numeric(own[metric], errors="coerce"),
                                               metric, tied)
        records.append(record)
    return markdown_table(pd.DataFrame(records, dtype=object))


def claim(ranking: Ranking, what: str, noise: float | None = None) -> str:
    """One sentence: the separated leader, or the tied group, with their means."""
    means = dict(zip(ranking.order, ranking.means, strict=True))
    fmt = lambda m: f"{label_of(m)} {means[m]:.3g}"  # noqa: E731
    if ranking.n_seeds < 2:
        text = f"{what}: {fmt(ranking.leader)} (one seed: not compared)"
    elif ranking.separated:
        runner = ranking.order[1] if len(ranking.order) > 1 else None
        text = f"{what}: {fmt(ranking.leader)}, apart from every other method" + (
            f" (next: {fmt(runner)})" if runner else "")
    else:
        text = (f"{what}: tied within seed noise: "
                + ", ".join(fmt(m) for m in ranking.tied))
    if noise is not None and pd.notna(noise) and means[ranking.leader] <= noise:
        text += f"; within the reference's own noise ({noise:.3g})"
    return text + "."


def _dataset_section(dataset: str, rows: pd.DataFrame) -> list[str]:
    rankings = {m: r for m in SCOREBOARD
                if m in rows and (r := rank_methods(rows, m)) is not None}
    n = int(rows["method_seed"].nunique())
    lines = [f"### {dataset}", "", scoreboard(rows, rankings).rstrip("\n"), ""]
    noise = {m: pd.to_numeric(rows[c], errors="coerce").dropna()
             for m, c in NOISE.items() if c in rows}
    noise = {m: float(v.iloc[0]) for m, v in noise.items() if len(v)}
    for metric, what in CLAIMS.items():
        if metric in rankings:
            lines.append(f"- {claim(rankings[metric], what, noise.get(metric))}")
    notes = []
    mdd = {SCOREBOARD[m]: min_detectable_difference(rows, m) for m in CLAIMS if m in rankings}
    if n >= 2 and mdd:
        notes.append(f"minimum detectable difference at {n} seeds (paired, 80 % power, 5 %): "
                     + ", ".join(f"{k} {v:.2g}" for k, v in mdd.items() if pd.notna(v)))
    if noise:
        notes.append("the reference's own noise (half-split TV; a TV below it cannot be told "
                     "from the reference): "
                     + ", ".join(f"{SCOREBOARD[m]} {v:.3g}" for m, v in noise.items()))
    notes += _convergence_notes(rows)
    if notes:
        text = "; ".join(notes)
        lines.append(f"- {text[0].upper()}{text[1:]}.")
    return [*lines, ""]


def _convergence_notes(rows: pd.DataFrame) -> list[str]:
    """For each method that records sampler diagnostics: how many of its seeds converged
    (predictive R-hat within the limit, no divergence); their numbers stay in the means."""
    lines = []
    if "predictive_r_hat_max" not in rows:
        return lines
    for method in method_order(rows["method"]):
        own = rows[rows["method"] == method]
        r_hat = pd.to_numeric(own["predictive_r_hat_max"], errors="coerce")
        if r_hat.isna().all():
            continue
        good = sum(converged(row) for _, row in own.iterrows())
        lines.append(f"{label_of(method)}: {good} of {len(own)} seeds converged (predictive "
                     f"R-hat <= {R_HAT_LIMIT}, no divergence; largest {r_hat.max():.3g}), "
                     "all in its means")
    return lines


def findings_text(df: pd.DataFrame) -> str:
    """The whole ``findings.md``: how to read it, then one section per quality dataset."""
    rows = quality_rows(df)
    if rows.empty:
        return "No quality cells in this run.\n"
    seeds = sorted(int(s) for s in rows["method_seed"].unique())
    lines = [
        f"{len(seeds)} method seed(s) ({', '.join(map(str, seeds))}), the same for every "
        f"method; mean ± half-width of the {LEVEL:.0%} t-interval over them; **bold**: the "
        "leader and every method a paired t-test over the seeds (5 %) cannot tell from it. "
        "TV: to the reference posterior, committed split; in-box OOD: uniform in the training "
        "box (noise images for images); far: a shell at 3x the largest training norm "
        "(docs/statistics.md).",
        "",
    ]
    for dataset in sorted(rows["dataset"].unique()):
        lines += _dataset_section(str(dataset), rows[rows["dataset"] == dataset])
    return "\n".join(lines).rstrip("\n") + "\n"


def readme_block(findings: str) -> str:
    """``findings`` between the README's markers, as the README must hold it."""
    return f"{BEGIN}\n{findings.rstrip(chr(10))}\n{END}"
