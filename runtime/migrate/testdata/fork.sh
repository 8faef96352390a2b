#!/bin/sh
# fork.sh COMMAND...: a wrapper that runs COMMAND in a session of its own
# (so outside the wrapper's process group) and waits for it, as a platform
# wrapper script that forks its work might.
setsid "$@" &
wait $!
