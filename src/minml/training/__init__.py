"""Maintainer and retraining tools: building a training set from labelled tables
(:mod:`~minml.training.data`), synthetic solid solutions (:mod:`~minml.training.augment`),
fitting the network (:mod:`~minml.training._torch`, the only module importing PyTorch) and the
latent model (:mod:`~minml.training.latent_fit`), the shipped models
(:mod:`~minml.training.shipped`), cross-validation and the LEPR protocol
(:mod:`~minml.training.evaluation`, ``lepr.toml``) and the model card
(:mod:`~minml.training.card`, the ``model_card*.md.in`` templates).

Nothing on the path of classifying imports this package (``tests/test_training_apart.py``);
it may import every other one.
"""
