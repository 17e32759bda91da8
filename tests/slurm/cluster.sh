#!/usr/bin/env bash
# Throw-away single-node SLURM cluster on localhost, for testing the
# Snakemake SLURM profile (workflow/profiles/slurm).
#
#   tests/slurm/cluster.sh install   # apt-get install slurm-wlm munge (no-op if present)
#   tests/slurm/cluster.sh start     # write config, start munged + slurmctld + slurmd, wait for node idle
#   tests/slurm/cluster.sh status    # show daemons and sinfo; exit 0 only if all daemons run
#   tests/slurm/cluster.sh env       # print shell exports (SLURM_CONF; PATH with the srun shim):
#                                    #   eval "$(tests/slurm/cluster.sh env)" before sbatch/squeue/snakemake
#   tests/slurm/cluster.sh stop      # cancel jobs, stop exactly the daemons started here (pid files)
#
# Nothing system-wide is touched: everything (slurm.conf, munge key, munge
# socket, state, spool, logs, pid files) lives under $SLURM_TEST_DIR
# (default /tmp/colorlib-slurm).  Daemons and client commands find the config
# through the SLURM_CONF environment variable; the MUNGE socket is given to
# SLURM via AuthInfo=socket=..., so a system munged (if any) is not used.
# Needs root (SlurmUser=root).  All subcommands are idempotent.
#
# Why there is an `srun` shim in $SLURM_TEST_DIR/bin (put first on PATH by
# `env`): inside each SLURM job, snakemake-executor-plugin-slurm-jobstep runs
# `srun ...` with every SLURM_* variable except a fixed few (SLURM_JOB_ID, ...)
# removed from the environment -- SLURM_CONF included -- so a plain srun would
# look for /etc/slurm/slurm.conf and fail with "Could not establish a
# configuration source".  The shim re-adds SLURM_CONF and execs the real srun.
#
# Environment:
#   SLURM_TEST_DIR        state directory             (/tmp/colorlib-slurm)
#   SLURM_TEST_PARTITION  partition name              (debug)
#   SLURM_TEST_CTLD_PORT  slurmctld port              (6817)
#   SLURM_TEST_SLURMD_PORT slurmd port                (6818)
#   SLURM_TEST_TIMEOUT    seconds to wait for startup (60)
set -euo pipefail

DIR=${SLURM_TEST_DIR:-/tmp/colorlib-slurm}
PARTITION=${SLURM_TEST_PARTITION:-debug}
CTLD_PORT=${SLURM_TEST_CTLD_PORT:-6817}
SLURMD_PORT=${SLURM_TEST_SLURMD_PORT:-6818}
TIMEOUT=${SLURM_TEST_TIMEOUT:-60}

CONF=$DIR/etc/slurm.conf
BIN=$DIR/bin
MUNGE_DIR=$DIR/munge
MUNGE_KEY=$MUNGE_DIR/munge.key
MUNGE_SOCKET=$MUNGE_DIR/munge.socket.2
RUN=$DIR/run
LOG=$DIR/log
MUNGED_PID=$RUN/munged.pid
SLURMCTLD_PID=$RUN/slurmctld.pid
SLURMD_PID=$RUN/slurmd.pid

NODE=$(hostname -s)

export SLURM_CONF=$CONF
PATH=$PATH:/usr/sbin:/sbin

log() { echo "cluster.sh: $*" >&2; }
die() { echo "cluster.sh: ERROR: $*" >&2; exit 1; }

need_root() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (SlurmUser=root)"
}

have_slurm() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
        command -v sbatch >/dev/null && command -v munged >/dev/null
}

