"""Choosing how an absent oxide column is completed, on the training data (issue 20, item 5).

Five source-grouped folds of the training set: a network of the shipped configuration is fitted
on four (with the synthetic rows), and on the fifth each minor oxide is removed in turn and
completed by each candidate rule of :mod:`minml.classifier._absent`; the answers (the network's
top class) are scored against the labels, beside the full row's.  LEPR is not read.

With ``--pipeline`` the whole of ``minml.classify`` runs on the held-out rows instead (the sum
check, the completion caps, the outlier judgement: "unknown" counts as wrong), rule by rule
(:data:`PIPELINE`); that is the measure the shipped ``_absent.TEMPERATURE`` was chosen on.

Run: ``PYTHONPATH=src:. python benchmarks/absent_folds.py SHARED_DATA [--cache DIR] [--pipeline]``
With ``--agreement`` the rows whose answer depends on the removed oxide are counted, for
thresholds of the mixture's top share (``_absent.AGREEMENT``): how many, how many of them the
completion's answer and the mixture's top class name rightly, and the accuracy of the rest.

With ``--blank`` the other case of a minor oxide not analysed is measured: a column the table
has, blank in a row.  Such cells are read as 0 (as the training rows' blank cells were); the
alternative is to complete them per row as an absent column is.  The rows of the held-out
sources with a blank minor cell are classified both ways (the network's top class).  Measured
2026-12-07 (fold networks of 2026-12-07 04:35): 80,608 such rows (P2O5 blank in most), read as
0 accuracy 0.9978 (175 wrong), completed 0.9978 (179 wrong): a tie, so blank cells stay 0.  This
is why a table without a MnO column can answer otherwise than the same table with the column
where its cell was blank (``table_zoo.py`` counts those rows apart).

(the fitted fold models are kept in ``--cache`` and reused: the five fits take ~30 min on 2 busy
cores, each measurement 1-4 min after).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold

from minml.classifier._absent import class_trials
from minml.classifier._runtime import Runtime
from minml.classifier.model import MineralClassifier
from minml.training.augment import synthetic_arrays
from minml.training.datasets import load_training
from minml.training.evaluation import training_arrays
from minml.training.shipped import DEFAULT_PARAMS

REMOVED = ("Na2O", "TiO2", "K2O", "MnO", "Cr2O3", "P2O5")
TEMPERATURES = (1.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, np.inf)


def fold_models(X, y, groups, cache: Path) -> list[tuple[Runtime, np.ndarray]]:
    """The five fold models (fitted once, then read from ``cache``) and their held-out rows."""
    synthetic = synthetic_arrays(random_state=DEFAULT_PARAMS["random_state"])
    out = []
    for k, (train, test) in enumerate(GroupKFold(n_splits=5).split(X, y, groups)):
        path = cache / f"fold{k}.npz"
        if not path.exists():
            model = MineralClassifier(**DEFAULT_PARAMS).fit(
                np.vstack([X[train], synthetic[0]]), np.concatenate([y[train], synthetic[1]])
            )
            model.save(path)
        out.append((Runtime.load(path), test))
    return out


def choices(runtime: Runtime, values: np.ndarray, removed: str) -> dict[str, np.ndarray]:
    """The network's top class under each candidate completion rule of ``removed``."""
    fit, trials = class_trials(runtime, values, [removed])
    proba = np.stack([runtime.calibrated_proba(runtime.scaled(np.nan_to_num(t))) for t in trials])  # K, n, C
    rows = np.arange(len(values))
    zero = values.copy()
    zero[:, list(runtime.oxides).index(removed)] = 0.0
    out = {"zero": runtime.calibrated_proba(runtime.scaled(zero)).argmax(axis=1)}
    for t in TEMPERATURES:
        w = np.exp((fit - fit.max(axis=1, keepdims=True)) / t) if np.isfinite(t) else np.ones_like(fit)
        w /= w.sum(axis=1, keepdims=True)
        mixture = np.einsum("nk,knc->nc", w, proba)
        out[f"mixture T={t:g}"] = proba[mixture.argmax(axis=1), rows].argmax(axis=1)
        own = w * proba[np.arange(len(trials)), :, np.arange(len(trials))].T  # w_k p_k(trial_k)
        out[f"product T={t:g}"] = proba[own.argmax(axis=1), rows].argmax(axis=1)
    out["gda"] = proba[fit.argmax(axis=1), rows].argmax(axis=1)
    return out


