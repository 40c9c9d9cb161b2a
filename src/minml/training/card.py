"""The model card: the results of :func:`minml.training.shipped.evaluate_model` as Markdown.

Two steps, so that the card can be rendered again without evaluating again:

* :func:`card_results` -- the results as plain data (numbers, strings, lists; what
  ``model_card.json`` beside the card holds);
* :func:`render_card` -- that data poured into the templates beside this module
  (``model_card.md.in`` and its sections, :meth:`str.format_map` fields such as
  ``{lepr[accuracy]:.4f}``).  The prose lives in the templates; here only tables are laid out.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = [
    "UNSETTLED_FILE",
    "card_results",
    "label_screen_results",
    "latent_card_results",
    "render_card",
    "write_model_card",
]

UNSETTLED_FILE = "lepr_unsettled.csv"
"""The LEPR rows composition cannot settle, one per line, written beside the card."""

QUICK_NOTE = "**QUICK RUN: smoke-test figures, not the model's.**\n\n"


def _template(name: str) -> str:
    return resources.files("minml.training").joinpath(name).read_text(encoding="utf-8").rstrip("\n")


def _records(frame, index: str) -> list[dict]:
    """A DataFrame as JSON rows, its index as ``index``; MultiIndex columns joined by ``_``."""
    out = frame.copy()
    if out.columns.nlevels > 1:
        out.columns = ["_".join(map(str, c)) for c in out.columns]
    out = out.rename_axis(index).reset_index()
    return json.loads(out.to_json(orient="records", double_precision=15))


def _pairs(series) -> list[list]:
    """A Series with a (Multi)Index as ``[*keys, value]`` rows."""
    return [[*(k if isinstance(k, tuple) else (k,)), int(v)] for k, v in series.items()]


def _scores(result: dict) -> dict:
    """The headline figures of one evaluation (plain floats and ints)."""
    skip = {"per_class", "confusions", "unsettled", "classes", "proba", "chosen", "seconds"}
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in result.items() if k not in skip}


def unsettled_results(lepr: dict) -> dict:
    """The LEPR rows composition cannot settle (``lepr["unsettled"]``), per rule and in all."""
    from minml.training.evaluation import LEPR_UNSETTLED

    rows = lepr["unsettled"]
    rules = []
    for rule in LEPR_UNSETTLED:
        part = rows[rows["reason"] == rule.reason]
        rules.append(
            {
                "label": rule.label,
                "rule": f"{rule.quantity} " + (f"< {rule.below:g}" if rule.below is not None else f"> {rule.above:g}"),
                "rows": len(part),
                "wrong": int((~part["right"]).sum()),
                "confident_wrong": int((~part["right"] & (part["probability"] >= 0.9)).sum()),
                "answered": ", ".join(f"{a} {n}" for a, n in part["answer"].value_counts().head(3).items()),
                "reason": rule.reason,
                "remedy": rule.remedy,
            }
        )
    return {
        "rules": rules,
        "wrong": int((~rows["right"]).sum()),
        "confident_wrong": int((~rows["right"] & (rows["probability"] >= 0.9)).sum()),
    }


def _lepr(result: dict) -> dict:
    confusions = result["confusions"].stack()
    confusions = confusions[confusions > 0].sort_values(ascending=False).head(12)
    return {
        **_scores(result),
        "per_class": _records(result["per_class"], "class"),
        "mistakes": _pairs(confusions),
        "unsettled": unsettled_results(result),
    }


def card_results(results: dict) -> dict:
    """What the card quotes, as plain data (JSON): the figures of ``results`` (DataFrames as
    lists of rows, the most frequent mistakes only) and the settings the card names."""
    from minml.classifier.features import MODEL_OXIDES
    from minml.training.augment import augmented_classes
    from minml.training.evaluation import LEPR_SAME_COMPOSITION
    from minml.training.shipped import NESTED_GRID

    report, nested, unknown = results["report"], results["nested"], results["unknown"]
    per_label = unknown["per_label"]
    shown = per_label[~per_label.index.isin(list(LEPR_SAME_COMPOSITION)) & (per_label["rows"] >= 5)]
    data = {
        "quick": bool(results.get("quick")),
        "model_oxides": list(MODEL_OXIDES),
        "augmented_classes": list(augmented_classes()),
        "meta": results["meta"],
        "report": {
            **{k: report[k] for k in ("rows_in", "rows_kept", "content_sha256", "dropped", "glass")},
            "compilations": len(report["classes"]),
            "label_screen": label_screen_results(report["label_screen"]),
        },
        "nested": {
            **_scores(nested),
            "grid": str(NESTED_GRID),
            "chosen": str([c.get("hidden") for c in nested["chosen"]]),
            "folds": len(nested["chosen"]),
            "per_class": _records(nested["per_class"], "class"),
        },
        "nested_gda": _scores(results["nested_gda"]),
        "grouped": {**_scores(results["grouped"]), "mistakes": _pairs(results["grouped"]["confusions"])},
        "grouped_gda": _scores(results["grouped_gda"]),
        "lepr": _lepr(results["lepr"]),
        "lepr_gda": _scores(results["lepr_gda"]),
        "unknown": {**_scores(unknown), "per_label": _records(shown, "label")},
        "prediction_sets": _records(results["prediction_sets"], "class"),
        "glass_test": results["glass_test"],
        "training_rejected": results["training_rejected"],
    }
    if "latent" in results:
        data["latent"] = latent_card_results(results["latent"])
    return json.loads(json.dumps(data, default=_plain))


def label_screen_results(screen: dict) -> dict:
    """The label screen's part of the card (``report["label_screen"]`` of the data build):
    its rule, the rows it dropped, and those rows per label and answer, most first."""
    import pandas as pd

    rows = pd.DataFrame(screen["rows"], columns=["label", "answer"])
    pairs = rows.value_counts(sort=True).reset_index().sort_values(["count", "label"], ascending=[False, True])
    return {
        "rule": screen["rule"],
        "judged_rows": screen["judged_rows"],
        "rows": len(rows),
        "pairs": [[a, b, int(n)] for a, b, n in pairs.itertuples(index=False)],
    }


def _plain(value):
    """numpy scalars as Python numbers (for :func:`json.dumps`)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON data")


