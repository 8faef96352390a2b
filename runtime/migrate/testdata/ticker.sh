#!/bin/sh
# ticker.sh SECONDS: a stand-in upgrade that records a tick in the table
# ticks every 100ms for SECONDS seconds, with clock_timestamp() of the
# database, so that overlap between runs is measured from what the runs
# themselves wrote. The run is named $KANTREE_VERSION-<pid>.
run="$KANTREE_VERSION-$$"
end=$(( $(date +%s) + $1 ))
while [ "$(date +%s)" -lt "$end" ]; do
	psql -qAtX "$DATABASE_URL" -c "INSERT INTO ticks (run) VALUES ('$run')" >/dev/null || exit 1
	sleep 0.1
done
