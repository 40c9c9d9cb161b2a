"""Faults of the third robustness trial, met as a user meets them: folders of files whose columns
or column types differ, a title line above a header, ``-o DIR/``, SIGTERM and SIGKILL while
writing, a full disk and paths the system refuses, an output folder taken by another run.
Every input row and column comes back, outputs are whole or absent, and every refusal is one
line naming the fix, never a traceback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from minml.cli import main

from .conftest import ROOT

pq = pytest.importorskip("pyarrow.parquet")

pytestmark = pytest.mark.shared_data

MINML = [sys.executable, "-m", "minml.cli"]
DROPPED = ["entity_id", "NiO", "CoO"]  # what 0b.csv of the trial lacks and 1a.csv has


def _env() -> dict:
    """The environment of a subprocess running this checkout's minml."""
    return {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}


@pytest.fixture(scope="module")
def lepr(shared_data) -> pd.DataFrame:
    """The LEPR rows of the shared test file, as read from it."""
    return pd.read_csv(shared_data / "test" / "lepr_allphases_lim.csv", index_col=0).reset_index(drop=True)


@pytest.fixture(scope="module")
def big_csv(lepr, tmp_path_factory) -> Path:
    """~300,000 LEPR rows in one CSV file: its classified output takes a while to write."""
    path = tmp_path_factory.mktemp("big") / "big.csv"
    pd.concat([lepr] * 20, ignore_index=True).to_csv(path, index=False)
    return path


def _one_line(err: str) -> str:
    """The one line of an error (and no traceback)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _temporaries(folder: Path) -> list[str]:
    """What a write left in ``folder``: minml's hidden temporary folders and staging folders."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".minml-writing-") or ".incomplete-" in p.name)


def _wait_for(found, process, seconds: float = 180):
    """Poll ``found()`` until it gives something, while ``process`` runs (ended, if not)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        hit = found()
        if hit:
            return hit
        time.sleep(0.002)
    ended = process.poll() is not None
    if not ended:
        process.kill()
    raise AssertionError(f"the run ended first: {process.communicate()}" if ended else "timed out")


def _descendants(pid: int) -> set[int]:
    """The processes started by ``pid`` (Dask's workers), from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        children = {child for child, ppid in parents.items() if ppid == parent}
        found |= children
        todo += list(children)
    return found


def _gone(pids: set[int], seconds: float = 30) -> set[int]:
    """Those of ``pids`` still running after ``seconds`` (ended by the test, by their ids)."""
    deadline = time.monotonic() + seconds
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)}
        time.sleep(0.1)
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    return alive


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def _parts(folder: Path) -> list[Path]:
    return sorted(folder.glob("part.*.parquet"))


def _one_schema(folder: Path):
    """The Arrow schema every part of ``folder`` has (asserted the same)."""
    schemas = {str(pq.read_schema(p).remove_metadata()) for p in _parts(folder)}
    assert len(schemas) == 1, schemas
    return pq.read_schema(_parts(folder)[0]).remove_metadata()


# ---- 1. files whose columns differ: the union of the columns, none dropped -------------------


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_files_with_other_columns_keep_every_column(client, lepr, tmp_path, suffix):
    """0b lacks entity_id, NiO and CoO, which 1a has: every part lacked them, 1a's rows too."""
    few, full = lepr.iloc[:600].drop(columns=DROPPED), lepr.iloc[600:1500]
    folder = tmp_path / "files"
    folder.mkdir()
    for name, rows in (("0b", few), ("1a", full)):
        if suffix == ".csv":
            rows.to_csv(folder / f"{name}.csv", index=False)
        else:
            rows.reset_index(drop=True).to_parquet(folder / f"{name}.parquet")
    assert main(["classify", str(folder), "-o", f"{tmp_path / 'out'}/"]) == 0
    columns = list(few.columns) + DROPPED  # in the order first seen
    for part in _parts(tmp_path / "out"):
        assert pq.read_schema(part).names[: len(columns)] == columns, part.name
    schema = _one_schema(tmp_path / "out")
    assert str(schema.field("entity_id").type) == "double"  # whole numbers, missing in 0b's rows
    back = pd.read_parquet(tmp_path / "out")
    assert len(back) == 1500 and back["mineral"].notna().all()
    assert back[DROPPED].iloc[:600].isna().all().all()
    expected = full[DROPPED].reset_index(drop=True).astype(float)
    pd.testing.assert_frame_equal(back[DROPPED].iloc[600:].reset_index(drop=True), expected)
    pd.testing.assert_frame_equal(back[list(few.columns)].iloc[:600], few, check_dtype=False)


