"""The unsupervised view: the autoencoder's latent space and density clusters, in numpy
(:mod:`~minml.unsupervised.latent`).  Fitting them is :mod:`minml.training.latent_fit`.

Imports :mod:`minml.tables`, :mod:`minml.classifier` (features) and :mod:`minml.io`.
"""
