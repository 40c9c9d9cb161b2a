"""EDS/WDS maps: reading quantified grids and stacks (:mod:`~minml.maps.read`), classifying
them pixel by pixel with modes and pictures (:mod:`~minml.maps.classify`), and synthetic maps
with known truth for tests and benchmarks (:mod:`~minml.maps.synthetic`).

Imports :mod:`minml.classifier`, :mod:`minml.chemistry` and :mod:`minml.plot`.
"""
