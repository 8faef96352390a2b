package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

const (
	archivePrefix = "kantree-"
	archiveSuffix = ".dump"
	timeLayout    = "20060102T150405.000Z"
)

// ArchiveName is the file name of a backup of database taken at t before
// release: the database's name, then the UTC time, so that one database's
// names sort as its backups were taken, and deployments that share a
// volume keep their own N.
func ArchiveName(database, release string, t time.Time) string {
	return prefix(database) + t.UTC().Format(timeLayout) + "-" + release + archiveSuffix
}

// prefix is the start of the names of database's archives.
func prefix(database string) string {
	return archivePrefix + unsafeChars.ReplaceAllString(database, "_") + "-"
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_.]`)

// Verified returns the verified archives of database in dir (those with a
// .sha256 beside them), oldest first.
func Verified(dir, database string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, de := range des {
		n := de.Name()
		if !de.Type().IsRegular() || !strings.HasPrefix(n, prefix(database)) || !strings.HasSuffix(n, archiveSuffix) {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, n+".sha256")); err == nil {
			out = append(out, filepath.Join(dir, n))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Prune deletes all but the newest keep verified archives of database in
// dir (and their .sha256), and returns what it deleted. keep below 1
// deletes nothing: the newest good backup is never removed.
func Prune(dir, database string, keep int) ([]string, error) {
	if keep < 1 {
		return nil, fmt.Errorf("prune %s: keep %d: the newest backup is always kept", dir, keep)
	}
	all, err := Verified(dir, database)
	if err != nil || len(all) <= keep {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, p := range all[:len(all)-keep] {
		if err := os.Remove(p + ".sha256"); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.Remove(p); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, p)
	}
	return removed, errors.Join(errs...)
}
