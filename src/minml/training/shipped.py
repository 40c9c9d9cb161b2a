"""Training the shipped model from the shared data, and writing its model card.

``minml train`` and ``minml evaluate`` call these.  The shipped model is this project's own
training output: ``minml/data/default-v1.npz`` with a sidecar ``default-v1.json`` (data hashes,
hyperparameters, training time), and ``docs/model_card.md`` (made by :func:`write_model_card`).
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from minml._version import __version__
from minml.chemistry.misfit import fold_divalent
from minml.classifier.features import MODEL_OXIDES
from minml.classifier.model import MineralClassifier
from minml.classifier.predict import classify, classify_checked
from minml.io import read_table
from minml.training.augment import augmented_classes, synthetic_arrays
from minml.training.datasets import LEPR_ALL_FILE, LEPR_FILE, load_glass, load_training
from minml.training.evaluation import (
    expected_calibration_error,
    grouped_cv,
    lepr_class,
    lepr_correct,
    lepr_unsettled,
    nested_cv,
    per_class_scores,
    training_arrays,
)

__all__ = ["DEFAULT_PARAMS", "NESTED_GRID", "evaluate_model", "train_default", "write_model_card"]

DEFAULT_PARAMS = {"kind": "bnn", "hidden": (32, 32), "epochs": 20, "random_state": 0}
"""Hyperparameters of the shipped network: the width the nested CV's inner folds chose most
often (with synthetic rows: (32, 32) in 3 of 5 outer folds)."""

NESTED_GRID = {"hidden": [(32, 32), (64, 64)]}
"""What the inner folds of the nested cross-validation choose from."""

CALIBRATION_FOLDS = 5
"""Source-grouped folds whose held-out probabilities fit the shipped calibration."""

AUGMENT = True
"""Train on natural + synthetic solid-solution analyses (:mod:`minml.training.augment`); chosen on
source-grouped CV, where synthetic rows join every training fold and are never scored."""


def _synthetic() -> tuple[np.ndarray, np.ndarray] | None:
    """The synthetic rows as (X, y), or None without augmentation."""
    if not AUGMENT:
        return None
    return synthetic_arrays(random_state=DEFAULT_PARAMS["random_state"])


def train_default(shared, out_path, *, progress: bool = False) -> dict:
    """Train the shipped model on all training data and save it with its metadata.

    Parameters
    ----------
    shared : path-like
        The shared data folder (``training/``, ``test/``).
    out_path : path-like
        The ``.npz`` to write; a ``.json`` sidecar goes beside it.

    Returns
    -------
    dict
        The sidecar's content.
    """
    table, report = load_training(shared, progress=progress)
    X_natural, y_natural, groups = training_arrays(table)
    X, y = X_natural, y_natural
    stoichiometry = fold_divalent(X_natural, MODEL_OXIDES, table)  # NiO, CoO, ZnO as FeO for the misfit
    synthetic = _synthetic()
    if synthetic is not None:
        X, y = np.vstack([X, synthetic[0]]), np.concatenate([y, synthetic[1]])
        stoichiometry = np.vstack([stoichiometry, synthetic[0]])
    start = time.perf_counter()
    model = MineralClassifier(**DEFAULT_PARAMS, progress=progress).fit(X, y, misfit_values=stoichiometry)
    seconds = time.perf_counter() - start
    model.calibrate(X_natural, y_natural, groups=groups, folds=CALIBRATION_FOLDS, extra=synthetic, progress=progress)
    calibration_seconds = time.perf_counter() - start - seconds
    out_path = Path(out_path)
    model.save(out_path)
    meta = {
        "model": out_path.name,
        "minml_version": __version__,
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in DEFAULT_PARAMS.items()},
        "training_rows": len(y),
        "synthetic_rows": 0 if synthetic is None else len(synthetic[1]),
        "rows_per_class": {str(k): int(v) for k, v in pd.Series(y).value_counts().sort_index().items()},
        "training_set_sha256": report["content_sha256"],
        "glass_sha256": report["glass"]["content_sha256"],
        "input_files_sha256": {k: v["input_sha256"] for k, v in report["classes"].items()},
        "train_seconds": round(seconds, 1),
        "calibration_seconds": round(calibration_seconds, 1),
        "calibration": {
            "folds": f"{CALIBRATION_FOLDS} source-grouped",
            "temperature": model.calibration_.temperature,
            **{f"held_out_{k}": v for k, v in model.calibration_.summary.items()},
        },
        "misfit_threshold": {
            str(c): (None if not np.isfinite(t) else round(float(t), 3))
            for c, t in zip(model.classes_, model.misfit_threshold_, strict=True)
        },
        "ood_threshold": model.ood_threshold_,
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
    }
    out_path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


UNSETTLED_FILE = "lepr_unsettled.csv"


def lepr_results(model, shared) -> dict:
    """The LEPR protocol on one model (rows with oxide sum 88-105 wt%, and the others).

    "unknown" counts as wrong; in the calibration error an unknown row has confidence 0
    (it names no class), so abstaining is never rewarded as a right answer.
    """
    from sklearn.metrics import f1_score

    lepr = read_table(Path(shared) / LEPR_FILE)
    result, _, checked = classify_checked(lepr, model)  # the oxide sums of the check classify made
    sensible = checked.flags["total"].between(88, 105).to_numpy()
    right = lepr_correct(lepr["Mineral"], result["mineral"])
    conf = np.nan_to_num(result["probability"].to_numpy())
    truth = lepr_class(lepr["Mineral"], result["mineral"])
    named = (result["mineral"] != "unknown").to_numpy()
    labels = sorted(set(truth[sensible]))
    inside = sensible & named
    return {
        "rows": len(lepr),
        "rows_88_105": int(sensible.sum()),
        "accuracy": float(right[sensible].mean()),
        "macro_f1": float(
            f1_score(truth[sensible], result["mineral"].to_numpy()[sensible], labels=labels, average="macro")
        ),
        "unknown": float((~named[sensible]).mean()),
        "accuracy_named": float(right[inside].mean()),
        "ece": expected_calibration_error(conf[sensible], right[sensible]),
        "ece_named": expected_calibration_error(conf[inside], right[inside]),
        "wrong_at_0.9": float((~right[sensible] & (conf[sensible] >= 0.9)).mean()),
        "flagged_outside": float((result["flag"].to_numpy()[~sensible] != "").mean()),
        "unknown_outside": float((~named[~sensible]).mean()),
        "per_class": per_class_scores(truth[sensible], result["mineral"].to_numpy()[sensible], labels),
        "confusions": pd.crosstab(lepr["Mineral"][sensible & ~right], result["mineral"][sensible & ~right]),
        **_settled_results(lepr, result, sensible, right, conf, truth),
    }


def _settled_results(lepr, result, sensible, right, conf, truth) -> dict:
    """The LEPR rows composition cannot settle (:data:`minml.training.evaluation.LEPR_UNSETTLED`), and
    the protocol's figures on the others (rows 88-105 wt%)."""
    from sklearn.metrics import f1_score

    reason = lepr_unsettled(lepr)
    settled = sensible & (reason == "")
    answer = result["mineral"].astype(str).to_numpy()
    labels = sorted(set(truth[settled]))
    rows = pd.DataFrame(
        {
            "entity_id": lepr["entity_id"].to_numpy() if "entity_id" in lepr else lepr.index.to_numpy(),
            "label": lepr["Mineral"].to_numpy(),
            "answer": answer,
            "probability": result["probability"].round(3).to_numpy(),
            "right": right,
            "reason": reason,
        }
    )[sensible & (reason != "")]
    return {
        "settled_rows": int(settled.sum()),
        "settled_accuracy": float(right[settled].mean()),
        "settled_macro_f1": float(f1_score(truth[settled], answer[settled], labels=labels, average="macro")),
        "settled_wrong_at_0.9": float((~right[settled] & (conf[settled] >= 0.9)).mean()),
        "settled_ece": expected_calibration_error(conf[settled], right[settled]),
        "unsettled": rows,
    }


