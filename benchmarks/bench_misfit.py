"""Speed of the exact end-member misfit: the active-set search against trying every face.

    python benchmarks/bench_misfit.py [--rows 1000000] [--shared ../shared/data]

Rows are real LEPR analyses (lepr_allphases_lim.csv) repeated to the requested count, as in
bench_classify.py. The fits are those `minml.classify` makes: the rows unlike the training
data (ood_score above the shipped model's threshold), each under its predicted class. Both
ways run side by side in this one run, per class and in all, and must give the same distance
(the active set is certified by the optimality conditions; every face is the exhaustive
fallback).
"""

from __future__ import annotations

import numpy as np
from bench_classify import _table, best_time, rows_and_shared


def main() -> None:
    args = rows_and_shared(__doc__)

    from minml.chemistry.misfit import _nearest_mixture, fold_divalent
    from minml.classifier.features import model_inputs
    from minml.classifier.predict import _scores, load_default

    model = load_default()
    table = _table(args.shared, args.rows)
    values, checked = model_inputs(table, model.oxides)
    analysis = np.isfinite(values).all(axis=1) & ~checked.no_analysis & ~checked.total_outside
    scores = _scores(model, values, analysis)
    far = np.flatnonzero(analysis & (scores["ood"] > model.ood_threshold))
    rows = fold_divalent(values[far], model.oxides, checked.oxides.iloc[far]).astype(np.float64)
    rows = np.nan_to_num(100.0 * rows / rows.sum(axis=1, keepdims=True))
    top = scores["top"][far]
    print(f"{len(far):,} rows unlike the training data among {args.rows:,} LEPR rows (best of 3 each)")
    print(f"  {'class':<15}{'rows':>8}{'members':>9}{'active set':>12}{'every face':>12}{'ratio':>8}")
    totals = [0.0, 0.0]
    for code in np.unique(top):
        members = np.ascontiguousarray(model.members[model.member_class == code])
        if not len(members):
            continue
        X = rows[top == code]
        searched, (exact, _) = best_time(lambda X=X, E=members: _nearest_mixture(X, E))
        every, (exhaustive, _) = best_time(lambda X=X, E=members: _nearest_mixture(X, E, rounds=0))
        assert np.allclose(np.sqrt(exact), np.sqrt(exhaustive), atol=1e-6)
        totals[0] += searched
        totals[1] += every
        print(
            f"  {model.classes[code]:<15}{len(X):>8,}{len(members):>9}{searched:>11.3f}s{every:>11.3f}s"
            f"{every / searched:>7.1f}x"
        )
    print(f"  {'all':<15}{'':>8}{'':>9}{totals[0]:>11.3f}s{totals[1]:>11.3f}s{totals[1] / totals[0]:>7.1f}x")


if __name__ == "__main__":
    main()
