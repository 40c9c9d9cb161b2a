"""The classifier: the scikit-learn estimator (:class:`~minml.classifier.model.MineralClassifier`),
its numpy runtime (network, Gaussian baseline, calibration, end-member misfit for the
*unknown* answer), :func:`~minml.classifier.predict.classify` and its second look at
unusual rows (``_judge``).

Imports :mod:`minml.chemistry`, :mod:`minml.tables` and :mod:`minml.io` (model archives);
PyTorch only inside ``fit`` (through :mod:`minml.training`).
"""
