"""The user guide's runnable examples run as printed."""

import re
import shutil

import pytest

from .conftest import EXAMPLE, ROOT


def _python_blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "guide" / page).read_text(encoding="utf-8"), re.S)


def test_retraining_example_trains_saves_and_classifies(tmp_path, monkeypatch, capsys):
    pytest.importorskip("sklearn")
    (tmp_path / "examples").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    (code,) = _python_blocks("retraining.md")
    from minml.chemistry.labels import fitted_class

    names: dict = {}
    with pytest.warns(UserWarning, match="Labels fitted as the classes"):  # as the guide's comment says
        exec(compile(code, "retraining.md", "exec"), names)
    assert (tmp_path / "my-model.npz").is_file()
    # LEPR's spellings fitted as the classes they name (Olivine -> olivine), FeTiOxide kept as given
    fitted = {fitted_class(label) or label for label in names["labels"]}
    assert set(names["model"].classes_) == fitted and "FeTiOxide" in fitted
    assert names["model"].calibration_ is not None
    named = names["result"]["mineral"]
    assert set(named) - {"unknown"} <= fitted and (named == "olivine").sum() >= 3
    assert "olivine" in capsys.readouterr().out


def test_guide_links_resolve():
    pages = [ROOT / "README.md", ROOT / "docs" / "index.md", *(ROOT / "docs" / "guide").glob("*.md")]
    for page in pages:
        for target in re.findall(r"\]\(([^)#]+?)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if target.startswith("http") or target.endswith(("app.md", "dask.md", "species.md")):
                continue  # pages other branches add
            assert (page.parent / target).exists(), (page.name, target)


def test_the_pages_state_the_overlap_note_s_threshold_as_the_code_has_it():
    """The note's threshold (which also caps every prediction-set cut-off) is quoted where users
    read about flags, overlaps and validation; a changed constant must change those pages too."""
    from minml.classifier._overlap import OVERLAP_PROBABILITY

    stated = f"{OVERLAP_PROBABILITY:g} or more"
    pages = ["docs/guide/overlaps.md", "docs/guide/outputs-and-flags.md", "docs/guide/validation.md"]
    pages += ["docs/validation.md", "src/minml/classifier/predict.py", "src/minml/validation/verdicts.py"]
    for page in pages:
        text = " ".join((ROOT / page).read_text(encoding="utf-8").split())  # lines joined
        assert stated in text, (page, stated)
