"""A fitted method held against a stored reference posterior: TV and agreement."""

from __future__ import annotations

from bnncompare import data, metrics
from bnncompare.reference.spec import same_inputs
from bnncompare.reference.store import find_reference

__all__ = ["reference_scores"]


def reference_scores(est, ds: data.Dataset, root=None) -> dict | None:
    """How close fitted ``est``'s predictive is to the stored reference posterior's.

    Parameters
    ----------
    est : fitted estimator
    ds : Dataset
        Must be the reference's split (checked by its test rows' fingerprint).
    root : path, optional

    Returns
    -------
    dict or None
        ``tv_test``, ``tv_ood`` (mean ``metrics.total_variation``) and ``agreement_test``,
        ``agreement_ood`` (``metrics.agreement``) on the reference's test rows and OOD inputs,
        and beside each TV the reference's own noise on those inputs, ``tv_test_ref_noise``,
        ``tv_ood_ref_noise`` (the mean TV between its two halves of chains, when its
        diagnostics record it: a method below it cannot be told from the reference); None when
        no reference exists for ``ds.name`` with ``est``'s architecture (hidden sizes,
        activation, prior scale, classes) and these inputs.
    """
    ref = find_reference(ds.name, root)
    if ref is None or not ref.matches(est):
        return None
    info = ref.meta["data"]
    x_ood = data.make_ood(ds, info["ood_kind"], info["n_ood"], seed=info["ood_seed"])
    if not (same_inputs(ds.x_test, info["fingerprint"]["test"])
            and same_inputs(x_ood, info["fingerprint"]["ood"])):
        return None
    out = {}
    for name, x in (("test", ds.x_test), ("ood", x_ood)):
        p = est.predict_proba(x)
        out[f"tv_{name}"] = float(metrics.total_variation(p, ref.predictive(name)).mean())
        out[f"agreement_{name}"] = float(metrics.agreement(p, ref.predictive(name)))
    halves = ref.meta.get("diagnostics", {}).get("tv_halves_mean", {})
    out.update({f"tv_{name}_ref_noise": float(halves[name]) for name in ("test", "ood")
                if name in halves})
    return out
