"""Reading a table's analyses: cells to numbers (detection limits, decimal commas, spreads),
total iron per row, and the per-row flags (:func:`~minml.tables.checks.check_oxides`).

Imports :mod:`minml.chemistry` and numpy (pandas where a DataFrame is given); never a model.
"""
