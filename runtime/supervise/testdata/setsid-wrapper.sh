#!/bin/sh
# A ./platform wrapper whose real work calls setsid: a session and a
# process group of its own (issue 10, case 3).
# Usage: setsid-wrapper.sh PIDFILE COMMAND [ARGS...]
pidfile=$1
shift
setsid "$@" &
echo $! > "$pidfile"
wait
