"""Check of the ``device="cuda"`` path, run by hand on a GPU machine (CI has none).

Usage: ``python benchmarks/gpu_check.py`` from the repo root; writes ``gpu_check.json`` to
``$OUT`` (or the current folder). Not collected by pytest (no ``test_`` prefix).
Checks: every method fits and predicts on CUDA (accuracy, rows on the simplex, NumPy out,
same seed -> same output), and CPU-vs-CUDA times where the GPU should win (S = 10^4 draws,
n = 10^5 rows).
"""

from __future__ import annotations

import json
import os
import time
import warnings

import torch

import bnncompare as bc
from bnncompare import net


def _fit_predict(method: str, device: str, ds) -> dict:
    def fit():
        return bc.make_method(method, hidden_sizes=(20, 50, 20), activation="relu",
                              random_state=0, device=device,
                              **bc.METHODS[method].settings_for("gpu")
                              ).fit(ds.x_train, ds.y_train)

    est, twin = fit(), fit()
    proba = est.predict_proba(ds.x_test)
    return {"acc": float((est.predict(ds.x_test) == ds.y_test).mean()),
            "fit_s": est.fit_time_s_, "s_per_grad": est.fit_time_s_ / est.n_grad_evals_,
            "rowsum_err": float(abs(proba.sum(1) - 1).max()),
            "same_seed_max_diff": float(abs(proba - twin.predict_proba(ds.x_test)).max()),
            "type": type(proba).__name__,
            "samples_shape": list(est.predict_proba_samples(ds.x_test).shape)}


def _predict_ms(device: str, num_draws: int) -> float:
    spec = net.MLPSpec(64, 10, (50,))
    x = torch.randn(540, 64, device=device)
    theta = torch.randn(num_draws, spec.n_params, device=device) * 0.1
    net.mean_proba(spec, theta, x)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(3):
        net.mean_proba(spec, theta, x)
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / 3 * 1e3


def main() -> dict:
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    out = {"torch": torch.__version__, "gpu": torch.cuda.get_device_name(0)}
    iris = bc.load_dataset("iris", seed=0)
    for method in bc.METHODS:
        out[method] = {dev: _fit_predict(method, dev, iris) for dev in ("cpu", "cuda")}
        print(method, json.dumps(out[method]), flush=True)
    for dev in ("cpu", "cuda"):
        for draws in (1000, 10000):
            out[f"predict_{dev}_S{draws}_ms"] = _predict_ms(dev, draws)
    syn = bc.load_dataset("synthetic", n_train=100000, n_test=1000, seed=0)
    for dev in ("cpu", "cuda"):
        est = bc.SVIClassifier(hidden_sizes=(16, 16), activation="tanh", num_steps=100,
                               random_state=0, device=dev).fit(syn.x_train, syn.y_train)
        out[f"svi_fit_n1e5_{dev}_s"] = est.fit_time_s_
    with open(os.path.join(os.environ.get("OUT", "."), "gpu_check.json"), "w") as fh:
        json.dump(out, fh, indent=1)
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
