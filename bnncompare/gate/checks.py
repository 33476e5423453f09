"""Whether two sides can be compared at all, and what a reader of the verdict must know.

Runs of different profiles, devices or benchmark layouts, and a benchmark whose workload
changed, are refused (:class:`~bnncompare.gate.model.GateInputError`, exit 2): equal names
over different work or hardware would make any ratio meaningless. A baseline from another
CPU model is reported by :func:`same_cpu`; library-version and work-counter differences
become notes and the ``work`` column.

The ``side`` arguments are a side's pooled benchmarks by name (``.first`` is the side's first
:class:`~bnncompare.gate.model.Bench` of that name).
"""

from __future__ import annotations

from bnncompare import benchjson
from bnncompare.gate.model import (
    NOT_COMPARABLE,
    WORK_CHANGED,
    Bench,
    GateInputError,
    Run,
    as_list,
)

__all__ = [
    "changed_workloads",
    "check_layouts",
    "check_options",
    "check_profiles",
    "identity_notes",
    "same_cpu",
    "version_notes",
    "work",
]


def check_options(threshold, alpha, geomean_threshold, min_effect_s) -> dict:
    """The thresholds as floats, or ValueError naming the first out of its range."""
    checks = {
        "threshold": (threshold, threshold > 1, "> 1"),
        "geomean_threshold": (geomean_threshold, geomean_threshold > 1, "> 1"),
        "alpha": (alpha, 0 < alpha < 1, "in (0, 1)"),
        "min_effect_s": (min_effect_s, min_effect_s >= 0, ">= 0"),
    }
    for name, (value, ok, rule) in checks.items():
        if not ok:
            raise ValueError(f"{name} must be {rule}, got {value!r}")
    return {name: float(value) for name, (value, _, _) in checks.items()}


def check_profiles(base_runs: list, new_runs: list) -> None:
    """Runs of different profiles time different workloads under the same names; runs of
    different devices are refused too (:func:`_check_devices`)."""
    named = [(r.path, benchjson.run_profile(r.doc)) for r in (*base_runs, *new_runs)]
    profiles = {p for _, p in named if p}
    if len(profiles) > 1:
        which = ", ".join(f"{path} is {p!r}" for path, p in named if p)
        raise GateInputError(
            f"runs of different profiles ({which}): their workloads differ, so their times "
            "cannot be compared; compare runs of one profile")
    _check_devices(base_runs, new_runs)


def _check_devices(base_runs: list, new_runs: list) -> None:
    """A GPU time is no baseline for a CPU time (nor the reverse): the calibration is timed
    on the CPU either way, so it cannot put the two devices on one scale. ``device`` is
    ``machine_info["device"]`` (``bnncompare run --device``; absent = cpu)."""
    sides = [(side, r.path, benchjson.run_device(r.machine_info))
             for side, runs in (("BASE", base_runs), ("NEW", new_runs)) for r in runs]
    if len({device for _, _, device in sides}) > 1:
        which = ", ".join(f"{side} {path} ran on {device}" for side, path, device in sides)
        raise GateInputError(
            f"runs on different devices ({which}): a CPU run and a GPU run cannot be "
            "compared; compare runs of one device (bnncompare report puts them side by side)")


def changed_workloads(base: dict, new: dict, skip: bool) -> set:
    """Names whose workload differs between the sides; GateInputError unless ``skip``."""
    changed = {name for name in base.keys() & new.keys()
               if base[name].first.workload and new[name].first.workload
               and base[name].first.workload != new[name].first.workload}
    if changed and not skip:
        name = sorted(changed)[0]
        more = f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
        raise GateInputError(
            f"{new[name].first.fullname}: same benchmark, different workload{more}: "
            f"{base[name].first.workload} vs {new[name].first.workload}")
    return changed


def check_layouts(base: dict, new: dict, base_path: str, new_path: str) -> None:
    """One side records workloads and the other does not: matching could only be by params,
    and equal params then hide different work (seen once: NN fit ids carried NUTS's draws)."""
    recorded = [any(b.first.workload for b in side.values()) for side in (base, new)]
    if recorded[0] != recorded[1]:
        old = base_path if recorded[1] else new_path
        raise GateInputError(
            f"{base_path} and {new_path} share no benchmark workload: {old} records none "
            "(a benchmark layout from before workloads were recorded)")


def same_cpu(base, new) -> str | None:
    """Why two sides' runs were not recorded on one CPU model, or None when they were.

    Cross-machine ratios do not hold (measured: an AMD EPYC vs an Intel Xeon moved predict
    cells 0.6-2.6x after calibration), so a baseline from another CPU model cannot gate.

    Parameters
    ----------
    base, new : Run or sequence of Run

    Returns
    -------
    str or None
    """
    models = {side: {benchjson.cpu_model(r.doc) for r in as_list(runs)}
              for side, runs in (("BASE", base), ("NEW", new))}
    if None in models["BASE"] | models["NEW"]:
        return "a run does not record its CPU model (machine_info.cpu.brand_raw)"
    if models["BASE"] != models["NEW"]:
        return (f"BASE was recorded on {' / '.join(sorted(models['BASE']))}, NEW on "
                f"{' / '.join(sorted(models['NEW']))}")
    return None


def identity_notes(base: dict, new: dict) -> list:
    """A note when a side recorded no workload (its benchmarks matched by params only)."""
    old = [side for side, p in (("BASE", base), ("NEW", new))
           if p and not any(b.first.workload for b in p.values())]
    if not old:
        return []
    return [f"{' and '.join(old)} recorded no workload: benchmarks matched by params only"]


def version_notes(base: Run, new: Run) -> list:
    """A note per library (torch, pyro) whose version differs between the runs."""
    notes = []
    for key in ("torch", "pyro"):
        a, c = base.machine_info.get(key), new.machine_info.get(key)
        if a != c:
            notes.append(f"{key} differs ({a} vs {c}): time ratios include the library change")
    return notes


def work(b: Bench, n: Bench, base_info: dict, new_info: dict) -> tuple:
    """Classify a change of ``n_grad_evals``: ("", ""), work changed, or not comparable."""
    before, after = b.extra_info.get("n_grad_evals"), n.extra_info.get("n_grad_evals")
    if before is None or after is None or before == after:
        return "", ""
    change = f"n_grad_evals {before} -> {after}"
    # The counter is deterministic only for a fixed seed and fixed library versions; if
    # either differs the change may not be ours, so it is not attributed to the code.
    reasons = [
        f"{key} {a} vs {c}"
        for key, a, c in (
            ("torch", base_info.get("torch"), new_info.get("torch")),
            ("pyro", base_info.get("pyro"), new_info.get("pyro")),
            ("seed", b.extra_info.get("seed"), n.extra_info.get("seed")),
        )
        if a is None or a != c
    ]
    if reasons:
        return NOT_COMPARABLE, f"{change} ({', '.join(reasons)})"
    return WORK_CHANGED, change
