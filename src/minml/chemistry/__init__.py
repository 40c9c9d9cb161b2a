"""Chemistry as data: oxide species and column names, iron, mineral classes and their
end-members, formulas, end-member misfit, phase labels.

Owns ``data/oxides.toml``, ``data/minerals.toml`` and ``data/labels.toml``.  Imports numpy,
pandas and :mod:`minml._resources` only: nothing here knows about files, models or plots.
"""
