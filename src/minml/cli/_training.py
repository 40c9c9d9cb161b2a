"""The maintainer commands: ``data build``, ``train``, ``evaluate``."""

from __future__ import annotations

from pathlib import Path


def _add_data(sub) -> None:
    p = sub.add_parser("data", help="build the training data", description="Training data.")
    data_sub = p.add_subparsers(dest="data_command", metavar="{build}", required=True)
    b = data_sub.add_parser(
        "build",
        help="build the cleaned training set",
        description="Turn the per-mineral compilations (one .xlsx per class) into training.parquet "
        "and report.json (rows in/out per class, why each dropped row went, content hash).",
    )
    b.add_argument(
        "--source",
        type=Path,
        required=True,
        help="folder of per-mineral .xlsx files, one per class of minerals.toml (the team's: ../shared/data/training)",
    )
    b.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    b.set_defaults(run=_run_data_build)


def _run_data_build(args) -> int:
    from minml.training.data import MISLABELLED_FILE, build_training_set

    result = build_training_set(args.source, args.output, progress=True)  # minml._progress: a log gets lines
    report = result.report
    print(f"{report['rows_in']} rows read, {report['rows_kept']} kept")
    for reason, count in report["dropped"].items():
        print(f"  dropped {count:>6}  {reason}")
    print(f"content sha256 {report['content_sha256']}")
    print(f"wrote {result.table_path}, {result.report_path} and {result.table_path.parent / MISLABELLED_FILE}")
    return 0


def _add_shared(p) -> None:
    """``--shared``: the data folder that ``train`` and ``evaluate`` read."""
    p.add_argument(
        "--shared",
        type=Path,
        required=True,
        help="data folder holding training/ (one .xlsx per class) and test/ (glasses_df.csv, LEPR); "
        "the team's: ../shared/data",
    )


def _add_train(sub) -> None:
    p = sub.add_parser(
        "train",
        help="retrain the shipped models",
        description="Train the shipped Bayesian network (classifier) and the autoencoder with its "
        "clusters (latent) on the shared training data.",
    )
    _add_shared(p)
    p.add_argument("--which", choices=("classifier", "latent", "all"), default="all", help="what to train")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="model file (default: the package's data/default-v1.npz or latent-v1.npz; "
        "only with --which classifier or latent)",
    )
    p.set_defaults(run=_run_train)


def _require_torch() -> None:
    """Refuse, before the training data are built, to train without PyTorch."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise ImportError('Training needs PyTorch: pip install "min-ml[train]" (here: pip install torch==2.13.0).')


def _run_train(args) -> int:
    from minml._resources import data_path
    from minml.classifier.predict import DEFAULT_MODEL
    from minml.unsupervised.latent import DEFAULT_LATENT_MODEL

    if args.output and args.which == "all":
        raise ValueError("--output names one model file; add --which classifier or --which latent.")
    _require_torch()
    if args.which in ("classifier", "all"):
        from minml.training.shipped import train_default

        output = args.output or Path(str(data_path(DEFAULT_MODEL)))
        meta = train_default(args.shared, output, progress=True)  # minml._progress: a log gets lines
        print(
            f"classifier: trained on {meta['training_rows']} rows in {meta['train_seconds']} s; calibrated on "
            f"{meta['calibration']['folds']} folds in {meta['calibration_seconds']} s "
            f"(temperature {meta['calibration']['temperature']:.2f})"
        )
        print(f"wrote {output} and {output.with_suffix('.json')}")
    if args.which in ("latent", "all"):
        from minml.training.latent_fit import train_default_latent

        output = args.output or Path(str(data_path(DEFAULT_LATENT_MODEL)))
        meta = train_default_latent(args.shared, output, progress=True)
        print(
            f"latent: autoencoder trained on {meta['training_rows']} rows in {meta['train_seconds']} s; "
            f"{meta['clusters']} clusters in {meta['cluster_seconds']} s ({meta['training_noise']:.1%} noise)"
        )
        print(f"wrote {output} and {output.with_suffix('.json')}")
    return 0


def _add_evaluate(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="cross-validate and test the shipped model; write its model card",
        description="Nested and source-grouped cross-validation, GDA baseline, LEPR, glass; writes the model card.",
    )
    _add_shared(p)
    p.add_argument("--model", type=Path, default=None, help="model .npz (default: the shipped model)")
    p.add_argument(
        "--latent-model", type=Path, default=None, help="latent model .npz (default: the shipped latent-v1.npz)"
    )
    p.add_argument(
        "--card",
        type=Path,
        required=True,
        help="model card to write, e.g. docs/model_card.md (its data go beside it as .json, with lepr_unsettled.csv)",
    )
    p.add_argument("--quick", action="store_true", help="a fast smoke run (fewer folds and epochs)")
    p.set_defaults(run=_run_evaluate)


def _run_evaluate(args) -> int:
    from minml._resources import data_path
    from minml.classifier.predict import DEFAULT_MODEL
    from minml.training.card import write_model_card
    from minml.training.shipped import evaluate_model

    _require_torch()  # cross-validation trains networks
    model = args.model or Path(str(data_path(DEFAULT_MODEL)))
    results = evaluate_model(args.shared, model, latent_path=args.latent_model, quick=args.quick, progress=True)
    path = write_model_card(results, args.card)
    nested, lepr = results["nested"], results["lepr"]
    print(
        f"nested CV macro-F1 {nested['macro_f1'][0]:.4f} ± {nested['macro_f1'][1]:.4f}; "
        f"grouped CV accuracy {results['grouped']['accuracy']:.4f}; LEPR accuracy {lepr['accuracy']:.4f}"
    )
    print(f"wrote {path}")
    return 0
