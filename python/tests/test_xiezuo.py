"""Tests of the Python module against the command line (run by .ci/run after `pip install ./python`).

    python3 -m pytest python/tests -q          # XIEZUO_BIN: the CLI (default target/release/xiezuo)
"""

from __future__ import annotations

import math
import os
import subprocess
import threading
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import xiezuo

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("XIEZUO_BIN", ROOT / "target" / "release" / "xiezuo"))


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN), *args], cwd=ROOT, capture_output=True, text=True)


def test_a_run_equals_the_command_lines_parquet_column_by_column(tmp_path):
    out = tmp_path / "run"
    p = cli("run", "builtin:two_way_market", "--years", "3", "--seed", "7", "--panel",
            "--set", "policy.leakage=0.2", "--out", str(out))
    assert p.returncode == 0, p.stderr
    sc = xiezuo.scenario("builtin:two_way_market", set={"policy.leakage": 0.2}, seed=7, years=3)
    res = xiezuo.run(sc, panel=True)
    for name in ["metrics", "flows", "links", "markets", "accounts", "households"]:
        expected = pl.read_parquet(out / f"{name}.parquet")
        got = res.tables[name]
        assert got.columns == expected.columns, name
        assert_frame_equal(got, expected, check_exact=True)
    # The resolved scenario is the command line's, and loads to the same results.
    assert sc.toml.split("\n", 1)[1] == (out / "scenario.resolved.toml").read_text().split("\n", 1)[1]
    f = tmp_path / "resolved.toml"
    f.write_text(sc.toml)
    again = xiezuo.run(str(f), years=3)
    assert_frame_equal(again.metrics, res.metrics, check_exact=True)


def test_seed_and_years_on_a_loaded_scenario():
    sc = xiezuo.scenario("builtin:one_way_aid")
    short = xiezuo.scenario(sc, years=2, seed=3)
    assert (short.seed, short.ticks) == (3, 24) and sc.ticks > 24
    a = xiezuo.run(sc, seed=3, years=2)
    b = xiezuo.run(short)
    assert_frame_equal(a.metrics, b.metrics, check_exact=True)


def test_bad_input_is_an_error_with_the_command_lines_message():
    with pytest.raises(xiezuo.XiezuoError) as e:
        xiezuo.scenario("builtin:one_way_aid", set={"policy.leakage": 2.0})
    p = cli("check", "builtin:one_way_aid", "--set", "policy.leakage=2.0")
    assert p.returncode == 2
    msg = str(e.value)
    assert "policy.leakage" in msg and "[0, 1]" in msg, msg
    assert msg in p.stderr, (msg, p.stderr)
    with pytest.raises(xiezuo.XiezuoError, match="no_such_scenario"):
        xiezuo.scenario("builtin:no_such_scenario")
    with pytest.raises(xiezuo.XiezuoError, match="years"):
        xiezuo.scenario("builtin:one_way_aid", years=0)


def test_progress_is_reported_and_an_exception_in_it_stops_the_run():
    seen = []
    xiezuo.run("builtin:one_way_aid", years=1, progress=lambda d, t: seen.append((d, t)))
    total = seen[-1][1]
    assert [d for d, _ in seen] == list(range(0, total + 1))  # a report at the start, then one per tick

    class Stop(Exception):
        pass

    def stop(done, total):
        if done == 5:
            raise Stop("enough")

    with pytest.raises(Stop):
        xiezuo.run("builtin:one_way_aid", progress=stop)


def test_the_gil_is_released_while_a_run_goes():
    ticks = []
    running = threading.Event()
    stop = threading.Event()

    def count():
        running.set()
        while not stop.is_set():
            ticks.append(1)

    t = threading.Thread(target=count)
    t.start()
    running.wait()
    before = len(ticks)
    xiezuo.run("builtin:two_way_market", years=5)
    during = len(ticks) - before
    stop.set()
    t.join()
    assert during > 1000, during


def test_compare_equals_the_command_lines_comparison(tmp_path):
    out = tmp_path / "cmp"
    p = cli("compare", "--replicates", "3", "--years", "3", "--out", str(out))
    assert p.returncode == 0, p.stderr
    calls = []
    got = xiezuo.compare(replicates=3, years=3, progress=lambda d, t: calls.append(d))
    assert_frame_equal(got, pl.read_parquet(out / "comparison.parquet"), check_exact=True)
    assert sorted(calls) == list(range(1, 7))


