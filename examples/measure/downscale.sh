#!/usr/bin/env bash
# What downscaling changes (docs/CALIBRATION.md): a scenario run at full size and with
# `scale` of each region's simulated households (at least 200; weights raised so the real
# population is the same, as `xiezuo calibrate` does), same seeds, years 1–6; prints each
# calibration target's mean and sd over seeds at both sizes.
#   examples/measure/downscale.sh [SCENARIO] [SCALE] [SEEDS]
#   (default scenarios/china_2021_pairings.toml 0.25 "1 2 3")
# Needs a release build (cargo build --release) and python3 with polars.
set -euo pipefail
SC=${1:-scenarios/china_2021_pairings.toml}; SCALE=${2:-0.25}; SEEDS=${3:-"1 2 3"}
BIN=${XIEZUO:-$(dirname "$0")/../../target/release/xiezuo}
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
mapfile -t SETS < <(SC="$SC" SCALE="$SCALE" python3 - <<'PY'
import os, tomllib
doc = tomllib.load(open(os.environ["SC"], "rb"))
s = float(os.environ["SCALE"])
out = []
for r in doc["region"]:
    n, w = r["households"], r.get("weight", 1.0)
    k = min(n, max(200, round(n * s)))
    if k != n:
        out += [f"region.{r['name']}.households={k}", f"region.{r['name']}.weight={w * n / k!r}"]
for x in out:
    print("--set"); print(x)
PY
)
for seed in $SEEDS; do
  "$BIN" run "$SC" --seed "$seed" --set time.years=6 --out "$D/full-$seed" > /dev/null
  "$BIN" run "$SC" --seed "$seed" --set time.years=6 "${SETS[@]}" --out "$D/down-$seed" > /dev/null
done
D="$D" SEEDS="$SEEDS" python3 - <<'PY'
import os, polars as pl
D, seeds = os.environ["D"], os.environ["SEEDS"].split()
def values(run):
    m = pl.read_parquet(f"{run}/metrics.parquet").with_columns(pl.col("date").dt.year().alias("year"))
    tpy = m["ticks_per_year"][0]
    ye = m.filter((pl.col("tick") + 1) % tpy == 0)
    w = ye.filter(pl.col("region") == "WEST")
    a = ye.filter(pl.col("region") == "ALL")
    f = pl.read_parquet(f"{run}/flows.parquet").with_columns(pl.col("date").dt.year().alias("year"))
    inv = f.filter((pl.col("channel") == "investment") & (pl.col("year") == 2023))["amount"].sum()
    pl_ = f.filter((pl.col("channel") == "placements") & (pl.col("year") == 2023))["amount"].sum()
    g = lambda df, y, c: df.filter(pl.col("year") == y)[c][0]
    return {
        "west_income_2021": g(w, 2021, "mean_income"),
        "east_west_ratio_2021": g(a, 2021, "east_west_ratio"),
        "transfer_share_2021": g(w, 2021, "transfer_share_nbs"),
        "dibao_share_2021": g(w, 2021, "dibao_share"),
        "poverty_rate_2023": g(w, 2023, "poverty_rate"),
        "east_investment_2023": inv,
        "placements_2023": pl_,
    }
rows = []
for size in ["full", "down"]:
    for s in seeds:
        rows.append({"size": size, "seed": s, **values(f"{D}/{size}-{s}")})
df = pl.DataFrame(rows)
cols = [c for c in df.columns if c not in ("size", "seed")]
agg = df.group_by("size").agg([pl.col(c).mean().alias(c) for c in cols] + [pl.col(c).std().alias(c + "_sd") for c in cols]).sort("size")
pl.Config.set_tbl_cols(40); pl.Config.set_tbl_width_chars(250)
for c in cols:
    full = agg.filter(pl.col("size") == "full"); down = agg.filter(pl.col("size") == "down")
    print(f"{c:24s} full {full[c][0]:.6g} (sd {full[c+'_sd'][0]:.3g})   down {down[c][0]:.6g} (sd {down[c+'_sd'][0]:.3g})   ratio {down[c][0]/full[c][0]:.4f}")
PY
