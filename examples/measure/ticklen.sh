#!/usr/bin/env bash
# Tick-length check (ODD §9.5, tests/tick_length.rs): yearly western poverty and mean income
# of a scenario run with time.step = month, quarter and year, means over seeds, and the
# year − month and quarter − month differences.
#   examples/measure/ticklen.sh [SCENARIO] [SEEDS]     (default builtin:two_way_market, "1 2 3 4")
# Needs a release build (cargo build --release) and python3 with polars.
set -euo pipefail
SC=${1:-builtin:two_way_market}; SEEDS=${2:-"1 2 3 4"}
BIN=${XIEZUO:-$(dirname "$0")/../../target/release/xiezuo}
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
for st in month quarter year; do for seed in $SEEDS; do
  "$BIN" run "$SC" --set "time.step=\"$st\"" --seed "$seed" --out "$D/$st-$seed" --force > /dev/null
done; done
D="$D" SEEDS="$SEEDS" python3 - <<'PY'
import os, polars as pl
D, seeds = os.environ["D"], os.environ["SEEDS"].split()
res = {}
for st in ["month", "quarter", "year"]:
    dfs = []
    for seed in seeds:
        m = pl.read_parquet(f"{D}/{st}-{seed}/metrics.parquet").filter(pl.col("region") == "WEST")
        tpy = m["ticks_per_year"][0]
        m = m.filter((pl.col("tick") + 1) % tpy == 0).with_columns(pl.col("date").dt.year().alias("year"))
        dfs.append(m.select(["year", "poverty_rate", "mean_income"]))
    res[st] = pl.concat(dfs).group_by("year").mean().sort("year")
m, q, y = res["month"], res["quarter"], res["year"]
out = m.select("year").with_columns(
    ((y["poverty_rate"] - m["poverty_rate"]) * 100).round(2).alias("poverty_pts_year_minus_month"),
    ((q["poverty_rate"] - m["poverty_rate"]) * 100).round(2).alias("poverty_pts_quarter_minus_month"),
    ((y["mean_income"] / m["mean_income"] - 1) * 100).round(2).alias("income_pct_year_vs_month"),
)
pl.Config.set_tbl_rows(50); pl.Config.set_tbl_width_chars(200)
print(out)
PY
