"""Validating a database's phase labels: verdicts per row and per label
(:mod:`~minml.validation.verdicts`) and the HTML report (:mod:`~minml.validation.report`).

Imports :mod:`minml.classifier`, :mod:`minml.chemistry` and :mod:`minml.plot`.
"""
