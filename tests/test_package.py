import subprocess
import sys

import pytest

import minml


def test_import_loads_neither_torch_nor_matplotlib():
    code = (
        "import sys, minml; heavy = [m for m in ('torch', 'matplotlib', 'sklearn', 'pandas') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
    # reading and checking tables needs numpy and pandas, still no torch or matplotlib
    code = (
        "import sys, minml; minml.check_oxides; "
        "print(','.join(m for m in ('torch', 'matplotlib', 'sklearn') if m in sys.modules))"
    )
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
    code = (
        "import importlib, pkgutil, minml\n"
        "for info in pkgutil.walk_packages(minml.__path__, 'minml.'):\n"
        "    if info.name not in ('minml.training._torch', 'minml.cli.__main__', 'minml.app.page'):  # torch; scripts\n"
        "        importlib.import_module(info.name)\n"
        "print(','.join(n for n in minml.__all__ if type(getattr(minml, n)).__name__ == 'module'))"
    )
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


def _readme_blocks(language: str) -> list[str]:
    import re

    from .conftest import ROOT

    return re.findall(rf"```{language}\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)


def test_readme_python_runs_as_printed(monkeypatch):
    """The README's Python lines, run from the repository as a reader would."""
    pytest.importorskip("sklearn")
    from .conftest import ROOT

    monkeypatch.chdir(ROOT)
    (code,) = _readme_blocks("python")
    names = {}
    exec(compile(code, "README.md", "exec"), names)
    assert {"mineral", "prediction_set"} <= set(names["result"].columns)
    assert {"Fo", "misfit"} <= set(names["formulas"].columns) and "verdict" in names["validated"]
    assert len(names["placed"]) == len(names["table"]) == len(names["checked"].oxides)


def test_readme_command_options_exist(capsys):
    """Every option the README's table of commands shows is one the command takes."""
    import re

    from minml.cli import main

    from .conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands: dict[str, set] = {}
    for synopsis in re.findall(r"^\| `(minml [^`]+)` \|", readme, re.M):
        words = synopsis.replace("\\|", " ").split()
        command = " ".join(words[1:3]) if words[1] == "data" else words[1]
        commands.setdefault(command, set()).update(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", " ".join(words)))
    documented = {"classify", "validate", "formula", "map", "latent", "check", "data build", "train", "evaluate"}
    assert documented <= set(commands)
    for command, options in commands.items():
        with pytest.raises(SystemExit):
            main([*command.split(), "--help"])
        shown = capsys.readouterr().out
        assert all(re.search(rf"(?<![\w-]){re.escape(o)}\b", shown) for o in options), (command, options)
