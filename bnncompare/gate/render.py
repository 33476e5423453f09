"""The gate's output: the text table with its summary line, and the flagged-benchmarks file."""

from __future__ import annotations

from pathlib import Path

from bnncompare.gate.model import (
    FASTER,
    GEOMEAN_THRESHOLD,
    MISSING,
    NEW,
    SAME,
    SLOWER,
    WORK_CHANGED,
    WORKLOAD_CHANGED,
    GateResult,
)

__all__ = ["format_result", "write_flagged"]


def format_result(result: GateResult) -> str:
    """Render a plain aligned text table, any notes, and a one-line summary.

    Parameters
    ----------
    result : GateResult

    Returns
    -------
    str
        Rows sorted worst first; the last line starts with ``PASS`` or ``FAIL``.
    """
    paired = result.options.get("paired")
    head = ("verdict", "ratio", "pairs" if paired else "p", "base", "new", "benchmark", "work")
    rows = sorted(result.rows, key=_sort_key)
    cells = [head, *(_cells(r) for r in rows)]
    if not any(c[-1] for c in cells[1:]):
        cells = [c[:-1] for c in cells]  # drop an all-empty work column
    widths = [max(len(c[i]) for c in cells) for i in range(len(cells[0]))]
    lines = [_align(c, widths) for c in cells]
    lines += [f"note: {n}" for n in result.notes]
    return "\n".join([*lines, "", _summary(result)])


def _sort_key(row: dict) -> tuple:
    order = {SLOWER: 0, FASTER: 1, SAME: 2, WORKLOAD_CHANGED: 3, NEW: 4, MISSING: 5}
    return (order[row["verdict"]], -(row["ratio"] or 0.0), row["fullname"])


def _cells(row: dict) -> tuple:
    ratio = "-" if row["ratio"] is None else f"{row['ratio']:.3f}"
    if row["ratio"] is None:
        p = "-"
    elif row["pair_ratios"]:  # paired: each pair's ratio, which decided
        p = " ".join("-" if r is None else f"{r:.2f}" for r in row["pair_ratios"])
    else:  # "min": too few rounds for the rank test, the min-ratio rule decided
        p = "min" if row["p_value"] is None else f"{row['p_value']:.3g}"
    work = f"{row['work']}: {row['work_note']}" if row["work"] else ""
    times = (_fmt_s(row["base_median_s"]), _fmt_s(row["new_median_s"]))
    return (row["verdict"], ratio, p, *times, row["fullname"], work)


def _fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-6:.3g} us"


def _align(cells: tuple, widths: list) -> str:
    # Numbers right-aligned, text left-aligned; trailing spaces stripped for clean logs.
    numeric = {1, 2, 3, 4}
    parts = [
        c.rjust(w) if i in numeric else c.ljust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    ]
    return "  ".join(parts).rstrip()


def _summary(result: GateResult) -> str:
    counts = {v: 0 for v in (SLOWER, FASTER, SAME, NEW, MISSING)}
    counts.update({WORKLOAD_CHANGED: 0} if any(r["verdict"] == WORKLOAD_CHANGED
                                             for r in result.rows) else {})
    for r in result.rows:
        counts[r["verdict"]] += 1
    parts = [f"{n} {v}" for v, n in counts.items()]
    work = sum(r["work"] == WORK_CHANGED for r in result.rows)
    if work:
        parts.append(f"{work} work changed")
    parts.append(_geomean_text(result))
    if result.flagged:
        parts.append("flagged: " + ", ".join(result.flagged))
    return ("PASS: " if result.passed else "FAIL: ") + "; ".join(parts)


def _geomean_text(result: GateResult) -> str:
    if not result.geomean_n:
        return "geomean n/a (no benchmark above the min effect)"
    limit = result.options.get("geomean_threshold", GEOMEAN_THRESHOLD)
    if result.pair_geomeans:
        each = ", ".join(f"{g:.3f}" for g in result.pair_geomeans)
        verdict = "all" if result.geomean_failed else "not all"
        return (f"geomean {result.geomean:.3f}; per pair {each}: {verdict} > {limit:.2f}, "
                f"over {result.geomean_n}")
    sign = ">" if result.geomean_failed else "<="
    return f"geomean {result.geomean:.3f} {sign} {limit:.2f} over {result.geomean_n}"


def write_flagged(result: GateResult, path) -> None:
    """Write the node ids a confirming rerun should run, one per line.

    The flagged benchmarks' fullnames followed by the calibration node id(s), which the
    rerun needs to normalise its times. The file is empty when nothing was flagged on its
    own: on a failed gate that means the suite-wide geometric-mean rule failed, so rerun
    everything; on a passed gate there is nothing to rerun.

    Parameters
    ----------
    result : GateResult
    path : str or os.PathLike
    """
    ids = [*result.flagged, *result.calibration] if result.flagged else []
    Path(path).write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
