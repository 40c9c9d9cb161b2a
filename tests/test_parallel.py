import os

import numpy as np
import pandas as pd
import pytest

import minml._parallel as parallel
from minml import classify, read_table
from minml._parallel import run_in_threads

from .conftest import EXAMPLE


def test_results_keep_the_order_of_the_items():
    assert run_in_threads(lambda x: x * x, range(50)) == [x * x for x in range(50)]
    assert run_in_threads(lambda x: x, []) == []


def test_errors_in_a_thread_reach_the_caller():
    def work(x):
        if x == 3:
            raise ValueError("bad chunk 3")
        return x

    with pytest.raises(ValueError, match="bad chunk 3"):
        run_in_threads(work, range(6))


def test_classify_gives_the_same_answer_on_one_thread_or_several(monkeypatch):
    import minml.classifier.predict as predict

    table = pd.concat([read_table(EXAMPLE)] * 1000, ignore_index=True)  # 76,000 rows: three chunks of 30,000
    monkeypatch.setattr(predict, "_CHUNK", 30_000)
    monkeypatch.setattr(parallel, "worker_count", lambda: 1)
    one = classify(table)
    monkeypatch.setattr(parallel, "worker_count", lambda: 3)
    several = classify(table)
    pd.testing.assert_frame_equal(one, several)  # bit for bit: BLAS is single-threaded in both
    assert (one["mineral"] != "unknown").mean() > 0.8
    np.testing.assert_array_equal(one["mineral"].iloc[:76], classify(table.iloc[:76])["mineral"])


def test_a_progress_bar_only_when_asked_for_and_worth_showing(capsys):
    assert run_in_threads(lambda x: x, range(4), progress=True, desc="chunks") == [0, 1, 2, 3]
    shown = capsys.readouterr().err
    assert "chunks" in shown and "4/4" in shown
    run_in_threads(lambda x: x, range(4))
    run_in_threads(lambda x: x, range(1), progress=True, desc="chunks")  # one item: nothing to watch
    assert capsys.readouterr().err == ""


def test_ordered_results_keep_their_order_and_few_wait():
    import threading
    import time

    from minml._parallel import ordered_in_threads

    started = []
    lock = threading.Lock()

    def work(x):
        with lock:
            started.append(x)
        time.sleep(0.001 * (x % 3))  # finish out of order
        return x * x

    seen = []
    for i, result in enumerate(ordered_in_threads(work, range(40))):
        seen.append(result)
        with lock:  # never more than twice the workers ahead of the consumer
            assert len(started) <= i + 1 + 2 * parallel.worker_count()
    assert seen == [x * x for x in range(40)]
    assert list(ordered_in_threads(work, [])) == []
    with pytest.raises(ValueError, match="piece 5"):
        list(ordered_in_threads(lambda x: x if x != 5 else int("piece 5"), range(9)))


def test_callers_on_several_threads_get_what_one_thread_gets(shared_data):
    """A threaded Dask scheduler or a web server calls classify, validate and formula from
    several threads at once, the first calls loading the shipped models together: the
    answers must be those of one call after another (run cold, in a fresh interpreter)."""
    import subprocess
    import sys

    code = """
import sys, warnings
import numpy as np, pandas as pd
from concurrent.futures import ThreadPoolExecutor
import minml
warnings.simplefilter("ignore")  # formula's absent-column warnings
table = pd.read_csv(sys.argv[1]).sample(6000, random_state=0)
parts = [table.iloc[i::4] for i in range(4)]
work = [lambda p: minml.classify(p, coverage=0.95), minml.validate, lambda p: minml.formula(p, "auto")]
with ThreadPoolExecutor(12) as pool:  # every call at once, models not loaded yet
    together = list(pool.map(lambda job: job[0](job[1]), [(w, p) for w in work for p in parts]))
alone = [w(p) for w in work for p in parts]
for a, b in zip(alone, together):
    pd.testing.assert_frame_equal(a, b)
print("same", len(together))
"""
    result = subprocess.run(
        [sys.executable, "-c", code, str(shared_data / "test" / "lepr_allphases_lim.csv")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "same 12"


def _blas_threads() -> dict:
    """Threads of each BLAS library loaded (scipy may bring one of its own), by its file."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    return {i["filepath"]: i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"}


def test_classify_map_and_latent_hold_blas_to_one_thread_while_they_run_and_restore_it(monkeypatch):
    """OpenBLAS's own threads spin after each product and take the cores from minml's
    threads: the public functions hold BLAS to one thread for their run (the count as it was
    once they return).  Seen from inside each, by a step of its own that records the count."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import minml.classifier.predict as predict
    import minml.maps.classify as map_classify
    import minml.unsupervised.latent as latent
    from minml.maps import read_map

    from .conftest import ROOT

    if not _blas_threads():
        pytest.skip("numpy here reports no BLAS library to threadpoolctl")
    seen: dict = {}

    def recorded(module, name):
        step = getattr(module, name)

        def step_recording(*args, **kwargs):
            seen.setdefault(name, _blas_threads())
            return step(*args, **kwargs)

        monkeypatch.setattr(module, name, step_recording)

    recorded(predict, "_scores")
    recorded(map_classify, "_classify_blocks")
    recorded(map_classify, "resolve_mixtures")
    recorded(latent, "_usable")
    table = read_table(EXAMPLE)
    demo = read_map(ROOT / "examples" / "demo_map.npz")
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        classify(table)
        map_classify.classify_map(demo)
        latent.latent(table)
        after = _blas_threads()
        assert {library: after[library] for library in before} == before  # restored
    assert before and set(before.values()) == {min(2, os.cpu_count() or 1)}
    assert list(seen) == ["_scores", "_classify_blocks", "resolve_mixtures", "_usable"]
    assert all(set(counts.values()) == {1} for counts in seen.values()), seen
    # a map classified band by band (Dask, here on one thread): each band's two passes hold it too
    dask = pytest.importorskip("dask")
    from minml.maps._lazy import classify_lazy

    seen.clear()
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"), dask.config.set(scheduler="synchronous"):
        classify_lazy(demo, band_rows=64).compute()
    assert list(seen) == ["_classify_blocks", "resolve_mixtures"]
    assert all(set(counts.values()) == {1} for counts in seen.values()), seen


def test_calls_that_overlap_share_one_hold_and_give_back_the_count_found_before():
    """Two threads in decorated calls, the first to start finishing first: the second still
    runs on one BLAS thread, and once it returns the count is what it was before either."""
    import threading

    def blas_threads() -> set:
        return set(_blas_threads().values())

    if not blas_threads():
        pytest.skip("numpy here reports no BLAS library to threadpoolctl")
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict = {}

    @parallel.one_blas_thread
    def first() -> None:
        first_in.set()
        second_in.wait(10)
        seen["first"] = blas_threads()

    @parallel.one_blas_thread
    def second() -> None:
        second_in.set()
        first_out.wait(10)
        seen["second, the first gone"] = blas_threads()

    before = blas_threads()  # the process's own count (a limit set on this thread would hide theirs)
    a = threading.Thread(target=lambda: (first(), first_out.set()))
    a.start()
    first_in.wait(10)
    b = threading.Thread(target=second)
    b.start()
    a.join(10)
    b.join(10)
    assert blas_threads() == before
    assert seen == {"first": {1}, "second, the first gone": {1}}
