"""The user path never loads the maintainer tools (``minml.training``): classifying, validating,
computing formulas, the latent view and reading and checking tables run without them."""

import subprocess
import sys

from tests.conftest import EXAMPLE, ROOT

_USER_PATH = f"""
import sys
import minml
table = minml.read_table({str(EXAMPLE)!r})
result = minml.classify(table)
assert (result["mineral"] != "unknown").sum() > 50, result["mineral"].value_counts()
minml.check_oxides(table)
minml.validate(table, label_column="Mineral")
minml.formula(table, mineral_column="Mineral")
minml.latent(table)
loaded = sorted(m for m in sys.modules if m == "minml.training" or m.startswith("minml.training."))
print(",".join(loaded) if loaded else "none")
print("sklearn.model_selection" in sys.modules)
"""


def test_the_user_path_imports_no_training_module():
    result = subprocess.run(
        [sys.executable, "-c", _USER_PATH], capture_output=True, text=True, check=True, cwd=ROOT, timeout=300
    )
    loaded, folds = result.stdout.split()
    assert loaded == "none"
    assert folds == "False"  # cross-validation (calibrate) loads only when asked for


def test_the_classify_command_imports_no_training_module(tmp_path):
    code = (
        "import sys\n"
        "from minml.cli import main\n"
        f"main(['classify', {str(EXAMPLE)!r}, '-o', {str(tmp_path / 'out.csv')!r}])\n"
        "print(','.join(m for m in sys.modules if m.startswith('minml.training')) or 'none')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip().splitlines()[-1] == "none"
    assert (tmp_path / "out.csv").stat().st_size > 0
