"""Reading a table's analyses: cells to numbers (detection limits, decimal commas, spreads),
total iron per row, and the per-row flags (:func:`~minml.tables.checks.check_oxides`), each
kind of flag a :class:`~minml.tables.reasons.Reason` bit beside its text.

Imports :mod:`minml.chemistry` and numpy (pandas where a DataFrame is given); never a model.
"""
