package preflight

import (
	"context"
	"fmt"

	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
	"github.com/kantree-nomad/kantree-nomad/runtime/migrate"
	"github.com/kantree-nomad/kantree-nomad/runtime/pgcheck"
)

// checkPostgres makes one attempt: connect, require a primary and a
// session that stays ours, and, when release is set, the schema release.
func checkPostgres(ctx context.Context, dsn, release string) (string, error) {
	target := diagnosis.Redact(dsn)
	conn, err := pgcheck.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := pgcheck.CheckPrimary(ctx, conn, target); err != nil {
		return "", err
	}
	if err := pgcheck.CheckSessionPooling(ctx, conn, dsn); err != nil {
		return "", err
	}
	found := "primary, server session kept (no transaction pooling)"
	if release == "" {
		return found, nil
	}
	applied, ok, err := migrate.AppliedRelease(ctx, conn)
	if err != nil {
		return "", pgcheck.Classify(target, err)
	}
	if !ok || applied != release {
		return "", schemaMismatch(target, release, applied, ok)
	}
	return found + ", schema at release " + applied, nil
}

func schemaMismatch(target, want, applied string, ok bool) *diagnosis.Diagnosis {
	d := &diagnosis.Diagnosis{Kind: diagnosis.PGSchemaRelease, Service: pgcheck.Service, Target: target,
		Advice: "run the upgrade-db job for release " + want + " (kantree-nomad migrate -release " + want +
			"); preflight waits for it until its timeout"}
	if !ok {
		d.Summary = fmt.Sprintf("the schema is not at release %s: migrate has recorded no successful release in %s",
			want, migrate.LedgerTable)
		return d
	}
	d.Summary = fmt.Sprintf("the schema is at release %s, not %s (per %s)", applied, want, migrate.LedgerTable)
	return d
}
