"""Shared test fixtures: paths to the bundled fixtures and to ../shared/data."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
EXAMPLE = ROOT / "examples" / "lepr_sample.csv"
SHARED = Path(os.environ.get("MINML_SHARED_DATA", ROOT.parent / "shared" / "data"))


def two_phases(table, suffix: str = "_Min"):
    """``table`` as databases print a mineral beside its melt: each species column renamed
    with ``suffix`` and a second, made-up phase (``_Liq``, 50 wt% of everything) beside it,
    so that only ``suffix=`` reads the table."""
    from minml.chemistry.oxides import map_columns

    species = map_columns(table.columns).mapped
    out = table.rename(columns={c: f"{c}{suffix}" for c in species})
    for name in species:
        out[f"{name}_Liq"] = 50.0
    return out


def as_elements(table):
    """``table`` as EDS software reports it without oxides: each oxide column replaced by its
    element in wt% (a column named by the symbol; FeOt by Fe), and oxygen, the rest of the
    oxide sum, in an ``O`` column.  Computed here from molar masses, apart from the package."""
    from minml.chemistry.oxides import atomic_weight, map_columns, species_table

    species = map_columns(table.columns).mapped
    out = table.drop(columns=list(species))
    oxygen = 0.0
    for column, name in species.items():
        spec = species_table()[name]
        element = table[column] * spec.cations * atomic_weight(spec.element) / spec.molar_mass
        out[spec.element] = element
        oxygen = oxygen + (table[column] - element).fillna(0.0)
    out["O"] = oxygen
    return out


@pytest.fixture(scope="module")
def analyses():
    """24 good LEPR analyses of the bundled example, written by the instrument layouts."""
    from minml import check_oxides, read_table

    table = read_table(EXAMPLE)
    table = table[check_oxides(table).ok.to_numpy()].reset_index(drop=True)  # good analyses only
    return table.head(24)


@pytest.fixture(scope="module")
def answers(analyses):
    """The minerals of :func:`analyses`, classified from the clean table."""
    from minml import classify

    return classify(analyses)["mineral"].astype(str).tolist()


def same_oxides(read, source, atol: float = 0.006):
    """Whether an export read back holds the analyses it was written from (printed to 2 decimals)."""
    import numpy as np

    from minml import check_oxides

    ours, theirs = check_oxides(read).oxides, check_oxides(source).oxides
    for name in ("SiO2", "Al2O3", "FeOt", "MgO", "CaO", "Na2O"):
        np.testing.assert_allclose(ours[name], theirs[name], atol=atol)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The published compilations beside the repository. CI sets MINML_REQUIRE_SHARED=1 so
    that their absence fails the run instead of skipping these tests."""
    if not (SHARED / "training").is_dir():
        if os.environ.get("MINML_REQUIRE_SHARED") == "1":
            pytest.fail(f"shared data not found at {SHARED} (MINML_REQUIRE_SHARED=1)")
        pytest.skip(f"shared data not found at {SHARED}")
    return SHARED


@pytest.fixture
def app():
    """The web app's page, run once in Streamlit's own test harness (AppTest)."""
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "src" / "minml" / "app" / "page.py"), default_timeout=300)
    at.run()
    assert not at.exception
    return at


@pytest.fixture(scope="module")
def client():
    """A real two-worker ``distributed.LocalCluster`` for one test module, its client current:
    what ``minml classify FOLDER`` and the lazy maps run on (closed with the module)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", memory_limit="1GiB"
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def pytest_collection_modifyitems(config, items):
    """Tests marked ``train`` need PyTorch (the train extra): skip them cleanly without it,
    unless CI asks for them (MINML_REQUIRE_TRAIN=1), where a missing torch is a failure."""
    import importlib.util

    if importlib.util.find_spec("torch") is not None:
        return
    if os.environ.get("MINML_REQUIRE_TRAIN") == "1":
        raise pytest.UsageError("MINML_REQUIRE_TRAIN=1 but torch is not installed (pip install torch==2.13.0)")
    skip = pytest.mark.skip(reason='needs PyTorch: pip install "min-ml[train]"')
    for item in items:
        if "train" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """CI installs every extra and sets MINML_REQUIRE_EXTRAS=1: a test skipped because an
    optional package could not be imported (``pytest.importorskip``) fails there instead."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("MINML_REQUIRE_EXTRAS") == "1":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if "could not import" in reason:
            report.outcome = "failed"
            report.longrepr = f"MINML_REQUIRE_EXTRAS=1, but {reason}"


@contextmanager
def leaves_global_rng_alone():
    """Fails the test if the code inside draws from numpy's or torch's global random state."""
    import numpy as np
    import torch

    np.random.seed(123)
    torch.manual_seed(123)
    before_np, before_torch = np.random.get_state()[1].copy(), torch.get_rng_state().clone()
    yield
    assert (np.random.get_state()[1] == before_np).all(), "numpy's global random state was used"
    assert torch.equal(torch.get_rng_state(), before_torch), "torch's global random state was used"


_BLOCK_TORCH = (
    "import sys\n"
    "class NoTorch:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] == 'torch':\n"
    "            raise ImportError('torch is blocked in this test')\n"
    "sys.meta_path.insert(0, NoTorch())\n"
)


def run_without_torch(code: str, *args) -> str:
    """Run ``code`` in a fresh interpreter where importing torch fails; return its stdout."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-c", _BLOCK_TORCH + code, *map(str, args)], capture_output=True, text=True, check=True
    ).stdout
