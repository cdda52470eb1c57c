#!/usr/bin/env bash
# Executes every analysis notebook headless on fresh xiezuo outputs.
#
#   bash notebooks/run_all.sh [path/to/xiezuo]
#
# $1: the xiezuo binary (default: target/release/xiezuo under the repository root).
# Installs notebooks/requirements.txt with pip (only what is executed here; a student opening
# the notebooks in JupyterLab installs notebooks/requirements-lab.txt), writes a short single
# run, two panel runs, a small batch and a small comparison into a temporary directory, then
# runs each notebook with nbclient (300 s per cell). Exits non-zero if any step or any cell fails. The notebooks themselves are not
# modified; executed copies go to the temporary directory, which is removed at the end
# unless XIEZUO_KEEP_OUTPUTS=1 (then its path is printed).
# Environment: PYTHON (default python3), XIEZUO_JOBS (batch --jobs, default 2).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NB_DIR="$REPO/notebooks"
BIN="${1:-$REPO/target/release/xiezuo}"
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac
PYTHON="${PYTHON:-python3}"
JOBS="${XIEZUO_JOBS:-2}"

if [[ ! -x "$BIN" ]]; then
    echo "run_all.sh: no executable xiezuo binary at $BIN (build it with cargo build --release, or pass its path)" >&2
    exit 2
fi

SECONDS=0
echo "== installing notebooks/requirements.txt"
PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install -q --disable-pip-version-check -r "$NB_DIR/requirements.txt"

OUT="$(mktemp -d "${TMPDIR:-/tmp}/xiezuo-notebooks.XXXXXX")"
cleanup() {
    if [[ "${XIEZUO_KEEP_OUTPUTS:-0}" == 1 ]]; then
        echo "outputs kept in $OUT"
    else
        rm -rf "$OUT"
    fi
}
trap cleanup EXIT

echo "== generating outputs in $OUT"
# 1. one short run with the household panel, for 01_single_run
"$BIN" run "$REPO/scenarios/two_way_market.toml" --out "$OUT/run" --panel --years 6 >/dev/null
# 2. full-length panel runs of both built-in strategies, for 03_survival
for s in one_way_aid two_way_market; do
    "$BIN" run "$REPO/scenarios/$s.toml" --out "$OUT/panel/$s" --panel >/dev/null
done
# 3. a small batch, for 02_batch_sweep. The household samples are shrunk and the weights
#    scaled up so that the real populations (1,000,000 and 400,000 households) and hence
#    the aid per household stay those of the full scenarios.
cat >"$OUT/batch.toml" <<'TOML'
name = "notebooks_smoke"
seed = 2024
replicates = 3

[[scenario]]
builtin = "one_way_aid.toml"
label = "one_way"
set = ["region.Upland.households=3000", "region.Upland.weight=333.3333333333",
       "region.Coastal.households=600", "region.Coastal.weight=666.6666666667"]

[[scenario]]
builtin = "two_way_market.toml"
label = "two_way"
set = ["region.Upland.households=3000", "region.Upland.weight=333.3333333333",
       "region.Coastal.households=600", "region.Coastal.weight=666.6666666667"]

[sweep]
method = "grid"

[[sweep.param]]
key = "link[0].channels.fiscal_aid"
values = [0.5e9, 1.0e9, 1.5e9]

[output]
tables = ["metrics", "links"]
yearly = true
regions = ["WEST", "EAST", "ALL"]
TOML
"$BIN" batch "$OUT/batch.toml" --out "$OUT/batch" --jobs "$JOBS" >/dev/null
"$BIN" merge "$OUT/batch" >/dev/null
"$BIN" summarize "$OUT/batch" >/dev/null
# 4. a comparison of the built-in pair (the README's first command), small, for 04_compare
"$BIN" compare --replicates 3 --out "$OUT/compare" \
    --set region.Upland.households=3000 --set region.Upland.weight=333.3333333333 \
    --set region.Coastal.households=600 --set region.Coastal.weight=666.6666666667 >/dev/null
echo "   outputs written after ${SECONDS}s"

export XIEZUO_RUN_DIR="$OUT/run"
export XIEZUO_BATCH_DIR="$OUT/batch"
export XIEZUO_PANEL_DIRS="$OUT/panel/one_way_aid,$OUT/panel/two_way_market"
export XIEZUO_COMPARE_DIR="$OUT/compare"

echo "== executing notebooks"
"$PYTHON" - "$NB_DIR" "$OUT/executed" <<'PY'
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

nb_dir, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
out_dir.mkdir(parents=True, exist_ok=True)
failed = []
for path in sorted(nb_dir.glob("*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(nb_dir)}})
    t0 = time.monotonic()
    try:
        client.execute()
        figures = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
        if figures == 0:
            raise RuntimeError("ran, but displayed no figure")
        print(f"   ok      {path.name} ({time.monotonic() - t0:.1f} s, {figures} figures)", flush=True)
    except CellExecutionError as e:
        failed.append(path.name)
        print(f"   FAILED  {path.name}\n{e}", file=sys.stderr, flush=True)
    except Exception as e:  # kernel death, timeout
        failed.append(path.name)
        print(f"   FAILED  {path.name}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
    nbformat.write(nb, out_dir / path.name)
if failed:
    sys.exit(f"{len(failed)} notebook(s) failed: {', '.join(failed)}")
PY
echo "== all notebooks ran in ${SECONDS}s"
