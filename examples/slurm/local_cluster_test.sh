#!/usr/bin/env bash
# Starts a one-node SLURM cluster on this machine (munge + slurmctld + slurmd, all state in
# a temporary directory), submits a small batch as a 4-task job array, waits, merges, and
# checks that the merged result is byte-identical to the same batch run locally with
# --jobs 1. Stops the daemons it started, by pid. Needs root and the Debian packages
# slurm-wlm and munge (installed here if missing).
#   usage: examples/slurm/local_cluster_test.sh [path/to/xiezuo]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
XIEZUO=${1:-$ROOT/target/release/xiezuo}
XIEZUO=$(readlink -f "$XIEZUO")

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

WORK=$(mktemp -d /tmp/xiezuo-slurm.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# munge: a key owned by munge (mode 400), the daemon started as the munge user.
mkdir -p "$WORK/munge" /run/munge
chown munge:munge "$WORK/munge" /run/munge
chmod 700 "$WORK/munge"
dd if=/dev/urandom bs=1 count=1024 of="$WORK/munge/munge.key" 2>/dev/null
chown munge:munge "$WORK/munge/munge.key"
chmod 400 "$WORK/munge/munge.key"
MUNGE_SOCKET="$WORK/munge/munge.socket"
runuser -u munge -- munged --key-file="$WORK/munge/munge.key" --socket="$MUNGE_SOCKET" \
  --pid-file="$WORK/munge/munged.pid" --log-file="$WORK/munge/munged.log" --seed-file="$WORK/munge/munge.seed" --force
for _ in $(seq 50); do [ -s "$WORK/munge/munged.pid" ] && break; sleep 0.1; done
PIDS+=("$(cat "$WORK/munge/munged.pid")")

HOST=$(hostname -s)
CPUS=$(nproc)
mkdir -p "$WORK/state" "$WORK/spool" "$WORK/log"
CONF="$WORK/slurm.conf"
cat > "$CONF" <<CONF
ClusterName=xiezuo
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$HOST CPUs=$CPUS State=UNKNOWN
PartitionName=main Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$CONF"
slurmctld -f "$CONF" -c
for _ in $(seq 100); do [ -s "$WORK/slurmctld.pid" ] && break; sleep 0.1; done
PIDS+=("$(cat "$WORK/slurmctld.pid")")
slurmd -f "$CONF"
for _ in $(seq 100); do [ -s "$WORK/slurmd.pid" ] && break; sleep 0.1; done
PIDS+=("$(cat "$WORK/slurmd.pid")")
for _ in $(seq 100); do sinfo -h -o %T 2>/dev/null | grep -qE "idle|mix" && break; sleep 0.2; done
sinfo

# The batch: 2 scenarios x 3 points x 2 replicates, small households.
BATCH="$WORK/batch.toml"
cat > "$BATCH" <<'TOML'
name = "slurm_test"
seed = 5
replicates = 2
years = 3

[[scenario]]
builtin = "one_way_aid.toml"
label = "one"
set = ["region.Upland.households=1500", "region.Coastal.households=300"]

[[scenario]]
builtin = "two_way_market.toml"
label = "two"
set = ["region.Upland.households=1500", "region.Coastal.households=300"]

[sweep]
method = "grid"
[[sweep.param]]
key = "policy.leakage"
values = [0.0, 0.2, 0.4]

[output]
tables = ["metrics", "links"]
yearly = true
TOML

mkdir -p "$WORK/cluster"
cd "$WORK"
XIEZUO="$XIEZUO" sbatch --wait --array=0-3 --cpus-per-task=1 --chdir="$WORK" \
  --output="$WORK/log/task-%a.log" "$HERE/batch_array.sbatch" "$BATCH" "$WORK/cluster/out"
"$XIEZUO" merge "$WORK/cluster/out"
"$XIEZUO" batch "$BATCH" --out "$WORK/local" --jobs 1 >/dev/null
"$XIEZUO" merge "$WORK/local"
for t in metrics.parquet links.parquet runs.parquet; do
  cmp "$WORK/cluster/out/$t" "$WORK/local/$t"
done
echo "slurm job array (4 tasks) == local --jobs 1: identical merged outputs"