PIPELINE = (("mixture", 1.0), ("mixture", 16.0), ("mixture", 32.0), ("product", 64.0), ("product", 256.0))
"""The rules measured through the whole of ``classify`` (--pipeline): (RULE, TEMPERATURE)."""


def pipeline(models, X, y, removed_list) -> None:
    """Accuracy of ``minml.classify`` itself (unknown counts as wrong: the totals, the outlier
    judgement and the caps of the completion all apply) on each fold's held-out rows."""
    import warnings

    import pandas as pd

    from minml.classifier import _absent
    from minml.classifier.features import MODEL_OXIDES
    from minml.classifier.predict import classify

    print("whole classify (unknown counts as wrong); change against the full rows")
    for removed in removed_list:
        right: dict[str, list] = {}
        for runtime, test in models:
            table = pd.DataFrame(X[test], columns=list(MODEL_OXIDES))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                right.setdefault("full", []).append(classify(table, model=runtime)["mineral"].to_numpy() == y[test])
                for rule, temperature in PIPELINE:
                    _absent.RULE, _absent.TEMPERATURE = rule, temperature
                    found = classify(table.drop(columns=[removed]), model=runtime)["mineral"].to_numpy()
                    right.setdefault(f"{rule} T={temperature:g}", []).append(found == y[test])
        base = np.concatenate(right["full"]).mean()
        line = ", ".join(f"{k} {np.concatenate(v).mean() - base:+.4f}" for k, v in right.items() if k != "full")
        print(f"{removed:<6} full {base:.4f}; change: {line}", flush=True)


AGREEMENTS = (0.5, 0.6, 0.7)
"""The thresholds of the mixture's top share measured with --agreement."""


def agreement(models, X, y, removed_list) -> None:
    """Rows whose answer depends on the removed oxide, per threshold of :data:`AGREEMENTS`: the
    fold networks with the shipped model's temperature, the mixture of ``_absent``."""
    from minml.classifier._absent import TEMPERATURE
    from minml.classifier.calibration import apply_temperature
    from minml.classifier.predict import load_default

    temperature = load_default().calibration.temperature
    print(f"mixture's top share below the threshold (fold networks at the shipped temperature {temperature:.3f})")
    for removed in removed_list:
        share, by_completion, by_mixture, full_right = [], [], [], []
        for runtime, test in models:
            usable = np.isfinite(X[test]).all(axis=1)
            values = X[test][usable].astype(np.float32)
            truth = np.searchsorted(runtime.classes, y[test][usable])
            full_right.append(runtime.proba(runtime.scaled(values)).argmax(axis=1) == truth)
            fit, trials = class_trials(runtime, values, [removed])
            weight = np.exp(fit / TEMPERATURE)
            weight /= weight.sum(axis=1, keepdims=True)
            proba = [apply_temperature(runtime.proba(runtime.scaled(np.nan_to_num(t))), temperature) for t in trials]
            mixture = sum(w[:, None] * p for w, p in zip(weight.T, proba, strict=True))
            chosen = np.stack(proba)[mixture.argmax(axis=1), np.arange(len(values))].argmax(axis=1)
            share.append(mixture.max(axis=1))
            by_completion.append(chosen == truth)
            by_mixture.append(mixture.argmax(axis=1) == truth)
        top, completion, mixed, full = (np.concatenate(a) for a in (share, by_completion, by_mixture, full_right))
        for threshold in AGREEMENTS:
            flagged = top < threshold
            print(
                f"{removed:<6} below {threshold}: {int(flagged.sum()):>5} rows ({100 * flagged.mean():.2f} %), "
                f"right by the completion {int(completion[flagged].sum())}, by the mixture {int(mixed[flagged].sum())}, "
                f"by the full row {int(full[flagged].sum())}; the rest {completion[~flagged].mean():.4f} "
                f"(full rows {full[~flagged].mean():.4f})"
            )


