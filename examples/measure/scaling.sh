#!/usr/bin/env bash
# The scaling table of issue 15 (README "Performance"): a whole `xiezuo run` of
# two_way_market at N simulated households (Upland 5/6, Coastal 1/6, as benches/ratio.rs),
# YEARS years plus the 2-year burn-in, with the standard outputs (Parquet tables, no
# panel), on 1 and 2 threads; then batch throughput with 1 and 2 jobs.
#   examples/measure/scaling.sh [SIZES] [YEARS] [PANEL]
#   (default "10000 100000 1000000 10000000" 20; PANEL=panel adds a --panel run per size)
# Prints Markdown rows: households, threads, wall time of the whole process, simulation time
# (timing.json: the run without set-up and writing), household-steps per second of the
# simulation, peak resident memory. Needs a release build (cargo build --release) and
# /usr/bin/time. Run it on a quiet machine: the figures are wall-clock.
set -euo pipefail
SIZES=${1:-"10000 100000 1000000 10000000"}; YEARS=${2:-20}; PANEL=${3:-}
BIN=${XIEZUO:-$(dirname "$0")/../../target/release/xiezuo}
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
TICKS=$(( (YEARS + 2) * 12 ))   # monthly ticks, horizon plus the 2-year burn-in
row() { # n threads extra-label [extra args...]
  local n=$1 t=$2 label=$3; shift 3
  local west=$(( n - n / 6 )) east=$(( n / 6 ))
  rm -rf "$D/out"
  /usr/bin/time -f "%e %M" -o "$D/time" "$BIN" --threads "$t" run builtin:two_way_market \
    --set "region.Upland.households=$west" --set "region.Coastal.households=$east" \
    --set "time.years=$YEARS" --out "$D/out" "$@" > /dev/null
  read -r wall rss < "$D/time"
  local sim
  sim=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["wall_time_seconds"])' "$D/out/timing.json")
  python3 - "$n" "$t" "$label" "$wall" "$sim" "$rss" "$TICKS" <<'PY'
import sys
n, t, label, wall, sim, rss, ticks = sys.argv[1:]
n, wall, sim, rss, ticks = int(n), float(wall), float(sim), int(rss), int(ticks)
print(f"| {n:,} | {t} | {label} | {wall:.1f} s | {sim:.1f} s | {n * ticks / sim / 1e6:.1f} M | {rss / 1024:,.0f} MB |")
PY
}
echo "| households | threads | outputs | wall | simulation | household-steps/s | peak memory |"
echo "| ---: | ---: | --- | ---: | ---: | ---: | ---: |"
for n in $SIZES; do
  for t in 1 2; do
    row "$n" "$t" standard
  done
  if [ "$PANEL" = panel ]; then
    row "$n" 2 "+ panel" --panel
  fi
done

# Batch throughput: 32 replicates of two_way_market at its shipped size (24k households,
# 10 years), yearly rows, with 1 and 2 jobs.
cat > "$D/batch.toml" <<'EOF'
name = "throughput"
seed = 1
replicates = 32
[[scenario]]
builtin = "two_way_market.toml"
label = "two_way"
[output]
tables = ["metrics"]
yearly = true
EOF
echo
echo "| batch jobs | runs | wall | runs/s |"
echo "| ---: | ---: | ---: | ---: |"
for j in 1 2; do
  rm -rf "$D/batch"
  start=$(date +%s.%N)
  "$BIN" batch "$D/batch.toml" --out "$D/batch" --jobs "$j" > /dev/null 2>&1
  end=$(date +%s.%N)
  python3 -c 'import sys; j, a, b = sys.argv[1:]; w = float(b) - float(a); print(f"| {j} | 32 | {w:.1f} s | {32 / w:.1f} |")' "$j" "$start" "$end"
done