def test_batch_runs_merges_and_reads(tmp_path):
    f = tmp_path / "b.toml"
    f.write_text(
        """
name = "tiny"
seed = 5
replicates = 2
years = 2

[[scenario]]
builtin = "one_way_aid.toml"
label = "one_way"
set = ["region.Upland.households=300", "region.Coastal.households=100"]

[sweep]
method = "grid"

[[sweep.param]]
key = "policy.leakage"
values = [0.0, 0.3]
"""
    )
    calls = []
    b = xiezuo.batch(f, tmp_path / "out", jobs=2, progress=lambda d, t: calls.append((d, t)))
    assert (b.total, b.ran, b.failed) == (4, 4, 0)
    assert sorted(calls) == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert b.metrics["replicate"].n_unique() == 2 and "param.policy.leakage" in b.metrics.columns
    p = cli("batch", str(f), "--out", str(tmp_path / "cli"), "--jobs", "1")
    assert p.returncode == 0, p.stderr
    assert cli("merge", str(tmp_path / "cli")).returncode == 0
    assert_frame_equal(b.metrics, pl.read_parquet(tmp_path / "cli" / "metrics.parquet"), check_exact=True)
    # A callback that raises stops the batch; resume=True finishes it, with the same tables.
    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        xiezuo.batch(f, tmp_path / "stopped", jobs=1, progress=stop)
    again = xiezuo.batch(f, tmp_path / "stopped", jobs=1, resume=True)
    assert again.ran == 3
    assert_frame_equal(again.metrics, b.metrics, check_exact=True)


def test_scenarios_and_keys_are_the_command_lines():
    names = xiezuo.scenarios()["name"].to_list()
    assert "one_way_aid" in names and "china_2021_pairings" in names
    k = xiezuo.keys()
    import json

    cli_keys = json.loads(cli("keys", "--format", "json").stdout)
    assert k["key"].to_list() == [r["key"] for r in cli_keys]
    row = k.filter(pl.col("key") == "policy.leakage").row(0, named=True)
    assert (row["min"], row["max"]) == (0.0, 1.0)


def test_helpers():
    # mean and Student-t interval: n = 4, sd = 1.2909944, t(3) = 3.182446
    df = pl.DataFrame({"g": ["a"] * 4 + ["b"] * 2, "x": [1.0, 2.0, 3.0, 4.0, 5.0, 5.0]})
    m = xiezuo.mean_ci(df, "x", "g")
    a = m.filter(pl.col("g") == "a").row(0, named=True)
    assert a["n"] == 4 and a["mean"] == 2.5
    assert abs(a["ci95"] - 3.182446305284263 * 1.2909944487358056 / 2.0) < 1e-9
    assert m.filter(pl.col("g") == "b")["ci95"][0] == 0.0
    # paired differences across replicates
    A = pl.DataFrame({"replicate": [0, 1, 2], "y": [1.0, 2.0, 3.0]})
    B = pl.DataFrame({"replicate": [0, 1, 2], "y": [2.0, 3.5, 3.5]})
    d = xiezuo.paired(A, B, "y", "replicate").row(0, named=True)
    assert d["n"] == 3 and abs(d["mean"] - 1.0) < 1e-12
    # Kaplan–Meier: 5 spells, events at 1, 2, 2; censored at 3, 4
    km = xiezuo.kaplan_meier([1, 2, 2, 3, 4], [True, True, True, False, False])
    s = dict(zip(km["time"].to_list(), km["survival"].to_list()))
    assert abs(s[1] - 0.8) < 1e-12 and abs(s[2] - 0.8 * (1 - 2 / 4)) < 1e-12 and s[4] == s[2]
    assert all(lo <= sv <= hi for lo, sv, hi in zip(km["low"], km["survival"], km["high"]))


def test_read_any_output_directory(tmp_path):
    out = tmp_path / "r"
    assert cli("run", "builtin:one_way_aid", "--years", "1", "--out", str(out), "--format", "csv").returncode == 0
    t = xiezuo.read(out)
    assert {"metrics", "flows"} <= set(t) and t["metrics"].height > 0
    with pytest.raises(xiezuo.XiezuoError):
        xiezuo.read(tmp_path / "missing")
    assert math.isfinite(xiezuo._t975(10))
