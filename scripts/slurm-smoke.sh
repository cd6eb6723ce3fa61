#!/usr/bin/env bash
# A real Slurm run of examples/slurm/merge.sbatch on this machine: munged, slurmctld and slurmd
# on localhost (Debian's slurm-wlm and munge; run as root), a 3-task job array merging the
# small-t3 fixture with TSV-M in 3 parts plus its dependent finishing job, then `cmp` of every
# file against the one-process merge. Stops the daemons it started. Usage (after a release build):
#   scripts/slurm-smoke.sh [path/to/isomerge]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
isomerge=$(realpath "${1:-.build/release/isomerge}")
for tool in munged slurmctld slurmd sbatch squeue sinfo; do
    command -v "$tool" >/dev/null || { echo "slurm-smoke: $tool missing: apt-get install -y slurm-wlm munge" >&2; exit 2; }
done
work=$(mktemp -d /tmp/isomerge-slurm.XXXXXX)
host=$(hostname -s)
cpus=$(nproc)
memory=$(free -m | awk '/^Mem:/ {print $2}')
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work"/{etc,spool/ctld,spool/d,log,run}
cat > "$work/etc/slurm.conf" <<CONF
ClusterName=isomerge-smoke
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$work/spool/ctld
SlurmdSpoolDir=$work/spool/d
SlurmctldPidFile=$work/run/slurmctld.pid
SlurmdPidFile=$work/run/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldPort=6917
SlurmdPort=6918
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=smoke Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/etc/slurm.conf

start=$(date +%s.%N)
if ! pgrep -x munged >/dev/null; then
    mkdir -p /run/munge && chown munge:munge /run/munge
    runuser -u munge -- /usr/sbin/munged
    sleep 0.5
    pids+=("$(cat /run/munge/munged.pid)")
fi
munge -n | unmunge >/dev/null
slurmctld -D -c -f "$SLURM_CONF" >"$work/log/slurmctld.out" 2>&1 & pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$work/log/slurmd.out" 2>&1 & pids+=($!)
for _ in $(seq 1 120); do
    state=$(sinfo -h -o %t 2>/dev/null || true)
    [[ $state == idle ]] && break
    sleep 0.5
done
[[ $state == idle ]] || { echo "slurm-smoke: the node is '${state:-unreachable}', not idle" >&2; tail -20 "$work"/log/*.log >&2; exit 1; }
printf 'slurm-smoke: slurmctld and slurmd up in %.1f s (%s)\n' "$(echo "$(date +%s.%N) - $start" | bc)" "$(sinfo --version)"

fixture=$repo/Tests/IsoMergeTests/Fixtures/merge/small-t3
cd "$work"
export ISOMERGE=$isomerge METHOD=tsv_m BASE=$fixture/base.safetensors OUT=$work/merged SHARD_SIZE=20000 N=3
export MODELS="$fixture/ft_00.safetensors $fixture/ft_01.safetensors $fixture/ft_02.safetensors"
mkdir -p "$OUT"
array=$(sbatch --parsable --array=1-3 --cpus-per-task=1 --mem=1G "$repo/examples/slurm/merge.sbatch")
echo "slurm-smoke: submitted job array $array"
for _ in $(seq 1 600); do
    [[ -z $(squeue -h -o %i) ]] && break
    sleep 0.5
done
echo "slurm-smoke: jobs seen by slurmctld:"
grep -hoE "(sched: Allocate|_job_complete): JobId=[0-9_]+[^ ]* [^ ]*( [^ ]*)?" "$work/log/slurmctld.log" | sed 's/^/  /' || true
for log in isomerge-*.log; do echo "== $log"; cat "$log"; done
"$isomerge" merge --quiet --method tsv_m --base "$BASE" --models $MODELS --output "$work/whole" --shard-size 20000
status=0
for f in "$work"/whole/*; do
    cmp "$f" "$OUT/$(basename "$f")" || status=1
done
ls -A "$OUT"
[[ $status == 0 ]] && echo "slurm-smoke: PASS: the Slurm merge (3 parts + finish) equals the one-process merge, $(ls "$work/whole" | wc -l) files compared with cmp"
exit $status
