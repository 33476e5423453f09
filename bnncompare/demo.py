"""``bnncompare demo``: can each method say "I don't know"?

Fits every registered method with its quick ``demo`` settings, then asks each about real test
images and about pure-noise images (the seed notebook's experiment). A method says "I don't
know" when its predictive entropy exceeds the 95th percentile of its own entropy on real test
inputs — a threshold set from in-distribution data only, so no method is tuned on the noise.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from bnncompare import data, metrics
from bnncompare.evaluate import label_index
from bnncompare.methods import METHODS, make_method, select_methods

__all__ = ["ask_methods", "run_demo"]

HIDDEN = {"digits": (50,), "iris": (20, 50, 20)}
REFUSAL_QUANTILE = 0.95
N_SHOWN = 5


def ask_methods(ds: data.Dataset, x_ood: np.ndarray, *, seed: int = 0,
                methods: tuple[str, ...] | None = None) -> dict:
    """Fit each method (default: every registered one) with its ``demo`` settings on ``ds``
    and collect its predictions on test and OOD inputs."""
    answers = {}
    for name in methods or tuple(METHODS):
        est = make_method(name, hidden_sizes=HIDDEN.get(ds.name, (50,)), activation="relu",
                          random_state=seed, **METHODS[name].settings_for("demo"))
        start = time.perf_counter()
        with warnings.catch_warnings():  # a short chain's R-hat warning is expected here
            warnings.simplefilter("ignore", RuntimeWarning)
            est.fit(ds.x_train, ds.y_train)
        test, ood = est.predict_proba_samples(ds.x_test), est.predict_proba_samples(x_ood)
        answers[name] = {"est": est, "test": test, "ood": ood,
                         "seconds": time.perf_counter() - start}
    return answers


def _summary_row(name: str, answer: dict, y_idx: np.ndarray) -> dict:
    # the same numbers the benchmarks record, plus the demo's refusal rule
    summary = metrics.uncertainty_summary(answer["test"], y_idx, answer["ood"])
    h_test = metrics.predictive_entropy(answer["test"])
    threshold = float(np.quantile(h_test, REFUSAL_QUANTILE))
    return {
        "method": name, "fit+predict s": answer["seconds"],
        "accuracy": summary["accuracy"],
        "entropy test": summary["mean_entropy_test"],
        "entropy noise": summary["mean_entropy_ood"],
        "AUROC entropy": summary["ood_auroc"], "AUROC MI": summary["ood_auroc_mi"],
        "says IDK on noise": metrics.refusal_rate(
            metrics.predictive_entropy(answer["ood"]), threshold),
        "threshold": threshold,
    }


def _format_table(rows: list[dict]) -> str:
    cols = ["method", "accuracy", "entropy test", "entropy noise", "AUROC entropy",
            "AUROC MI", "says IDK on noise", "fit+predict s"]
    lines = [" | ".join(f"{c:>17}" for c in cols)]
    for row in rows:
        cells = [f"{row[c]:>17}" if isinstance(row[c], str) else f"{row[c]:>17.3f}"
                 for c in cols]
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def _verdict(proba: np.ndarray, classes: np.ndarray, threshold: float) -> str:
    entropy = float(metrics.predictive_entropy(proba[None])[0])
    if entropy > threshold:
        return f"I don't know (H={entropy:.2f})"
    top = int(np.argmax(proba))
    return f"{classes[top]} ({proba[top]:.0%})"


def _figure(ds, x_ood, answers, rows, path: Path) -> None:
    shown = [("test", ds.x_test), ("ood", x_ood)]  # (answers key, inputs)
    fig, axes = plt.subplots(2, N_SHOWN + 1, figsize=(2.3 * (N_SHOWN + 1), 5.6),
                             gridspec_kw={"width_ratios": [1] * N_SHOWN + [1.6]})
    for r, (kind, x) in enumerate(shown):
        for c in range(N_SHOWN):
            ax = axes[r, c]
            raw = x[c] * ds.scale + ds.mean
            if ds.image_shape:
                ax.imshow(raw.reshape(ds.image_shape), cmap="gray_r")
            ax.set_xticks([]), ax.set_yticks([])
            lines = [f"{METHODS[m].method_label()}: "
                     + _verdict(answers[m][kind][:, c].mean(0), answers[m]["est"].classes_,
                                row["threshold"])
                     for m, row in zip(answers, rows, strict=True)]
            ax.set_xlabel("\n".join(lines), fontsize=7)
        axes[r, 0].set_ylabel("real test digit" if kind == "test" else "pure noise")
    for r, (kind, _) in enumerate(shown):
        ax = axes[r, -1]
        for m in answers:
            h = metrics.predictive_entropy(answers[m][kind])
            ax.hist(h, bins=20, range=(0, np.log(ds.n_classes)), histtype="step",
                    label=METHODS[m].method_label(), color=METHODS[m].color)
        ax.set_title(f"predictive entropy, {'test' if kind == 'test' else 'noise'}",
                     fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle(f"Can it say 'I don't know'? ({ds.name}; IDK = entropy above the "
                 f"{REFUSAL_QUANTILE:.0%} quantile on real test data)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def run_demo(dataset: str = "digits", out: Path = Path("results/demo"), *,
             seed: int = 0, methods: str | None = None) -> list[dict]:
    """Fit, ask, print a table and save ``out/idk_demo.png``; returns the table rows.

    ``methods`` is a comma-separated subset of the registry (None: all).
    """
    chosen = select_methods(methods)
    ds = data.load_dataset(dataset, seed=seed)
    x_ood = data.make_ood(ds, data.default_ood_kind(ds), len(ds.x_test), seed=seed)
    print(f"{ds.name}: {ds.n_train} training rows, {ds.n_classes} classes; OOD = "
          f"{data.default_ood_kind(ds)} ({len(x_ood)} inputs). Fitting {', '.join(chosen)} ...",
          flush=True)
    answers = ask_methods(ds, x_ood, seed=seed, methods=chosen)
    y_idx = label_index(next(iter(answers.values()))["est"], ds.y_test)
    rows = [_summary_row(m, a, y_idx) for m, a in answers.items()]
    print(_format_table(rows))
    out.mkdir(parents=True, exist_ok=True)
    _figure(ds, x_ood, answers, rows, out / "idk_demo.png")
    print(f"figure: {out / 'idk_demo.png'}")
    return rows
