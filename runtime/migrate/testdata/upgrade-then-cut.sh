#!/bin/sh
# upgrade-then-cut.sh: run the stand-in's upgrade_db, then, once it has
# succeeded, terminate the migrate's ledger connection (the backend pid the
# running attempt recorded), so that recording the success meets a dead
# connection.
./platform upgrade_db || exit $?
psql -qAtX "$DATABASE_URL" -c "SELECT pg_terminate_backend(backend_pid) FROM kantree_nomad_migrations WHERE status = 'running'" >/dev/null
