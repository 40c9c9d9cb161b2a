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


def test_public_functions_stay_functions_whatever_is_imported_first():
    """``minml.formula`` and ``minml.validate`` were also the names of their modules: once
    anything imported the module (``from minml.validate import label_summary``, the CLI,
    the report) before the name was first used, ``minml.validate(table)`` raised "'module'
    object is not callable".  No public name may be a submodule's name."""
    import pkgutil

    modules = {info.name for info in pkgutil.iter_modules(minml.__path__)}
    assert not modules & set(minml.__all__)
    code = ("import importlib, pkgutil, minml\n"
            "for info in pkgutil.iter_modules(minml.__path__):\n"
            "    if info.name != '_train':  # the one module that needs torch\n"
            "        importlib.import_module('minml.' + info.name)\n"
            "print(','.join(n for n in minml.__all__ if type(getattr(minml, n)).__name__ == 'module'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_shipped_models_load_once_and_missing_ones_say_how_to_rebuild(monkeypatch):
    import minml._resources as resources
    from minml._resources import load_shipped

    monkeypatch.setattr(resources, "_SHIPPED", {})  # leave the real cache alone
    calls = []
    first = load_shipped("labels.toml", lambda path: calls.append(path) or object(), "never")
    assert load_shipped("labels.toml", lambda path: calls.append(path), "never") is first and len(calls) == 1
    with pytest.raises(FileNotFoundError, match=r"no-such-v9\.npz is missing .* `minml train --which latent`"):
        load_shipped("no-such-v9.npz", lambda path: None, "minml train --which latent")
