import subprocess
import sys

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