def latent_card_results(results: dict) -> dict:
    """The latent model's part of the card (``results`` of
    :func:`minml.training.latent_fit.latent_results`) as plain data."""
    cv, lepr = results["cv"], results["lepr"]
    stats = cv["scores"].groupby("truth")[["ari", "nmi", "ari_named", "nmi_named", "noise"]].agg(["mean", "std"])
    return {
        "meta": results["meta"],
        "folds": int(cv["scores"]["fold"].nunique()),
        "scores": _records(stats.loc[["mineral", "group"]], "truth"),
        "reconstruction": _records(cv["reconstruction"], "oxide"),
        "lepr": {
            "rows": lepr["rows"],
            "noise": lepr["noise"],
            "scores": lepr["scores"],
            "anomaly_auc": lepr["anomaly_auc"],
            "reconstruction": _records(lepr["reconstruction"], "oxide"),
        },
    }


def _rows(rows: list[dict], line: str) -> str:
    return "\n".join(line.format_map(row) for row in rows)


def _pm(names: tuple[str, ...], digits: int) -> str:
    """A table line of ``mean ± std`` cells, one per name, as :func:`_rows` fills it."""
    return " | ".join(f"{{{n}_mean:.{digits}f}} ± {{{n}_std:.{digits}f}}" for n in names)


def _unsettled_section(lepr: dict) -> str:
    unsettled, total = lepr["unsettled"], lepr["rows_88_105"]
    line = "| {label} | {rule} | {rows} | {wrong} | {confident_wrong} | {answered} | {reason} | {remedy} |"
    return _template("model_card_unsettled.md.in").format_map(
        {
            "lepr": lepr,
            "unsettled_file": UNSETTLED_FILE,
            "rule_rows": _rows(unsettled["rules"], line),
            "best_accuracy": 1 - unsettled["wrong"] / total,
            "least_confident_wrong": unsettled["confident_wrong"] / total,
        }
    )


def _or_na(value, digits: int) -> str:
    """``value`` with ``digits`` decimals, or "n/a" where there is none (no row of a small
    data set holds the oxide as a major one: its median error is None or NaN)."""
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    return f"{float(value):.{digits}f}"


