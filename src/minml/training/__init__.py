"""Maintainer and retraining tools: building a training set from labelled tables
(:mod:`~minml.training.data`), synthetic solid solutions (:mod:`~minml.training.augment`),
fitting the network (:mod:`~minml.training._torch`, the only module importing PyTorch) and the
latent model (:mod:`~minml.training.latent_fit`), cross-validation
(:mod:`~minml.training.evaluation`) and the model card (:mod:`~minml.training.shipped`).

Nothing on the path of classifying imports this package; it may import every other one.
"""
