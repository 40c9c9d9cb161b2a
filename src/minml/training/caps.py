"""The completion caps of ``minml/data/completion.toml``, from the training compilations.

A model oxide a table has no column for is completed by the classifier
(:mod:`minml.classifier._absent`); a row rejected for its oxide sum may be accepted with that
completion.  What a completion may add is capped per class and oxide at what the class's
training analyses hold: their 99.5th percentile.  Run ``python -m minml.training.caps
SHARED_DATA`` to write the table again after retraining.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from minml.classifier.features import MODEL_OXIDES

__all__ = ["QUANTILE", "completion_caps", "write_completion_caps"]

QUANTILE = 0.995
"""The share of a class's training analyses whose oxide a completion may match (its cap)."""


def completion_caps(table) -> dict[str, dict[str, float]]:
    """Per class, per model oxide: the :data:`QUANTILE` of the oxide in the class's rows (wt%,
    rounded up to 0.01)."""
    caps = {}
    for name, rows in table.groupby("mineral"):
        values = rows[list(MODEL_OXIDES)].to_numpy(dtype=float)
        high = np.nanquantile(values, QUANTILE, axis=0)
        caps[str(name)] = {ox: float(np.ceil(v * 100) / 100) for ox, v in zip(MODEL_OXIDES, high, strict=True)}
    return caps


def write_completion_caps(shared, path) -> Path:
    """Write ``completion.toml`` from the training compilations in ``shared``."""
    from minml.training.datasets import load_training

    table, report = load_training(shared)
    caps = completion_caps(table)
    lines = [
        "# What the model's completion of an absent oxide column may add, per class (wt%):",
        "# the 99.5th percentile of the oxide in the class's training analyses.",
        f"# Source: the training compilations (minml.training.datasets.load_training, {len(table)} rows,",
        f"# content sha256 {report['content_sha256'][:16]}...), written by",
        "# python -m minml.training.caps SHARED_DATA (minml.training.caps).",
        "",
    ]
    for name, row in caps.items():
        lines.append(f'["{name}"]')
        lines += [f"{ox} = {value:.2f}" for ox, value in row.items()]
        lines.append("")
    path = Path(path)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


if __name__ == "__main__":
    write_completion_caps(Path(sys.argv[1]), Path(__file__).resolve().parents[1] / "data" / "completion.toml")
