#!/usr/bin/env bash
# C1 gap and its decomposition by channel: two_way_market − one_way_aid, mean over 2021–2025 of
# the western relapse and poverty rates (paired replicates), with each channel of
# two_way_market switched off in turn (B arm only: one_way_aid has these channels at 0).
#   examples/measure/c1_decomposition.sh [REPLICATES]      (default 20)
# Needs a release build (cargo build --release) and python3 with polars.
set -euo pipefail
R=${1:-20}
BIN=${XIEZUO:-$(dirname "$0")/../../target/release/xiezuo}
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
printf 'extends = "builtin:two_way_market"\nname = "two_way_full"\n' > "$D/full.toml"
printf 'extends = "builtin:two_way_market"\nname = "two_way_no_industry_linkage"\n[policy]\ndividend_share = 0.0\nguaranteed_return = 0.0\n[policy.allocation]\nindustry = 0.0\ntransfers = 0.55\n' > "$D/no_industry_linkage.toml"
for n in full no_industry_linkage; do
  "$BIN" compare builtin:one_way_aid "$D/$n.toml" --replicates "$R" --out "$D/out/$n" --force > /dev/null
done
for ch in labour_demand market_access firm_mobilisation training_places; do
  "$BIN" compare builtin:one_way_aid builtin:two_way_market --set "link[0].channels.$ch=0" \
    --replicates "$R" --out "$D/out/no_$ch" --force > /dev/null
done
D="$D" python3 - <<'PY'
import os, polars as pl
out = os.environ["D"] + "/out"
rows = {}
for n in sorted(os.listdir(out)):
    c = pl.read_parquet(f"{out}/{n}/comparison.parquet").filter(pl.col("year").is_between(2021, 2025))
    g = lambda m: c.filter(pl.col("measure") == m)["diff_mean"].mean()
    rows[n] = (g("relapse_rate"), g("poverty_rate"))
fr, fp = rows["full"]
for n, (r, p) in rows.items():
    print(f"{n:<24} relapse gap {r:+.4f} ({(1 - r / fr) * 100:4.0f}% closed)   poverty gap {p:+.4f} ({(1 - p / fp) * 100:4.0f}% closed)")
PY
