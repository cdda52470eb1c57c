#!/usr/bin/env bash
# Instructions per household-step (issue 15), counted by valgrind's cachegrind: a whole
# `xiezuo run` of two_way_market at N simulated households (Upland 5/6, Coastal 1/6, as
# benches/ratio.rs and scaling.sh), YEARS years plus the 2-year burn-in, on 1 thread.
#   examples/measure/instructions.sh [N] [YEARS]     (default 40000 8; about 25 s)
# Unlike wall-clock figures the counts are deterministic: the same binary, scenario and seed
# give the same counts whatever else the machine is doing, so an A/B of two commits needs one
# run each. Prints the total and, per household-step, the instructions of the household
# step's parts (functions of src/model/agents/household.rs, by source line), of the other
# files and libraries, and the simulated conditional-branch mispredictions (cachegrind's
# predictor is simpler than the CPU's: compare A with B, not with the hardware).
# Builds a release binary with line tables into target/instructions (the same code as
# `cargo build --release`, with debug line information). Needs valgrind and python3.
set -euo pipefail
N=${1:-40000}; YEARS=${2:-8}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR_INSTR:-$ROOT/target/instructions}
( cd "$ROOT" && CARGO_PROFILE_RELEASE_DEBUG=line-tables-only CARGO_TARGET_DIR="$TARGET" \
    cargo build --release --quiet --bin xiezuo )
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
west=$(( N - N / 6 )); east=$(( N / 6 ))
valgrind --tool=cachegrind --cache-sim=no --branch-sim=yes --cachegrind-out-file="$D/cg.out" \
  "$TARGET/release/xiezuo" --threads 1 run builtin:two_way_market \
  --set "region.Upland.households=$west" --set "region.Coastal.households=$east" \
  --set "time.years=$YEARS" --out "$D/out" > /dev/null 2> "$D/log"
cg_annotate --auto=no "$D/cg.out" > "$D/summary.txt"
cg_annotate --auto=no "$D/cg.out" "$ROOT/src/model/agents/household.rs" > "$D/household.txt"
python3 - "$D" "$ROOT/src/model/agents/household.rs" "$N" "$YEARS" <<'PY'
import re, sys
d, src, n, years = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
steps = n * (years + 2) * 12
num = lambda s: int(s.replace(",", ""))
# Totals and per file:function rows of the summary.
total, rows = None, []
for line in open(f"{d}/summary.txt"):
    # Five event columns (Ir Bc Bcm Bi Bim), each "N (p%)", "0" or ".", then the place.
    m = re.match(r"\s*((?:(?:[\d,]+ \(\s*[\d.]+%\)|0|\.)\s+){5})(\S.*)$", line)
    if not m:
        continue
    cols = re.findall(r"([\d,]+) \(\s*[\d.]+%\)|(?<![\d,(])(0|\.)(?=\s)", m.group(1))
    vals = [num(a) if a else 0 for a, _ in cols]
    if len(vals) != 5:
        continue
    ir, bc, bcm, where = vals[0], vals[1], vals[2], m.group(2).strip()
    if where == "PROGRAM TOTALS":
        total = (ir, bc, bcm)
    elif ":" in where:
        rows.append((ir, bcm, where))
# The functions of household.rs by their first line (top-level `fn` items).
starts, impl = [], None
for i, line in enumerate(open(src), 1):
    m = re.match(r"impl(?:<[^>]*>)? (\w+)", line)
    if m:
        impl = m.group(1)
    elif re.match(r"\S", line) and not line.startswith(("}", "#", "//")):
        impl = None
    m = re.match(r"(\s*)(?:pub(?:\([a-z]+\))? )?(?:const )?fn (\w+)", line)
    if m:
        starts.append((i, f"{impl}::{m.group(2)}" if m.group(1) and impl else m.group(2)))
    m = re.match(r"(?:pub(?:\([a-z]+\))? )?(?:struct|enum|const|static|mod) (\w+)", line)
    if m:
        starts.append((i, f"({m.group(1)})"))
    if line.startswith("#[cfg(test)]"):
        starts.append((i, "(tests)"))
        break
def owner(line_no):
    name = "(items before the first fn)"
    for s, f in starts:
        if s <= line_no:
            name = f
    return name
parts, cur, ln = {}, False, None
for line in open(f"{d}/household.txt"):
    if "annotated source:" in line:
        cur = line.rstrip().endswith("household.rs"); ln = None; continue
    if not cur:
        continue
    m = re.match(r"-- line (\d+) -+", line)
    if m:
        ln = int(m.group(1)); continue
    if ln is None:
        continue
    if line.startswith("-----"):
        break                      # the end of the annotated file
    m = re.match(r"\s*([\d,]+) \(", line)
    if "<counts for unidentified lines" in line:
        if m:
            parts["(lines not identified)"] = parts.get("(lines not identified)", 0) + num(m.group(1))
        continue
    if m:
        parts[owner(ln)] = parts.get(owner(ln), 0) + num(m.group(1))
    ln += 1
ir, bc, bcm = total
print(f"households {n:,}, {years} years + 2-year burn-in: {steps:,} household-steps")
print(f"instructions {ir:,} = {ir / steps:,.0f} a household-step; conditional branches "
      f"{bc / steps:,.0f}, mispredicted (simulated) {bcm / steps:,.1f}")
print("\nhousehold.rs by function (instructions a household-step):")
for f, v in sorted(parts.items(), key=lambda x: -x[1]):
    if v / steps >= 0.5:
        print(f"  {f:32s} {v / steps:7.1f}")
print("\nfiles and libraries (instructions a household-step, mispredictions):")
for ir_, bcm_, where in sorted(rows, reverse=True)[:25]:
    where = re.sub(r"core::ops::function::impls::<impl core::ops::function::FnMut<A> for &F>::call_mut", "(household phase)", where)
    where = re.sub(r"^.*/(library|src|math|sysdeps|rand_chacha[^/]*|ppv-lite86[^/]*)/", "", where)
    if ir_ / steps >= 2:
        print(f"  {ir_ / steps:7.1f} {bcm_ / steps:5.2f}  {where[:110]}")
PY
