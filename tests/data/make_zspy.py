"""Write ``stack.zspy`` (this folder): a quantified EDS stack (4 element images of 3 x 4
pixels, wt%) saved by rosettasciio's own ``.zspy`` writer, as ``hs.save("x.zspy")`` does.

rosettasciio 0.15 writes ``.zspy`` through the zarr 2 API (``NestedDirectoryStore``), which
zarr 3 no longer has, so this is run once with zarr 2.18 ahead on the path::

    pip install --target /tmp/zarr2 --no-deps "zarr==2.18.7" "numcodecs==0.15.1" fasteners asciitree deprecated wrapt
    PYTHONPATH=/tmp/zarr2 python tests/data/make_zspy.py tests/data/stack.zspy

MIN-ML reads it with the zarr the project installs (3.x): the test is that reading.
"""

from __future__ import annotations

import sys

import numpy as np
from rsciio.zspy import file_writer

FO = {"Si": 18.9, "Mg": 29.8, "Fe": 7.5, "O": 43.6}  # forsterite-rich olivine, element wt%


def main(path: str) -> None:
    stack = np.stack([np.full((3, 4), v, dtype=np.float32) for v in FO.values()])
    stack[0, 0, 0] = 19.5  # one pixel different: the order of the images is kept
    axes = [
        {"name": "element", "size": 4, "navigate": True, "scale": 1.0, "offset": 0.0, "units": ""},
        {"name": "y", "size": 3, "scale": 0.5, "units": "µm", "offset": 0.0, "navigate": False},
        {"name": "x", "size": 4, "scale": 0.5, "units": "µm", "offset": 0.0, "navigate": False},
    ]
    metadata = {
        "General": {"title": "quant"},
        "Signal": {"quantity": "Weight percent (wt%)"},
        "Sample": {"elements": list(FO)},
    }
    signal = {
        "data": stack,
        "axes": axes,
        "metadata": metadata,
        "original_metadata": {},
        "tmp_parameters": {},
        "attributes": {"_lazy": False},
        "package_info": {"name": "hyperspy", "version": "2.1"},
        "learning_results": {},
        "models": {},
    }
    file_writer(path, signal)


if __name__ == "__main__":
    main(sys.argv[1])
