import subprocess
import sys

import pytest

import minml


def test_import_loads_neither_torch_nor_matplotlib():
    code = ("import sys, minml; heavy = [m for m in ('torch', 'matplotlib', 'sklearn', 'pandas') if m in sys.modules]; "
            "print(','.join(heavy))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
    # reading and checking tables needs numpy and pandas, still no torch or matplotlib
    code = ("import sys, minml; minml.check_oxides; "
            "print(','.join(m for m in ('torch', 'matplotlib', 'sklearn') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_public_names_exist():
    for name in minml.__all__:
        assert hasattr(minml, name), name
    assert minml.__version__.count(".") == 2


def test_shipped_models_load_once_and_missing_ones_say_how_to_rebuild(monkeypatch):
    import minml._resources as resources
    from minml._resources import load_shipped

    monkeypatch.setattr(resources, "_SHIPPED", {})  # leave the real cache alone
    calls = []
    first = load_shipped("labels.toml", lambda path: calls.append(path) or object(), "never")
    assert load_shipped("labels.toml", lambda path: calls.append(path), "never") is first and len(calls) == 1
    with pytest.raises(FileNotFoundError, match=r"no-such-v9\.npz is missing .* `minml train --which latent`"):
        load_shipped("no-such-v9.npz", lambda path: None, "minml train --which latent")