# pid_alive PIDFILE NAME -> prints pid and returns 0 when the pid in PIDFILE
# is a live process whose executable is NAME (guards against stale/reused pids).
pid_alive() {
    local pidfile=$1 name=$2 pid exe
    [[ -s $pidfile ]] || return 1
    pid=$(tr -dc '0-9' <"$pidfile")
    [[ -n $pid ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # Debian's /usr/sbin/slurmctld is a symlink to slurmctld-wlm, so compare
    # with the resolved binary; fall back to argv[0] of the process.
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
    exe=${exe% (deleted)}
    if [[ -z $exe || $exe != "$(readlink -f "$(command -v "$name")" 2>/dev/null)" ]]; then
        exe=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -1 || true)
        [[ ${exe##*/} == "$name" ]] || return 1
    fi
    echo "$pid"
}

cmd_install() {
    if have_slurm; then
        log "slurm-wlm and munge already installed ($(slurmctld -V))"
        return 0
    fi
    need_root
    command -v apt-get >/dev/null || die "apt-get not available; install slurm-wlm and munge by hand"
    log "installing slurm-wlm munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends slurm-wlm munge >"${TMPDIR:-/tmp}/cluster-sh-apt.log" 2>&1; then
        apt-get update -qq >/dev/null 2>&1 || true
        apt-get install -y -qq --no-install-recommends slurm-wlm munge \
            >"${TMPDIR:-/tmp}/cluster-sh-apt.log" 2>&1 ||
            { tail -20 "${TMPDIR:-/tmp}/cluster-sh-apt.log" >&2; die "apt-get install slurm-wlm munge failed"; }
    fi
    have_slurm || die "slurm-wlm/munge installed but daemons not found on PATH"
    log "installed $(slurmctld -V)"
}

write_conf() {
    local cpus mem_mb tmp topo="" hw
    cpus=$(nproc)
    # Use slurmd's view of the socket/core/thread layout when it agrees with
    # nproc, so slurmd does not log "Node configuration differs from hardware".
    hw=$(slurmd -C 2>/dev/null | head -1 || true)
    if [[ $hw =~ CPUs=([0-9]+)\ Boards=([0-9]+)\ SocketsPerBoard=([0-9]+)\ CoresPerSocket=([0-9]+)\ ThreadsPerCore=([0-9]+) ]] &&
        [[ ${BASH_REMATCH[1]} -eq $cpus ]]; then
        topo=" Boards=${BASH_REMATCH[2]} SocketsPerBoard=${BASH_REMATCH[3]} CoresPerSocket=${BASH_REMATCH[4]} ThreadsPerCore=${BASH_REMATCH[5]}"
    fi
    # RealMemory a bit below the machine's: 90% of MemTotal, in MB.
    mem_mb=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)
    tmp=$(mktemp "$DIR/etc/slurm.conf.XXXXXX")
    cat >"$tmp" <<EOF
# Generated by tests/slurm/cluster.sh -- throw-away single-node test cluster.
ClusterName=colorlibtest
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/slurmd
SlurmctldPidFile=$SLURMCTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups in containers: track processes via /proc, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# sbatch without --mem would otherwise reserve the whole node's memory
DefMemPerCPU=256
SchedulerType=sched/backfill
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
# Keep finished jobs visible to squeue for an hour (the snakemake profile
# polls job status with squeue because there is no accounting / sacct).
MinJobAge=3600
SlurmdTimeout=300
InactiveLimit=0
KillWait=5
# Trust slurm.conf for the node's resources (never drain for topology mismatch).
SlurmdParameters=config_overrides
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus$topo RealMemory=$mem_mb State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    mv -f "$tmp" "$CONF"
    chmod 644 "$CONF"
}

write_srun_shim() {
    local real tmp
    real=$(PATH=$(tr ':' '\n' <<<"$PATH" | grep -vxF "$BIN" | paste -sd:) command -v srun) ||
        die "srun not found"
    tmp=$(mktemp "$BIN/srun.XXXXXX")
    cat >"$tmp" <<SHIM
#!/bin/sh
# Generated by tests/slurm/cluster.sh: srun with SLURM_CONF restored (the
# snakemake slurm-jobstep plugin strips SLURM_* from srun's environment).
SLURM_CONF=\${SLURM_CONF:-$CONF}
export SLURM_CONF
exec $real "\$@"
SHIM
    chmod 755 "$tmp"
    mv -f "$tmp" "$BIN/srun"
}

print_env() {
    echo "export SLURM_CONF=$CONF"
    # prepend the srun shim directory to PATH unless already there
    echo "case \":\$PATH:\" in *\":$BIN:\"*) ;; *) export PATH=\"$BIN:\$PATH\" ;; esac"
}

start_munged() {
    local pid
    if pid=$(pid_alive "$MUNGED_PID" munged); then
        log "munged already running (pid $pid)"
        return 0
    fi
    if [[ ! -s $MUNGE_KEY ]]; then
        if command -v mungekey >/dev/null; then
            mungekey --create --keyfile="$MUNGE_KEY" >/dev/null
        else
            dd if=/dev/urandom of="$MUNGE_KEY" bs=1 count=1024 status=none
        fi
    fi
    chmod 600 "$MUNGE_KEY"
    rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
    munged --force --socket="$MUNGE_SOCKET" --key-file="$MUNGE_KEY" \
        --pid-file="$MUNGED_PID" --log-file="$LOG/munged.log" \
        --seed-file="$MUNGE_DIR/munged.seed" ||
        { tail -5 "$LOG/munged.log" >&2 || true; die "munged failed to start"; }
    wait_for "munged" 10 test -S "$MUNGE_SOCKET"
    munge --socket="$MUNGE_SOCKET" -n | unmunge --socket="$MUNGE_SOCKET" >/dev/null ||
        die "munge self-test failed (see $LOG/munged.log)"
    log "munged started (pid $(cat "$MUNGED_PID"))"
}

# wait_for WHAT SECONDS CMD... : poll CMD until it succeeds.
wait_for() {
    local what=$1 secs=$2 i
    shift 2
    for ((i = 0; i < secs * 4; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.25
    done
    die "timed out after ${secs}s waiting for $what"
}

port_busy() {
    # true if something listens on TCP port $1
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

start_daemon() {
    local name=$1 pidfile=$2 port=$3 pid
    shift 3
    if pid=$(pid_alive "$pidfile" "$name"); then
        log "$name already running (pid $pid)"
        return 0
    fi
    if port_busy "$port"; then
        die "port $port (for $name) is already in use by another process; set SLURM_TEST_CTLD_PORT / SLURM_TEST_SLURMD_PORT"
    fi
    rm -f "$pidfile"
    "$name" -f "$CONF" "$@" ||
        { tail -20 "$LOG/$name.log" >&2 || true; die "$name failed to start"; }
    wait_for "$name pid file" 15 pid_alive "$pidfile" "$name"
    log "$name started (pid $(cat "$pidfile"))"
}

node_state() {
    sinfo -h -N -n "$NODE" -o %t 2>/dev/null | head -1
}

wait_idle() {
    local state="" i
    for ((i = 0; i < TIMEOUT * 2; i++)); do
        state=$(node_state || true)
        case $state in
        idle | mix | alloc) log "node $NODE is $state"; return 0 ;;
        drain* | drng | down | fail*)
            # e.g. left over from an earlier run; put it back into service
            scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true ;;
        esac
        sleep 0.5
    done
    {
        echo "cluster.sh: ERROR: node $NODE not idle after ${TIMEOUT}s (state: '${state:-unknown}')"
        sinfo -N -l 2>&1 || true
        sinfo -R 2>&1 || true
        echo "--- $LOG/slurmctld.log (tail)"; tail -15 "$LOG/slurmctld.log" 2>/dev/null || true
        echo "--- $LOG/slurmd.log (tail)"; tail -15 "$LOG/slurmd.log" 2>/dev/null || true
    } >&2
    exit 1
}

cmd_start() {
    need_root
    have_slurm || die "slurm-wlm/munge not installed; run '$0 install' first"
    mkdir -p "$DIR"/{etc,bin,state,spool/slurmd,run,log} "$MUNGE_DIR"
    # munged insists on private directories
    chmod 755 "$DIR"
    chmod 711 "$MUNGE_DIR"   # not writable by others; x so clients reach the socket
    write_conf
    write_srun_shim
    start_munged
    # -c: start from a clean job/node state.  Otherwise jobs left over from an
    # earlier, uncleanly stopped cluster are recovered (as ghost RUNNING or as
    # PENDING jobs that then really run) and hold the node's CPUs.  (Job ids
    # still keep increasing across restarts.)
    start_daemon slurmctld "$SLURMCTLD_PID" "$CTLD_PORT" -c
    start_daemon slurmd "$SLURMD_PID" "$SLURMD_PORT" -N "$NODE"
    wait_idle
    print_env
}

# stop_pid NAME PIDFILE: SIGTERM, wait, SIGKILL if needed.
stop_pid() {
    local name=$1 pidfile=$2 pid i
    if ! pid=$(pid_alive "$pidfile" "$name"); then
        rm -f "$pidfile"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    log "stopped $name (pid $pid)"
}

# slurmstepd processes spawned by *our* slurmd: they inherit slurmd's
# environment, so they carry SLURM_CONF=$CONF.
our_stepds() {
    local p
    for p in $(pgrep slurmstepd 2>/dev/null || true); do
        if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qxF "SLURM_CONF=$CONF"; then
            echo "$p"
        fi
    done
}

descendants() {
    local c
    for c in $(pgrep -P "$1" 2>/dev/null || true); do
        echo "$c"
        descendants "$c"
    done
}

# kill_tree PID: SIGTERM PID's descendants, then SIGKILL survivors and PID.
kill_tree() {
    local root=$1 kids i k alive
    kids=$(descendants "$root")
    if [[ -n $kids ]]; then
        # shellcheck disable=SC2086
        kill -TERM $kids 2>/dev/null || true
        for ((i = 0; i < 20; i++)); do
            alive=0
            for k in $kids; do kill -0 "$k" 2>/dev/null && alive=1; done
            [[ $alive -eq 1 ]] || break
            sleep 0.25
        done
        # shellcheck disable=SC2086
        kill -KILL $kids 2>/dev/null || true
    fi
    kill -KILL "$root" 2>/dev/null || true
}

cmd_stop() {
    local i p
    if pid_alive "$SLURMCTLD_PID" slurmctld >/dev/null; then
        # cancel whatever is still queued/running so no job step outlives us
        if [[ -n $(squeue -h -t PD,R,CG,S -o %i 2>/dev/null) ]]; then
            scancel --full --partition="$PARTITION" >/dev/null 2>&1 || true
            for ((i = 0; i < 40; i++)); do
                [[ -z $(squeue -h -t PD,R,CG -o %i 2>/dev/null) ]] && break
                sleep 0.25
            done
        fi
    fi
    stop_pid slurmd "$SLURMD_PID"
    stop_pid slurmctld "$SLURMCTLD_PID"
    # Normally none are left (jobs were cancelled above); if slurmctld had
    # died, kill the job processes below each of our slurmstepds, then it.
    for p in $(our_stepds); do
        log "killing leftover slurmstepd (pid $p) and its job processes"
        kill_tree "$p"
    done
    stop_pid munged "$MUNGED_PID"
    rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
}

cmd_status() {
    local rc=0 name pidfile pid
    for name in munged slurmctld slurmd; do
        pidfile=$RUN/$name.pid
        if pid=$(pid_alive "$pidfile" "$name"); then
            echo "$name: running (pid $pid)"
        else
            echo "$name: not running"
            rc=3
        fi
    done
    echo "SLURM_CONF=$CONF"
    if [[ $rc -eq 0 ]]; then
        sinfo -N -l 2>&1 || rc=3
        squeue 2>&1 || true
    fi
    return $rc
}

case ${1:-} in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) print_env ;;
*)
    echo "usage: $0 {install|start|stop|status|env}" >&2
    exit 2
    ;;
esac
