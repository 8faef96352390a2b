#!/bin/sh
# A ./platform wrapper whose real work runs in a process group of its own,
# as a job-control shell or a daemonising script puts it (issue 10, case 1).
# Usage: pgroup-wrapper.sh PIDFILE COMMAND [ARGS...]
pidfile=$1
shift
perl -e 'setpgrp(0, 0); exec @ARGV or die "exec: $!\n"' "$@" &
echo $! > "$pidfile"
wait
