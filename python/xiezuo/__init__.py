"""Run xiezuo from Python and get polars frames back.

xiezuo is an agent-based simulator of inter-regional resource flows (East–West and
mountain–sea cooperation) and return to poverty. This module runs it in-process, through the
same library calls as the command line, so a scenario and seed give the same tables as
``xiezuo run`` (frames equal to its Parquet files, column by column). Tables cross from Rust
as Arrow C streams: no copy, no pyarrow.

    import xiezuo
    sc = xiezuo.scenario("builtin:two_way_market", set={"policy.leakage": 0.2})
    res = xiezuo.run(sc, seed=1, years=10)           # res.metrics, res.flows, ...: polars.DataFrame
    cmp = xiezuo.compare("builtin:one_way_aid", "builtin:two_way_market", replicates=20)
    b = xiezuo.batch("experiments/relapse_vs_budget.toml", out="out/sweep", jobs=2)
    xiezuo.scenarios(); xiezuo.keys()

Errors are :class:`XiezuoError` with the command line's message (file, line, key, allowed
values). A run releases the GIL; ``progress`` (a callable ``(done, total)``, e.g. a tqdm
bar's update) is called at tick boundaries for ``run`` and at run boundaries for
``compare``; if it raises (or on Ctrl-C) the simulation stops and the exception propagates.

Helpers that notebooks used to copy: :func:`mean_ci`, :func:`paired`, :func:`kaplan_meier`,
:func:`spells` and :func:`read` (any output directory: run, comparison or merged batch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

import polars as pl

from . import _native
from ._native import Cancelled, Scenario, XiezuoError

__version__ = _native.__version__
__all__ = [
    "Cancelled",
    "Result",
    "Scenario",
    "XiezuoError",
    "batch",
    "compare",
    "kaplan_meier",
    "keys",
    "mean_ci",
    "paired",
    "read",
    "run",
    "scenario",
    "scenarios",
    "spells",
]

Progress = Callable[[int, int], object]


def _overrides(set: Mapping[str, object] | Iterable[str] | None) -> list[str]:
    """``{"policy.leakage": 0.2}`` or ``["policy.leakage=0.2"]`` → command-line overrides."""
    if set is None:
        return []
    if isinstance(set, Mapping):
        out = []
        for k, v in set.items():
            if isinstance(v, bool):
                v = "true" if v else "false"
            elif isinstance(v, str):
                v = f'"{v}"'
            out.append(f"{k}={v}")
        return out
    return [str(s) for s in set]


def scenario(
    spec: str | Path | Scenario,
    set: Mapping[str, object] | Iterable[str] | None = None,
    seed: int | None = None,
    years: int | None = None,
) -> Scenario:
    """Loads and validates a scenario: ``"builtin:NAME"`` or a TOML file, with overrides
    (``{"key.path": value}`` or ``["key.path=value"]``, as ``--set``), a seed and a horizon
    in years (as ``--seed`` and ``--years``). Raises :class:`XiezuoError` naming the file,
    line and key of a bad value."""
    if isinstance(spec, Scenario):
        if set is not None:
            raise XiezuoError("apply overrides when loading: xiezuo.scenario(spec, set=...)")
        return _native.derive(spec, seed, years)
    return _native.scenario(str(spec), _overrides(set), seed, years)


@dataclass
class Result:
    """The tables of one run (polars DataFrames equal to ``xiezuo run``'s Parquet files)."""

    scenario: Scenario
    metrics: pl.DataFrame
    flows: pl.DataFrame
    links: pl.DataFrame
    markets: pl.DataFrame
    accounts: pl.DataFrame
    households: pl.DataFrame | None = None
    tables: dict[str, pl.DataFrame] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        rows = ", ".join(f"{k} {v.height:,}" for k, v in self.tables.items())
        return f"<xiezuo.Result of {self.scenario.name!r} (seed {self.scenario.seed}): {rows} rows>"


def run(
    sc: str | Path | Scenario,
    seed: int | None = None,
    years: int | None = None,
    set: Mapping[str, object] | Iterable[str] | None = None,
    panel: bool = False,
    progress: Progress | None = None,
) -> Result:
    """Runs a scenario once (``xiezuo run``). ``panel=True`` also returns the yearly
    household panel (``households``). ``progress(done, total)`` is called after every tick,
    burn-in included."""
    if isinstance(sc, Scenario):
        if set is not None:
            raise XiezuoError("apply overrides when loading: xiezuo.scenario(spec, set=...)")
        if seed is not None or years is not None:
            sc = _native.derive(sc, seed, years)
    else:
        sc = scenario(sc, set=set, seed=seed, years=years)
    t = _native.run(sc, panel, progress)
    return Result(
        scenario=sc,
        metrics=t["metrics"],
        flows=t["flows"],
        links=t["links"],
        markets=t["markets"],
        accounts=t["accounts"],
        households=t.get("households"),
        tables=dict(t),
    )


def compare(
    a: str | Path | Scenario = "builtin:one_way_aid",
    b: str | Path | Scenario = "builtin:two_way_market",
    replicates: int = 20,
    seed: int | None = None,
    set: Mapping[str, object] | Iterable[str] | None = None,
    years: int | None = None,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """Compares two scenarios over paired replicates (common seeds from ``seed``, else A's),
    as ``xiezuo compare``: per year, region and measure, A's and B's means and B − A with its
    95% interval (the command line's ``comparison.parquet``). ``progress(done, total)`` is
    called as runs finish."""
    sa = a if isinstance(a, Scenario) else scenario(a, set=set, years=years)
    sb = b if isinstance(b, Scenario) else scenario(b, set=set, years=years)
    return _native.compare(sa, sb, replicates, seed, progress)


@dataclass
class Batch:
    """A finished batch directory: its size and its merged tables."""

    out: Path
    total: int
    ran: int
    failed: int
    tables: dict[str, pl.DataFrame]

    def __getattr__(self, name: str) -> pl.DataFrame:
        try:
            return self.tables[name]
        except KeyError:
            raise AttributeError(name) from None


def batch(
    file: str | Path,
    out: str | Path,
    jobs: int | None = None,
    resume: bool = False,
    progress: Progress | None = None,
) -> Batch:
    """Runs a batch file into ``out`` (``xiezuo batch``: parallel, resumable with
    ``resume=True``), merges it and returns its tables (``metrics``, ``runs``, …).
    ``progress(done, total)`` is called after every run; if it raises, no further run
    starts and the exception propagates (``resume=True`` finishes the batch later)."""
    total, ran, failed = _native.batch(str(file), str(out), jobs, resume, progress)
    return Batch(Path(out), total, ran, failed, read(out))


def scenarios() -> pl.DataFrame:
    """The built-in scenarios (name, description)."""
    rows = _native.scenarios()
    return pl.DataFrame({"name": [r[0] for r in rows], "description": [r[1] for r in rows]})


def keys() -> pl.DataFrame:
    """Every scenario key: type, default, unit, min, max, allowed values, meaning."""
    return _native.keys()


# ---------------------------------------------------------------------------------------
# Helpers for notebooks


def read(directory: str | Path) -> dict[str, pl.DataFrame]:
    """Every table of an output directory (a run, a comparison, or a merged batch) by name:
    the ``*.parquet`` files at its top level (``*.csv`` where no Parquet exists)."""
    d = Path(directory)
    if not d.is_dir():
        raise XiezuoError(f"{d}: not a directory")
    out: dict[str, pl.DataFrame] = {}
    for p in sorted(d.glob("*.parquet")):
        out[p.stem] = pl.read_parquet(p)
    for p in sorted(d.glob("*.csv")):
        out.setdefault(p.stem, pl.read_csv(p, try_parse_dates=True))
    if not out:
        raise XiezuoError(f"{d}: no tables (*.parquet, *.csv); a batch must be merged first (xiezuo merge)")
    return out


def _t975(df: int) -> float:
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom (bisection on the
    regularised incomplete beta; exact to 1e-10, as the Rust side's)."""
    if df <= 0:
        return math.nan

    def cdf(t: float) -> float:
        x = df / (df + t * t)
        return 1.0 - 0.5 * _betainc(df / 2.0, 0.5, x)

    lo, hi = 0.0, 1000.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if cdf(mid) < 0.975:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b) (continued fraction, Numerical Recipes)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    lbeta = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front = math.exp(lbeta + a * math.log(x) + b * math.log(1.0 - x))
    if x > (a + 1.0) / (a + b + 2.0):
        return 1.0 - _betainc(b, a, 1.0 - x)
    f, c, d = 1.0, 1.0, 0.0
    for i in range(400):
        m = i // 2
        if i == 0:
            num = 1.0
        elif i % 2 == 0:
            num = (m * (b - m) * x) / ((a + 2.0 * m - 1.0) * (a + 2.0 * m))
        else:
            num = -((a + m) * (a + b + m) * x) / ((a + 2.0 * m) * (a + 2.0 * m + 1.0))
        d = 1.0 + num * d
        d = 1.0 / (d if abs(d) > 1e-300 else 1e-300)
        c = 1.0 + num / (c if abs(c) > 1e-300 else 1e-300)
        f *= c * d
        if abs(1.0 - c * d) < 1e-15:
            break
    return front * (f - 1.0) / a


def mean_ci(df: pl.DataFrame, value: str, by: str | list[str] | None = None) -> pl.DataFrame:
    """Mean of ``value`` with the half-width of its 95% interval (Student t) and the count,
    per group of ``by`` (e.g. across replicates: ``by=["scenario", "date"]``)."""
    by = [by] if isinstance(by, str) else (by or [])
    agg = [
        pl.col(value).mean().alias("mean"),
        pl.col(value).std().alias("sd"),
        pl.col(value).count().alias("n"),
    ]
    g = df.group_by(by, maintain_order=True).agg(agg) if by else df.select(agg)
    t = {n: _t975(n - 1) for n in g["n"].unique().to_list()}
    return g.with_columns(
        (pl.col("n").replace_strict(t, return_dtype=pl.Float64) * pl.col("sd") / pl.col("n").sqrt()).alias("ci95")
    ).drop("sd")


def paired(a: pl.DataFrame, b: pl.DataFrame, value: str, on: str | list[str]) -> pl.DataFrame:
    """Paired differences B − A of ``value``, matched on ``on`` (which must include the
    replicate, e.g. ``["replicate", "date", "region"]``), summarised per the other keys of
    ``on`` (all but ``replicate``): mean difference, its 95% interval and count."""
    on = [on] if isinstance(on, str) else list(on)
    j = a.select(*on, pl.col(value).alias("_a")).join(b.select(*on, pl.col(value).alias("_b")), on=on)
    j = j.with_columns((pl.col("_b") - pl.col("_a")).alias("diff"))
    keys_ = [k for k in on if k != "replicate"]
    return mean_ci(j, "diff", keys_)


def spells(households: pl.DataFrame) -> pl.DataFrame:
    """Exit-to-relapse spells from a household panel (``run(..., panel=True).households`` or
    ``households.parquet``): per household that ever exited, the exit year, whether it
    relapsed (``event``) and the years from exit to relapse or to the panel's end
    (``duration``)."""
    s = (
        households.sort("household", "year")
        .group_by("household", maintain_order=True)
        .agg(
            pl.col("year").filter(pl.col("ever_exited")).first().alias("exit_year"),
            pl.col("year").filter(pl.col("ever_relapsed")).first().alias("relapse_year"),
            pl.col("year").max().alias("last_year"),
        )
        .filter(pl.col("exit_year").is_not_null())
        .with_columns(
            pl.col("relapse_year").is_not_null().alias("event"),
            pl.coalesce("relapse_year", "last_year").sub(pl.col("exit_year")).alias("duration"),
        )
    )
    return s.filter(pl.col("duration") > 0)


def kaplan_meier(duration, event) -> pl.DataFrame:
    """Kaplan–Meier survival of exits (years to relapse, censored where ``event`` is false)
    with Greenwood 95% intervals (log–log). ``duration`` and ``event`` are sequences or
    polars Series (e.g. the columns of :func:`spells`)."""
    d = pl.Series(duration).cast(pl.Int64).to_list()
    e = pl.Series(event).cast(pl.Boolean).to_list()
    if not d:
        return pl.DataFrame(schema={"time": pl.Int64, "at_risk": pl.Int64, "events": pl.Int64,
                                    "survival": pl.Float64, "low": pl.Float64, "high": pl.Float64})
    rows, surv, green = [], 1.0, 0.0
    for t in range(1, max(d) + 1):
        n = sum(1 for x in d if x >= t)
        if n == 0:
            break
        k = sum(1 for x, ev in zip(d, e) if x == t and ev)
        surv *= 1.0 - k / n
        if n > k:
            green += k / (n * (n - k))
        if 0.0 < surv < 1.0 and green > 0.0:
            se = math.sqrt(green) / abs(math.log(surv))
            lo = surv ** math.exp(1.959963984540054 * se)
            hi = surv ** math.exp(-1.959963984540054 * se)
        else:
            lo = hi = surv
        rows.append((t, n, k, surv, lo, hi))
    return pl.DataFrame(rows, schema=["time", "at_risk", "events", "survival", "low", "high"], orient="row")
