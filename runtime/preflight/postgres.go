package preflight

import (
	"context"
	"fmt"

	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
	"github.com/kantree-nomad/kantree-nomad/runtime/ledger"
	"github.com/kantree-nomad/kantree-nomad/runtime/pgcheck"
)

// checkPostgres makes one attempt: connect, require a primary and a
// session that stays ours, and, when release is set, a schema at or after
// that release.
func checkPostgres(ctx context.Context, dsn, release string) (string, error) {
	target := diagnosis.RedactDSN(dsn)
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
	applied, ok, err := ledger.SchemaRelease(ctx, conn)
	if err != nil {
		return "", pgcheck.Classify(target, err)
	}
	if !ok {
		return "", schemaBehind(target, release, "")
	}
	if at, err := ledger.AtOrAfter(applied, release); err != nil || !at {
		return "", schemaBehind(target, release, applied)
	}
	return found + ", schema at release " + applied, nil
}

// schemaBehind says that the schema is older than release (or that no
// release has been applied when applied is empty).
func schemaBehind(target, want, applied string) *diagnosis.Diagnosis {
	d := &diagnosis.Diagnosis{Kind: diagnosis.PGSchemaRelease, Service: pgcheck.Service, Target: target,
		Advice: "run the upgrade-db job for release " + want + " (kantree-nomad migrate -release " + want +
			"); preflight waits for it until its timeout"}
	if applied == "" {
		d.Summary = fmt.Sprintf("the schema is not at release %s or later: migrate has recorded no successful release in %s",
			want, ledger.Table)
		return d
	}
	d.Summary = fmt.Sprintf("the schema is at release %s, older than %s (per %s)", applied, want, ledger.Table)
	return d
}