def blank_cells(table, training: Path, oxides) -> np.ndarray:
    """Rows x ``oxides``: True where the training row's own table left every column of that oxide
    blank (read again from its file; the glass rows, read from another file, count as none)."""
    from minml.io import read_table
    from minml.tables.checks import check_oxides

    out = np.zeros((len(table), len(oxides)), dtype=bool)
    for name, part in table.groupby("source_file", sort=False):
        raw = read_table(training / str(name))
        mapped = check_oxides(raw, total_range=None).mapping.mapped
        at = part["source_row"].to_numpy(dtype=int) - 2  # the Excel row number (row 1 is the header)
        rows = part.index.to_numpy()
        for j, oxide in enumerate(oxides):
            columns = [c for c, species in mapped.items() if species == oxide]
            out[rows, j] = raw[columns].isna().all(axis=1).to_numpy()[at] if columns else True
    return out


def blank(models, X, y, blanks: np.ndarray, oxides) -> None:
    """Held-out rows with a blank minor cell: accuracy with the cells read as 0 and completed."""
    from minml.classifier._absent import complete_absent

    right: dict[str, list] = {"read as 0": [], "completed": []}
    labels = []
    for runtime, test in models:
        rows = test[blanks[test].any(axis=1) & np.isfinite(X[test]).all(axis=1)]
        labels.append(y[rows])
        values = X[rows].astype(np.float32)
        truth = np.searchsorted(runtime.classes, y[rows])
        completed = values.copy()
        patterns: dict[tuple, list] = {}
        for i, r in enumerate(rows):
            patterns.setdefault(tuple(np.flatnonzero(blanks[r])), []).append(i)
        for pattern, at in patterns.items():
            completed[at] = complete_absent(runtime, values[at], [oxides[j] for j in pattern]).values
        for name, v in (("read as 0", values), ("completed", completed)):
            right[name].append(runtime.calibrated_proba(runtime.scaled(v)).argmax(axis=1) == truth)
    held = np.concatenate(labels)
    print(f"held-out rows with a blank cell of {', '.join(oxides)}: {len(held)}")
    for name, v in right.items():
        ok = np.concatenate(v)
        worst = {c: ok[held == c].mean() for c in np.unique(held)}
        low = ", ".join(f"{c} {a:.4f}" for c, a in sorted(worst.items(), key=lambda t: t[1])[:3])
        print(f"{name:<10} accuracy {ok.mean():.4f} ({int((~ok).sum())} wrong); lowest: {low}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("shared", type=Path)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/minml-absent-folds"))
    parser.add_argument("--removed", nargs="+", default=list(REMOVED), help="the oxides removed in turn")
    parser.add_argument("--pipeline", action="store_true", help="measure the whole of classify, rule by rule")
    parser.add_argument("--agreement", action="store_true", help="count the rows whose answer depends on the oxide")
    parser.add_argument("--blank", action="store_true", help="blank cells of present columns: 0 or completed")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    table, _ = load_training(args.shared)
    X, y, groups = training_arrays(table)
    models = fold_models(X, y, groups, args.cache)
    print(f"command: PYTHONPATH=src:. python benchmarks/absent_folds.py {args.shared}")
    if args.pipeline:
        pipeline(models, X, y, args.removed)
        return
    if args.agreement:
        agreement(models, X, y, args.removed)
        return
    if args.blank:
        blank(models, X, y, blank_cells(table, args.shared / "training", args.removed), args.removed)
        return
    print(f"training rows {len(y)}, 5 source-grouped folds; accuracy of the top class on held-out rows")
    for removed in args.removed:
        right: dict[str, list] = {}
        for runtime, test in models:
            values = X[test].astype(np.float32)
            truth = np.searchsorted(runtime.classes, y[test])
            full = runtime.calibrated_proba(runtime.scaled(values)).argmax(axis=1)
            right.setdefault("full", []).append(full == truth)
            for name, top in choices(runtime, values, removed).items():
                right.setdefault(name, []).append(top == truth)
        base = np.concatenate(right["full"]).mean()
        line = ", ".join(f"{k} {np.concatenate(v).mean() - base:+.4f}" for k, v in right.items() if k != "full")
        print(f"{removed:<6} full {base:.4f}; change: {line}")


if __name__ == "__main__":
    main()
