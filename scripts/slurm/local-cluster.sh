#!/usr/bin/env bash
# A throw-away single-node Slurm cluster (munged + slurmctld + slurmd) for tests and for trying
# `vfxgen farm slurm` on one machine. Everything lives under STATE_DIR; nothing in /etc is touched.
#
#   scripts/slurm/local-cluster.sh start STATE_DIR   # install if missing (root + apt), configure, start, wait
#   scripts/slurm/local-cluster.sh stop STATE_DIR    # stop the three daemons started by `start`
#   export SLURM_CONF=STATE_DIR/slurm.conf           # then sbatch / squeue / scancel / scontrol use it
#
# Exit codes: 0 ok; 1 a failure (the daemons' logs are printed); 3 this machine cannot run a Slurm node
# (not root, no apt-get to install Slurm, or slurmd refuses to start here); the line says which.
# Ports: VFXGEN_SLURMCTLD_PORT (default 16817) and VFXGEN_SLURMD_PORT (default 16818).
# No cgroups are needed: proctrack/linuxproc, task/none, no accounting, jobs run as the submitting user.
set -euo pipefail

cmd=${1:-}
state=${2:-}
if [[ -z "$cmd" || -z "$state" ]]; then
    echo "usage: $0 start|stop STATE_DIR" >&2
    exit 2
fi
mkdir -p "$state"
state=$(cd "$state" && pwd)
node=$(hostname -s)
ctld_port=${VFXGEN_SLURMCTLD_PORT:-16817}
d_port=${VFXGEN_SLURMD_PORT:-16818}
cannot() {
    echo "cannot run a Slurm node here: $*" >&2
    exit 3
}

stop_pidfile() { # stop_pidfile FILE: TERM the daemon whose pid FILE holds, KILL it after 10 s
    local file=$1 pid
    [[ -f "$file" ]] || return 0
    pid=$(cat "$file" 2>/dev/null || true)
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

stop() {
    # Jobs first: slurmstepd outlives slurmd, so cancel what still runs on this cluster and let it end.
    if [[ -f "$state/slurm.conf" && -f "$state/run/slurmctld.pid" ]] && kill -0 "$(cat "$state/run/slurmctld.pid")" 2>/dev/null; then
        SLURM_CONF="$state/slurm.conf" scancel --partition=local >/dev/null 2>&1 || true
        for _ in $(seq 150); do
            [[ -z "$(SLURM_CONF="$state/slurm.conf" squeue -h -o %i 2>/dev/null)" ]] && break
            sleep 0.1
        done
    fi
    stop_pidfile "$state/run/slurmd.pid"
    stop_pidfile "$state/run/slurmctld.pid"
    stop_pidfile "$state/munge/munged.pid"
}

show_logs() {
    for log in "$state"/log/*.log "$state"/munge/munged.log; do
        [[ -f "$log" ]] && { echo "--- $log (last 30 lines)" >&2; tail -n 30 "$log" >&2; }
    done
    return 0
}

install_if_missing() {
    local missing=()
    for tool in munged mungekey slurmctld slurmd sbatch; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    [[ $(id -u) -eq 0 ]] || cannot "${missing[*]} not installed and not root (apt-get install slurmd slurmctld slurm-client munge)"
    command -v apt-get >/dev/null || cannot "${missing[*]} not installed and no apt-get to install them"
    echo "installing slurmd slurmctld slurm-client munge with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Debian's package scripts must not start system-wide daemons (ours run from STATE_DIR): deny service
    # starts while installing, the way container images do, unless a policy is already in place.
    local policy=/usr/sbin/policy-rc.d made_policy=""
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
    fi
    apt-get install -y -q --no-install-recommends slurmd slurmctld slurm-client munge >"$state/apt.log" 2>&1 ||
        { apt-get update -q >>"$state/apt.log" 2>&1 &&
            apt-get install -y -q --no-install-recommends slurmd slurmctld slurm-client munge >>"$state/apt.log" 2>&1; } ||
        { [[ -n "$made_policy" ]] && rm -f "$policy"; tail -n 20 "$state/apt.log" >&2; cannot "apt-get could not install Slurm (log above)"; }
    [[ -n "$made_policy" ]] && rm -f "$policy"
    return 0
}

write_config() {
    local cpus
    cpus=$(nproc)
    rm -rf "$state/log" "$state/ctld" "$state/spool" "$state/cgroup.conf" "$state/munge/munged.log"
    mkdir -p "$state/munge" "$state/ctld" "$state/spool" "$state/log" "$state/run"
    chmod 711 "$state/munge" # clients need to reach the socket, not to list the key
    cat >"$state/slurm.conf" <<EOF
# Written by scripts/slurm/local-cluster.sh: one node, no cgroups, no accounting.
ClusterName=vfxgen-local
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$state/munge/munge.socket.2
CredType=cred/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/run/slurmctld.pid
SlurmdPidFile=$state/run/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
KillWait=10
MinJobAge=3600
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
    install_if_missing
    stop # a previous run's daemons in the same STATE_DIR
    write_config
    export SLURM_CONF="$state/slurm.conf"
    [[ -f "$state/munge/munge.key" ]] || mungekey --create --keyfile="$state/munge/munge.key" >/dev/null 2>&1 ||
        dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
    chmod 600 "$state/munge/munge.key"
    munged --force --key-file="$state/munge/munge.key" --socket="$state/munge/munge.socket.2" \
        --pid-file="$state/munge/munged.pid" --log-file="$state/munge/munged.log" \
        --seed-file="$state/munge/munged.seed" ||
        { show_logs; cannot "munged does not start"; }
    munge --socket="$state/munge/munge.socket.2" -n | unmunge --socket="$state/munge/munge.socket.2" >/dev/null ||
        { show_logs; stop; cannot "munge cannot encode/decode a credential"; }
    slurmctld -f "$state/slurm.conf" -c -i || { show_logs; stop; cannot "slurmctld does not start"; }
    slurmd -f "$state/slurm.conf" -N "$node" || { show_logs; stop; cannot "slurmd does not start"; }
    # Wait for the node to register and become idle.
    local node_state=""
    for _ in $(seq 300); do
        node_state=$(sinfo -h -n "$node" -o %t 2>/dev/null || true)
        [[ "$node_state" == "idle" ]] && break
        if [[ -f "$state/run/slurmd.pid" ]] && ! kill -0 "$(cat "$state/run/slurmd.pid")" 2>/dev/null; then
            show_logs
            stop
            cannot "slurmd exited after starting (log above)"
        fi
        sleep 0.1
    done
    if [[ "$node_state" != "idle" ]]; then
        show_logs
        stop
        cannot "node $node did not become idle in 30 s (state '${node_state:-unknown}')"
    fi
    echo "slurm is up: node $node, $(nproc) CPUs; export SLURM_CONF=$state/slurm.conf" >&2
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    *)
        echo "usage: $0 start|stop STATE_DIR" >&2
        exit 2
        ;;
esac