def unknown_results(model, shared) -> dict:
    """The unknown answer on phases that are none of the classes (``lepr_allphases.csv``)."""
    from minml.training.evaluation import LEPR_ACCEPT, LEPR_SAME_COMPOSITION

    table = read_table(Path(shared) / LEPR_ALL_FILE)
    label = table["Mineral"].astype(str)
    other = ~label.isin(list(LEPR_ACCEPT)).to_numpy()
    result = classify(table[other], model)
    same = label[other].isin(list(LEPR_SAME_COMPOSITION)).to_numpy()
    unknown = (result["mineral"] == "unknown").to_numpy()
    per_label = pd.DataFrame(
        {"label": label[other].to_numpy(), "unknown": unknown, "named": result["mineral"].astype(str).to_numpy()}
    )
    summary = per_label.groupby("label").agg(
        rows=("unknown", "size"), unknown=("unknown", "mean"), most_named=("named", lambda s: s.value_counts().index[0])
    )
    return {
        "rows": int((~same).sum()),
        "unknown": float(unknown[~same].mean()),
        "same_composition_rows": int(same.sum()),
        "same_composition_unknown": float(unknown[same].mean()),
        "per_label": summary.sort_values("rows", ascending=False),
    }


def evaluate_model(shared, model_path, *, latent_path=None, quick: bool = False, progress: bool = False) -> dict:
    """Everything the model card reports.

    Parameters
    ----------
    shared : path-like
    model_path : path-like
        The shipped ``.npz`` (its ``.json`` sidecar is read too).
    latent_path : path-like, optional
        The latent model (default: the shipped ``latent-v1.npz``), scored by
        :func:`minml.training.latent_fit.latent_results`.
    quick : bool, default=False
        3 outer folds, no inner choice, fewer epochs: a smoke run, not the card's figures.
    """
    table, report = load_training(shared, progress=progress)
    X, y, groups = training_arrays(table)
    params = dict(DEFAULT_PARAMS)
    grid = dict(NESTED_GRID)
    outer, inner = 5, 2
    if quick:
        params["epochs"], grid, outer = 3, {}, 3
    bnn = MineralClassifier(**params)
    gda = MineralClassifier(kind="gda")
    model = MineralClassifier.load(model_path)
    extra = _synthetic()
    gda_all = (X, y) if extra is None else (np.vstack([X, extra[0]]), np.concatenate([y, extra[1]]))
    results = {
        "report": report,
        "meta": json.loads(Path(model_path).with_suffix(".json").read_text()),
        "nested": nested_cv(bnn, X, y, grid, outer=outer, inner=inner, extra=extra, progress=progress),
        "nested_gda": nested_cv(gda, X, y, {}, outer=outer, extra=extra, progress=progress),
        "grouped": grouped_cv(bnn, X, y, groups, folds=outer, extra=extra, progress=progress),
        "grouped_gda": grouped_cv(gda, X, y, groups, folds=outer, extra=extra, progress=progress),
        "lepr": lepr_results(model, shared),
        "lepr_gda": lepr_results(gda.fit(*gda_all), shared),
        "quick": quick,
    }
    results["unknown"] = unknown_results(model, shared)
    glass = load_glass(shared, "test")
    glass_pred = classify(glass, model)["mineral"]
    results["glass_test"] = {
        "rows": len(glass),
        "glass": float((glass_pred == "glass").mean()),
        "glass_or_unknown": float(glass_pred.isin(["glass", "unknown"]).mean()),
    }
    from minml.chemistry.oxides import species_table

    minerals = table["mineral"] != "glass"
    species = [c for c in table.columns if c in species_table() and c not in ("FeO", "Fe2O3")]  # FeOt: total iron
    named = classify(table.loc[minerals, species], model)["mineral"]
    results["training_rejected"] = float((named == "unknown").mean())
    from minml.training.latent_fit import latent_results

    results["latent"] = latent_results(shared, X, y, latent_path, quick=quick, progress=progress)
    return results