def test_validate_over_files_with_other_columns(client, lepr, tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    lepr.iloc[:400].drop(columns=DROPPED).to_csv(folder / "0b.csv", index=False)
    lepr.iloc[400:900].to_csv(folder / "1a.csv", index=False)
    assert main(["validate", str(folder), "-o", f"{tmp_path / 'out'}/"]) == 0
    _one_schema(tmp_path / "out")
    back = pd.read_parquet(tmp_path / "out")
    assert sorted(back["validate_row"]) == list(range(1, 901))
    assert back["entity_id"].iloc[400:].tolist() == lepr["entity_id"].iloc[400:900].astype(float).tolist()


# ---- 2. Parquet files whose column types differ: one schema over all parts -------------------


def test_parquet_files_of_other_types_give_one_schema(client, lepr, tmp_path):
    """SiO2 float in a.parquet, text with one 'bdl' in b.parquet; entity_id whole numbers in one,
    decimal in the other: the parts had two schemas and pd.read_parquet(OUT) failed."""
    folder = tmp_path / "files"
    folder.mkdir()
    a, b = lepr.iloc[:500].reset_index(drop=True), lepr.iloc[500:1000].reset_index(drop=True)
    a.to_parquet(folder / "a.parquet", row_group_size=200)
    b = b.assign(SiO2=b["SiO2"].astype(str), entity_id=b["entity_id"].astype(float))
    b.loc[5, "SiO2"] = "bdl"
    b.to_parquet(folder / "b.parquet")
    assert main(["classify", str(folder), "-o", f"{tmp_path / 'out'}/"]) == 0
    schema = _one_schema(tmp_path / "out")
    assert len(_parts(tmp_path / "out")) == 4  # a's three row groups, and b
    assert str(schema.field("SiO2").type) == "large_string" and str(schema.field("entity_id").type) == "double"
    back = pd.read_parquet(tmp_path / "out")
    assert back["SiO2"].iloc[505] == "bdl"
    assert pd.to_numeric(back["SiO2"].iloc[:500]).tolist() == a["SiO2"].tolist()  # numbers as they print
    assert back["entity_id"].tolist() == lepr["entity_id"].iloc[:1000].astype(float).tolist()
    assert back["mineral"].notna().all()
    np.testing.assert_array_equal(back["MgO"], lepr["MgO"].iloc[:1000])


# ---- 3. a file that cannot be read as the others: one line naming it -------------------------


def test_a_title_line_above_a_header_is_refused_naming_the_file(lepr, tmp_path, capsys):
    folder = tmp_path / "files"
    folder.mkdir()
    with open(folder / "0bad.csv", "w") as handle:
        handle.write("This is a title line\n")
        lepr.iloc[:50].to_csv(handle, index=False)
    lepr.iloc[50:300].to_csv(folder / "a.csv", index=False)
    assert main(["classify", str(folder), "-o", f"{tmp_path / 'out'}/"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith(f"minml classify: error: {folder / '0bad.csv'} cannot be read as the other files")
    assert "Remove the lines above its column names" in line and "--header-row N" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["files"]  # nothing written, nothing staged


def test_a_row_that_cannot_be_read_names_its_file(lepr, tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    lepr.iloc[:300].to_csv(folder / "a.csv", index=False)
    lepr.iloc[300:600].to_csv(folder / "b.csv", index=False)
    with open(folder / "b.csv", "a") as handle:
        handle.write(",".join(["1"] * (len(lepr.columns) + 3)) + "\n")  # more cells than names
    run = subprocess.run(
        [*MINML, "classify", str(folder), "-o", f"{tmp_path / 'out'}/"], env=_env(), capture_output=True, text=True
    )
    assert run.returncode == 2
    line = _one_line(run.stderr)
    assert line.startswith(f"minml classify: error: {folder / 'b.csv'} cannot be read past byte 0")
    assert "mend the row, or move the file out" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["files"]


def test_rows_with_a_cell_more_than_the_names_are_refused_not_shifted(client, lepr, tmp_path):
    """pandas reads rows one cell longer than the header with the first cells as an index:
    every value would sit one column off, and the first column be lost."""
    from minml import classify_files

    folder = tmp_path / "files"
    folder.mkdir()
    lepr.iloc[:300].to_csv(folder / "a.csv", index=False)
    rows = lepr.iloc[300:600].to_csv(index=False).splitlines()
    (folder / "b.csv").write_text("\n".join([rows[0]] + [row + ",x" for row in rows[1:]]) + "\n")
    with pytest.raises(
        ValueError, match=r"b\.csv cannot be read past byte 0 \(rows have more cells than the 16 column"
    ):
        classify_files(folder, tmp_path / "out")
    with pytest.raises(ValueError, match=r"b\.csv cannot be read past byte \d+ \(rows have more cells"):
        classify_files(folder, tmp_path / "out", blocksize=20_000)  # a block of b.csv past its header
    assert sorted(p.name for p in tmp_path.iterdir()) == ["files"]


# ---- 4. -o DIR/ keeps its trailing separator -------------------------------------------------


def test_output_ending_in_a_separator_is_a_folder_of_parts(client, lepr, tmp_path, capsys):
    source = tmp_path / "in.csv"
    lepr.iloc[:300].to_csv(source, index=False)
    assert main(["classify", str(source), "-o", f"{tmp_path / 'out'}/"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote {tmp_path / 'out'} (1 parts)"
    assert len(pd.read_parquet(tmp_path / "out")) == 300
    assert main(["check", str(source), "-o", f"{tmp_path / 'checked'}/"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "ends in a separator, which names a folder: minml check writes one table; give a file name" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out"]


# ---- 5. SIGTERM cleans up; SIGKILL's leftovers are swept by the next run ----------------------


def test_sigterm_while_writing_leaves_nothing(big_csv, tmp_path):
    out = tmp_path / "out.csv"
    run = subprocess.Popen(
        [*MINML, "classify", str(big_csv), "-o", str(out)], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _wait_for(lambda: [p for p in tmp_path.glob(".minml-writing-*/out.csv") if p.stat().st_size > 0], run)
    os.kill(run.pid, signal.SIGTERM)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 143
    assert _one_line(err.decode()) == "minml classify: terminated (SIGTERM)"
    assert list(tmp_path.iterdir()) == []


def _folder_run(lepr, tmp_path: Path, files: int, copies: int, output=subprocess.PIPE) -> tuple[subprocess.Popen, set]:
    """``minml classify`` of a folder of ``files`` CSV parts (``copies`` of the LEPR rows each)
    into ``out/``, once its first part is staged; the run and its local cluster's processes."""
    folder = tmp_path / "files"
    folder.mkdir()
    for i in range(files):
        pd.concat([lepr] * copies, ignore_index=True).to_csv(folder / f"part{i}.csv", index=False)
    run = subprocess.Popen(
        [*MINML, "classify", str(folder), "-o", f"{tmp_path / 'out'}/"], env=_env(), stdout=output, stderr=output
    )
    _wait_for(lambda: list(tmp_path.glob("out.incomplete-*/*.parquet")), run)
    return run, _descendants(run.pid)


def test_sigterm_on_the_folder_route_leaves_nothing(lepr, tmp_path):
    run, workers = _folder_run(lepr, tmp_path, files=6, copies=3)
    os.kill(run.pid, signal.SIGTERM)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 143, err
    assert err.decode().splitlines()[-1] == "minml classify: terminated (SIGTERM)" and "Traceback" not in err.decode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["files"]
    assert _gone(workers) == set()  # the local cluster's workers ended with it


def _started_writing(big_csv: Path, out: Path) -> tuple[subprocess.Popen, Path]:
    """A run classifying ``big_csv`` into ``out``, once its temporary file has begun."""
    run = subprocess.Popen([*MINML, "classify", str(big_csv), "-o", str(out)], env=_env(), stdout=subprocess.DEVNULL)
    mine = f".minml-writing-{run.pid}@*/*"
    found = _wait_for(lambda: [p for p in out.parent.glob(mine) if p.stat().st_size > 0], run)
    return run, found[0].parent


def test_sigkill_leftovers_are_swept_by_the_next_run_not_a_live_runs(big_csv, lepr, tmp_path):
    killed, left = _started_writing(big_csv, tmp_path / "killed.csv")
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert left.name.startswith(f".minml-writing-{killed.pid}@{socket.gethostname()}") and left.exists()
    paused, live = _started_writing(big_csv, tmp_path / "paused.csv")
    paused.send_signal(signal.SIGSTOP)  # alive, its temporary half written
    try:
        small = tmp_path / "small.csv"
        lepr.iloc[:100].to_csv(small, index=False)
        assert main(["classify", str(small), "-o", str(tmp_path / "next.csv")]) == 0
        assert not left.exists() and live.exists()  # the dead run's temporary swept, the live one's kept
    finally:
        paused.send_signal(signal.SIGCONT)
    assert paused.wait(timeout=300) == 0
    assert len(pd.read_csv(tmp_path / "paused.csv", usecols=["mineral"])) == 20 * len(lepr)  # whole
    assert _temporaries(tmp_path) == [] and not (tmp_path / "killed.csv").exists()


def test_sigkill_on_the_folder_route_is_swept_by_the_next_run(client, lepr, tmp_path):
    run, workers = _folder_run(lepr, tmp_path, files=4, copies=2, output=subprocess.DEVNULL)
    run.send_signal(signal.SIGKILL)
    run.wait()
    _gone(workers)
    assert _temporaries(tmp_path) and not (tmp_path / "out").exists()
    assert main(["classify", str(tmp_path / "files" / "part0.csv"), "-o", f"{tmp_path / 'out'}/"]) == 0
    assert _temporaries(tmp_path) == [] and len(pd.read_parquet(tmp_path / "out")) == 2 * len(lepr)


# ---- 6. the system refuses a write: one line naming the user's path --------------------------


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("a" * 300 + ".csv", "File name too long (give a shorter name)"),
        ("/sys/x.csv", ""),
        ("/proc/x.csv", ""),
        ("b" * 300 + "/", "File name too long (give a shorter name)"),
    ],
    ids=["name too long", "sys", "proc", "folder name too long"],
)
def test_paths_the_system_refuses_are_one_line(lepr, tmp_path, capsys, output, reason):
    if output.startswith("/") and not Path(output).parent.is_dir():
        pytest.skip(f"no {Path(output).parent} here")
    source = tmp_path / "in.csv"
    lepr.iloc[:50].to_csv(source, index=False)
    output = output if output.startswith("/") else str(tmp_path / output)
    assert main(["classify", str(source), "-o", output]) == 1
    line = _one_line(capsys.readouterr().err)
    named = output.rstrip("/")
    assert line.startswith(f"minml classify: error: cannot write {named!r}: ") and line.endswith(reason)
    assert ".minml-writing" not in line and ".incomplete" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def _limit_file_size():
    """In the child: files end at 1 MB (the write fails with EFBIG, as a full disk fails)."""
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))


def test_a_write_cut_short_by_the_system_is_one_line(lepr, tmp_path):
    source = tmp_path / "in.csv"
    lepr.to_csv(source, index=False)
    out = tmp_path / "out.csv"
    run = subprocess.run(
        [*MINML, "classify", str(source), "-o", str(out)],
        env=_env(),
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size,
    )
    assert run.returncode == 1
    assert _one_line(run.stderr) == (
        f"minml classify: error: cannot write {str(out)!r}: File too large (write to a disk that takes larger "
        "files, or make the file smaller)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


@pytest.fixture
def small_disk(tmp_path):
    """A 400 kB tmpfs (skipped where this process may not mount one)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


@pytest.mark.parametrize("output", ["out.csv", "out.parquet", "out/"])
def test_a_full_disk_is_one_line(client, lepr, small_disk, tmp_path, capsys, output):
    source = tmp_path / "in.csv"
    pd.concat([lepr] * 2).to_csv(source, index=False)
    out = f"{small_disk}/{output}"
    assert main(["classify", str(source), "-o", out]) == 1
    line = _one_line(capsys.readouterr().err)
    assert line == (
        f"minml classify: error: cannot write {out.rstrip('/')!r}: No space left on device (free some space, or "
        "write to another disk)"
    )
    assert list(small_disk.iterdir()) == []


# ---- 7. an output folder that exists, or that another run takes meanwhile --------------------


def test_an_output_folder_that_exists_is_one_line(lepr, tmp_path, capsys):
    source = tmp_path / "in.csv"
    lepr.iloc[:50].to_csv(source, index=False)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "part.00000.parquet").write_bytes(b"an earlier run's")
    assert main(["classify", str(source), "-o", f"{tmp_path / 'out'}/"]) == 2
    assert _one_line(capsys.readouterr().err) == (
        f"minml classify: error: -o {str(tmp_path / 'out')!r} is a folder that is not empty: remove it, or give -o "
        "a new folder for the parts (e.g. out-2/)."
    )
    assert (tmp_path / "out" / "part.00000.parquet").read_bytes() == b"an earlier run's"


def test_a_run_whose_folder_another_run_took_says_so_and_keeps_it_whole(client, lepr, tmp_path, capsys):
    """Two runs into one folder: the loser's rename met the winner's parts (Errno 39, a traceback)."""
    folder = tmp_path / "files"
    folder.mkdir()
    lepr.iloc[:3000].to_csv(folder / "a.csv", index=False)
    lepr.iloc[3000:3500].to_csv(tmp_path / "b.csv", index=False)
    loser = subprocess.Popen(
        [*MINML, "classify", str(folder), "-o", f"{tmp_path / 'out'}/"], env=_env(), stderr=subprocess.PIPE, text=True
    )
    _wait_for(lambda: list(tmp_path.glob("out.incomplete-*")), loser)
    loser.send_signal(signal.SIGSTOP)  # it has checked -o and staged; the other run goes first
    try:
        assert main(["classify", str(tmp_path / "b.csv"), "-o", f"{tmp_path / 'out'}/"]) == 0
    finally:
        loser.send_signal(signal.SIGCONT)
    _, err = loser.communicate(timeout=300)
    assert loser.returncode == 2
    assert _one_line(err) == (
        f"minml classify: error: {str(tmp_path / 'out')!r} was written by another run while this one ran: its "
        "output is kept, and this run's parts removed; name a new folder for the parts, or remove that one and run "
        "again."
    )
    back = pd.read_parquet(tmp_path / "out")
    assert back["entity_id"].tolist() == lepr["entity_id"].iloc[3000:3500].tolist()  # the winner's, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.csv", "files", "out"]
    assert np.all(back["mineral"].notna())