def _latent_section(latent: dict) -> str:
    lepr_error = {row["oxide"]: row for row in latent["lepr"]["reconstruction"]}
    errors = [
        {
            "oxide": row["oxide"],
            "major_rows": _or_na(row["major_rows"], 0),
            "median_error_major": _or_na(row["median_error_major"], 2),
            "lepr_rows": _or_na(lepr_error[row["oxide"]]["major_rows"], 0),
            "lepr_error": _or_na(lepr_error[row["oxide"]]["median_error_major"], 2),
        }
        for row in latent["reconstruction"]
    ]
    return _template("model_card_latent.md.in").format_map(
        {
            **latent,
            "n_oxides": len(latent["reconstruction"]) - 1,  # the last row pools all majors
            "hidden": tuple(latent["meta"]["hidden"]),
            "score_rows": _rows(
                latent["scores"], "| {truth} | " + _pm(("ari", "nmi", "ari_named", "nmi_named", "noise"), 3) + " |"
            ),
            "error_rows": _rows(
                errors, "| {oxide} | {major_rows} | {median_error_major} | {lepr_rows} | {lepr_error} |"
            ),
        }
    )


def _screen_note(screen: dict) -> str:
    """What the card adds to the label screen's line (a results file may carry a ``note``)."""
    return " " + screen["note"] if "note" in screen else ""


def render_card(data: dict) -> str:
    """The model card (Markdown) from :func:`card_results`' data."""
    meta, lepr = data["meta"], data["lepr"]
    metrics = ("precision", "recall", "f1")
    text = _template("model_card.md.in").format_map(
        {
            **data,
            "quick_note": QUICK_NOTE if data["quick"] else "",
            "hidden": tuple(meta["params"]["hidden"]),
            "calibration_weights": (
                "; each source weighs the same in the temperature's fit, chosen on those folds "
                "(`benchmarks/calibration_weights.py`)"
                if meta["calibration"].get("weights") == "each source the same"
                else ""
            ),
            "model_oxides": ", ".join(data["model_oxides"]),
            "augmented_classes": ", ".join(data["augmented_classes"]),
            "rows_per_class": ", ".join(f"{k} {v}" for k, v in meta["rows_per_class"].items()),
            "dropped": ", ".join(f"{k} {v}" for k, v in data["report"]["dropped"].items()),
            "mislabelled": ", ".join(f"{a} that is {b} {n}" for a, b, n in data["report"]["label_screen"]["pairs"]),
            "screen_note": _screen_note(data["report"]["label_screen"]),
            "nested_folds": data["nested"]["folds"],
            "nested_rows": _rows(
                data["nested"]["per_class"], "| {class} | " + _pm(metrics, 4) + " | {support_mean:.0f} |"
            ),
            "grouped_mistakes": "\n".join(f"- {a} → {b} ({c}): {n}" for a, b, c, n in data["grouped"]["mistakes"]),
            "lepr_rows": _rows(
                lepr["per_class"], "| {class} | {precision:.3f} | {recall:.3f} | {f1:.3f} | {support:.0f} |"
            ),
            "lepr_mistakes": "\n".join(f"- {a} → {b}: {n}" for a, b, n in lepr["mistakes"]),
            "unsettled_section": _unsettled_section(lepr),
            "set_rows": _rows(
                data["prediction_sets"],
                "| {class} | {rows} | "
                + " | ".join(f"{{coverage_{c}:.3f}} | {{size_{c}:.2f}}" for c in (90, 95, 99))
                + " |",
            ),
            "unknown_rows": _rows(data["unknown"]["per_label"], "| {label} | {rows} | {unknown:.2f} | {most_named} |"),
        }
    )
    if "latent" in data:
        text += "\n\n" + _latent_section(data["latent"])
    return text + "\n"


def write_model_card(results: dict, path) -> Path:
    """Write the card for ``results`` of :func:`~minml.training.shipped.evaluate_model` at
    ``path``, its data beside it (same name, ``.json``) and the LEPR rows composition cannot
    settle (:data:`UNSETTLED_FILE`).

    Returns
    -------
    pathlib.Path
        The card.
    """
    data = card_results(results)
    text = render_card(data)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    results["lepr"]["unsettled"].to_csv(path.parent / UNSETTLED_FILE, index=False)
    return path