def _pm(mean_sd) -> str:
    return f"{mean_sd[0]:.4f} ± {mean_sd[1]:.4f}"


def write_model_card(results: dict, path) -> Path:
    """Render the results of :func:`evaluate_model` as Markdown."""
    meta, report, nested = results["meta"], results["report"], results["nested"]
    per_class = nested["per_class"]
    lines = [
        "# Model card: MIN-ML default-v1",
        "",
        "Made by `minml evaluate` (do not edit by hand). Reproduce:",
        "",
        "```bash",
        "minml train --shared ../shared/data      # writes src/minml/data/default-v1.npz, latent-v1.npz (+ .json)",
        "minml evaluate --shared ../shared/data   # writes docs/model_card.md",
        "```",
        "",
        "## Model",
        f"- Bayesian neural network (Bayes by backprop, local reparameterisation), hidden layers "
        f"{tuple(meta['params']['hidden'])}, {meta['params']['epochs']} epochs, class weights "
        f"(n / (k n_c))^0.5; inputs: {', '.join(MODEL_OXIDES)} in wt% "
        "(not normalised), standardised.",
        "- Inference in numpy: analytic posterior predictive (last-layer Gaussian logits, probit "
        "approximation), deterministic; Monte Carlo over the whole posterior on request.",
        f"- Training time (shipped model, {meta['machine']}): {meta['train_seconds']} s on "
        f"{meta['training_rows']} rows, of which {meta.get('synthetic_rows', 0)} synthetic; calibration "
        f"(5 more fits) {meta.get('calibration_seconds', '?')} s.",
        "- Synthetic solid-solution analyses (`minml.training.augment`, end-member mixtures from "
        f"`minerals.toml` with analytical noise) for {', '.join(augmented_classes())} join every "
        "training fold below and are never scored; chosen on source-grouped CV.",
        "",
        "## Data",
        f"- Training set: {report['rows_kept']} of {report['rows_in']} rows of the 17 mineral compilations "
        f"(content sha256 `{report['content_sha256']}`), plus {report['glass']['rows_train']} volcanic glass "
        f"analyses (half of the samples of glasses_df.csv, sha256 `{report['glass']['content_sha256']}`).",
        "- Rows per class: " + ", ".join(f"{k} {v}" for k, v in meta["rows_per_class"].items()) + ".",
        "- Dropped rows and why: " + ", ".join(f"{k} {v}" for k, v in report["dropped"].items()) + ".",
        "",
        "## Nested cross-validation (random folds)",
        f"{len(nested['chosen'])} outer stratified folds report; inner folds choose from "
        f"{NESTED_GRID} by macro-F1 (chosen: {[c.get('hidden') for c in nested['chosen']]}).",
        "",
        f"- BNN: accuracy {_pm(nested['accuracy'])}, macro-F1 {_pm(nested['macro_f1'])} (mean ± sd over outer folds)",
        f"- GDA baseline: accuracy {_pm(results['nested_gda']['accuracy'])}, macro-F1 "
        f"{_pm(results['nested_gda']['macro_f1'])}",
        "",
        "| class | precision | recall | F1 | n per fold |",
        "|---|---|---|---|---|",
    ]
    for name, row in per_class.iterrows():
        lines.append(
            f"| {name} | {row[('precision', 'mean')]:.4f} ± {row[('precision', 'std')]:.4f} "
            f"| {row[('recall', 'mean')]:.4f} ± {row[('recall', 'std')]:.4f} "
            f"| {row[('f1', 'mean')]:.4f} ± {row[('f1', 'std')]:.4f} | {row[('support', 'mean')]:.0f} |"
        )
    grouped, grouped_gda = results["grouped"], results["grouped_gda"]
    lines += [
        "",
        "## Source-grouped cross-validation",
        "Folds by publication (`source`), so no source is on both sides.",
        "",
        f"- BNN: accuracy {grouped['accuracy']:.4f}, macro-F1 {grouped['macro_f1']:.4f}",
        f"- GDA baseline: accuracy {grouped_gda['accuracy']:.4f}, macro-F1 {grouped_gda['macro_f1']:.4f}",
        "",
        "Most frequent mistakes of the BNN (label, predicted, source, rows):",
        "",
    ]
    lines += [f"- {a} → {b} ({c}): {n}" for (a, b, c), n in grouped["confusions"].items()]
    lepr, lepr_gda = results["lepr"], results["lepr_gda"]
    lines += [
        "",
        "## LEPR (external test, never used for training or choices)",
        f"{lepr['rows']} analyses of experimental run products; {lepr['rows_88_105']} with oxide sum 88-105 wt%.",
        "",
        "| model | accuracy | macro-F1 | calibration error (15 bins) | wrong with p ≥ 0.9 | flagged outside 88-105 |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in (("BNN (shipped)", lepr), ("GDA baseline", lepr_gda)):
        lines.append(
            f"| {name} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} | {r['ece']:.4f} | "
            f"{r['wrong_at_0.9']:.4f} | {r['flagged_outside']:.4f} |"
        )
    lines += [
        "",
        "An unknown answer counts as wrong; in the calibration error an unknown row has confidence 0.",
        f"Shipped BNN: {lepr['unknown']:.4f} of the rows 88-105 wt% answered unknown; accuracy on the rows it "
        f"names {lepr['accuracy_named']:.4f}, calibration error there {lepr['ece_named']:.4f}; "
        f"{lepr['unknown_outside']:.4f} of the rows outside 88-105 answered unknown (bad analyses).",
        "",
        "Per class (BNN, rows 88-105 wt%):",
        "",
        "| class | precision | recall | F1 | n |",
        "|---|---|---|---|---|",
    ]
    for name, row in lepr["per_class"].iterrows():
        lines.append(
            f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']:.0f} |"
        )
    confusions = lepr["confusions"].stack()
    confusions = confusions[confusions > 0].sort_values(ascending=False).head(12)
    lines += ["", "Most frequent LEPR mistakes (label → answer: rows):", ""]
    lines += [f"- {a} → {b}: {n}" for (a, b), n in confusions.items()]
    lines += _unsettled_lines(lepr)
    glass, unknown = results["glass_test"], results["unknown"]
    cal = meta.get("calibration", {})
    lines += [
        "",
        "## Calibration",
        f"Temperature scaling (T = {cal.get('temperature', float('nan')):.3f}) and class-conditional conformal "
        f"prediction sets (`--coverage`), fitted on held-out probabilities of {cal.get('folds', '?')} folds "
        f"(`minml.classifier.calibration`). On those held-out rows: top-class accuracy {cal.get('held_out_accuracy', float('nan')):.4f}, "
        f"calibration error {cal.get('held_out_ece_raw', float('nan')):.4f} before and "
        f"{cal.get('held_out_ece', float('nan')):.4f} after scaling.",
        "",
        "## Unknown answer",
        "A row is unknown when it is a bad analysis (oxide sum outside 88-105 wt%, no analysis), or when it is "
        f"unlike the training data (ood_score above {meta.get('ood_threshold', float('nan')):.1f}, the 99.5th "
        "percentile of the training rows) *and* its predicted class's end-members do not explain it "
        "(stoichiometric misfit above the class's threshold: the smaller of the 99.9th percentile of its "
        "training rows and median + 4 x (90th percentile - median); glass has no end-members). "
        "Thresholds come from the training data only.",
        "",
        f"- Phases of lepr_allphases.csv that are none of the classes: {unknown['unknown']:.4f} unknown "
        f"({unknown['rows']} rows).",
        f"- Polymorphs and labels that share a class's composition (ringwoodite, wadsleyite, bridgmanite, "
        f"coesite, stishovite, CaAl2SiO6, wollastonite, 'Oxide'; {unknown['same_composition_rows']} rows): "
        f"{unknown['same_composition_unknown']:.4f} unknown; composition cannot tell them from olivine, "
        "pyroxene, quartz or magnetite.",
        f"- Held-out glass ({glass['rows']} analyses): {glass['glass']:.4f} glass, "
        f"{glass['glass_or_unknown']:.4f} glass or unknown.",
        f"- Training mineral analyses answered unknown: {results['training_rejected']:.4f}.",
        "",
        "| label (none of the classes) | rows | unknown | most often answered |",
        "|---|---|---|---|",
    ]
    from minml.training.evaluation import LEPR_SAME_COMPOSITION

    for label, row in unknown["per_label"].iterrows():
        if label not in LEPR_SAME_COMPOSITION and row["rows"] >= 5:
            lines.append(f"| {label} | {row['rows']} | {row['unknown']:.2f} | {row['most_named']} |")
    lines += [
        "",
        "## Known limits",
        "- Clinopyroxene with Wo < 5 mol% has orthopyroxene's composition; majoritic garnet has pyroxene's; "
        "LEPR 'KFeldspar' rows without Al2O3 are K2Si2O5-like quench phases, not feldspar; LEPR 'Olivine' rows "
        "with more than 3.05 cations per 4 O lack the SiO2 of olivine. Composition alone cannot settle these "
        "(see 'LEPR rows composition cannot settle' above).",
        "- Experimental subcalcic, aluminous clinopyroxenes are still often called amphibole, though their "
        "misfit under clinopyroxene is small (see docs/validation.md): no natural training cpx has Wo < 28.",
        "- The unknown answer trades: LEPR minerals unlike natural ones and unexplained by the end-member "
        "table are rejected with the true phases they resemble (see the rejected share above).",
    ]
    if "latent" in results:
        from minml.training.latent_fit import latent_card_lines

        lines += ["", *latent_card_lines(results["latent"])]
    if results.get("quick"):
        lines.insert(2, "**QUICK RUN: smoke-test figures, not the model's.**\n")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results["lepr"]["unsettled"].to_csv(path.parent / UNSETTLED_FILE, index=False)
    return path


def _unsettled_lines(lepr: dict) -> list[str]:
    """The card's account of the LEPR rows composition cannot settle."""
    from minml.training.evaluation import LEPR_UNSETTLED

    rows = lepr["unsettled"]
    lines = [
        "",
        "### LEPR rows composition cannot settle",
        f"Rows 88-105 wt% whose label composition cannot confirm (`minml.training.evaluation.LEPR_UNSETTLED`; each row in "
        f"`{UNSETTLED_FILE}` beside this card). They stay in the figures above; apart, for tracing a missed "
        "target to physics or to the model:",
        "",
        "| label | rule | rows | counted wrong | wrong with p ≥ 0.9 | answered | why composition cannot settle it | what would |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rule in LEPR_UNSETTLED:
        part = rows[rows["reason"] == rule.reason]
        bound = f"< {rule.below:g}" if rule.below is not None else f"> {rule.above:g}"
        answered = ", ".join(f"{a} {n}" for a, n in part["answer"].value_counts().head(3).items())
        confident = int((~part["right"] & (part["probability"] >= 0.9)).sum())
        lines.append(
            f"| {rule.label} | {rule.quantity} {bound} | {len(part)} | {int((~part['right']).sum())} | "
            f"{confident} | {answered} | {rule.reason} | {rule.remedy} |"
        )
    total = lepr["rows_88_105"]
    unsettled_wrong = int((~rows["right"]).sum())
    unsettled_confident = int((~rows["right"] & (rows["probability"] >= 0.9)).sum())
    lines += [
        "",
        f"On the other {lepr['settled_rows']} rows (88-105 wt%): accuracy {lepr['settled_accuracy']:.4f}, macro-F1 "
        f"{lepr['settled_macro_f1']:.4f}, wrong with p ≥ 0.9 {lepr['settled_wrong_at_0.9']:.4f}, calibration error "
        f"{lepr['settled_ece']:.4f}.",
        "",
        f"These rows alone, answered as now, bound the whole: with every other row right, accuracy would be "
        f"at most {1 - unsettled_wrong / total:.4f} and wrong with p ≥ 0.9 at least {unsettled_confident / total:.4f} "
        f"of the {total} rows. Answering them otherwise would take what the analysis cannot give ('what would').",
    ]
    return lines
