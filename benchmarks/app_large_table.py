"""How the app copes with a 100,000-row table (AppTest, in this process): seconds to read, to
classify (by chunks, with progress), and to redraw the page after a filter changes.

    PYTHONPATH=src python benchmarks/app_large_table.py [ROWS]
"""

import sys
import time
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

import minml

ROOT = Path(__file__).resolve().parent.parent
rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
example = pd.read_csv(ROOT / "examples" / "lepr_sample.csv")
big = pd.concat([example] * (rows // len(example) + 1), ignore_index=True).iloc[:rows]
data = big.to_csv(index=False).encode()
at = AppTest.from_file(str(Path(minml.__file__).parent / "app" / "page.py"), default_timeout=1800)
at.run()
for step, act in [
    ("upload and read", lambda: at.file_uploader(key="table_file").set_value(("big.csv", data, "text/csv")).run()),
    ("classify", lambda: at.button(key="run_classify").click().run()),
    ("filter olivine", lambda: at.multiselect(key="filter_mineral").set_value(["olivine"]).run()),
    ("probability 0.9-1", lambda: at.slider(key="filter_probability").set_value((0.9, 1.0)).run()),
]:
    start = time.perf_counter()
    act()
    print(f"{rows} rows, {step}: {time.perf_counter() - start:.1f} s", "errors:", [e.value for e in at.error][:2])
