#!/usr/bin/env bash
# How much the common random numbers of `compare` buy: for one_way_aid against two_way_market
# and three mechanism pairs of scenarios/mechanisms/, the paired 95% interval of B − A
# (diff_ci95) over the unpaired one (diff_ci95_welch), median and mean over the measures
# poverty_rate, relapse_rate, relapses_per_household, mean_income and exit_rate and the years
# after the first. 1 is no gain; 0.5 means a quarter of the replicates give the same precision.
#   examples/measure/crn.sh [REPLICATES]      (default 10; XIEZUO=path/to/xiezuo for another build)
# Needs a release build (cargo build --release) and python3 with polars.
set -euo pipefail
R=${1:-10}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${XIEZUO:-$ROOT/target/release/xiezuo}
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
M=$ROOT/scenarios/mechanisms
pairs=("builtin:one_way_aid builtin:two_way_market two_way_market"
       "$M/monitoring_off.toml $M/monitoring_on.toml monitoring"
       "$M/training_off.toml $M/training_on.toml training"
       "$M/insurance_off.toml $M/insurance_on.toml insurance")
for p in "${pairs[@]}"; do
  set -- $p
  "$BIN" compare "$1" "$2" --replicates "$R" --out "$D/$3" --force > /dev/null
done
D="$D" python3 - <<'PY'
import os, polars as pl
d = os.environ["D"]
keep = ["poverty_rate", "relapse_rate", "relapses_per_household", "mean_income", "exit_rate"]
for name in sorted(os.listdir(d)):
    c = pl.read_parquet(f"{d}/{name}/comparison.parquet")
    c = c.filter((pl.col("year") > c["year"].min()) & pl.col("measure").is_in(keep)
                 & (pl.col("diff_ci95_welch") > 0))
    r = c["diff_ci95"] / c["diff_ci95_welch"]
    print(f"{name:<16} paired / unpaired interval: median {r.median():.2f}, mean {r.mean():.2f} ({len(r)} measure-years)")
PY
