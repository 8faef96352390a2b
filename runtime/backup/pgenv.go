package backup

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
)

// passThrough are the libpq settings, beyond host, port, user, password and
// database, that pg_dump must see as the migration saw them.
var passThrough = map[string]string{
	"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
	"sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT",
	"target_session_attrs": "PGTARGETSESSIONATTRS", "options": "PGOPTIONS",
}

// libpqEnv turns a PostgreSQL URL or keyword DSN into libpq's environment
// variables, so that pg_dump and pg_restore connect with no secret in
// their argument list.
func libpqEnv(dsn string) ([]string, error) {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("read the database URL: %s", parseProblem(dsn, err))
	}
	hosts, ports := []string{cfg.Host}, []string{strconv.Itoa(int(cfg.Port))}
	for _, f := range cfg.Fallbacks {
		if f.Host != hosts[len(hosts)-1] || strconv.Itoa(int(f.Port)) != ports[len(ports)-1] {
			hosts, ports = append(hosts, f.Host), append(ports, strconv.Itoa(int(f.Port)))
		}
	}
	env := []string{"PGHOST=" + strings.Join(hosts, ","), "PGPORT=" + strings.Join(ports, ","),
		"PGUSER=" + cfg.User, "PGDATABASE=" + cfg.Database}
	if cfg.Password != "" {
		env = append(env, "PGPASSWORD="+cfg.Password)
	}
	for k, v := range settings(dsn) {
		if name, ok := passThrough[k]; ok {
			env = append(env, name+"="+v)
		}
	}
	return env, nil
}

// database is the name of the database dsn connects to ("" if unreadable).
func database(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return ""
	}
	return cfg.Database
}

// parseProblem says what is wrong with a DSN without repeating its
// secrets (pgconn's and net/url's errors may quote the whole string).
func parseProblem(dsn string, err error) string {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) && pe.Unwrap() != nil {
		err = pe.Unwrap()
	}
	text := diagnosis.Redact(err.Error())
	for _, s := range diagnosis.Secrets(dsn) {
		text = strings.ReplaceAll(text, s, "xxxxx")
	}
	return text
}

// settings returns the query parameters of a URL, or the key=value pairs of
// a keyword DSN.
func settings(dsn string) map[string]string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		out := map[string]string{}
		if u, err := url.Parse(dsn); err == nil {
			for k, v := range u.Query() {
				out[k] = v[len(v)-1]
			}
		}
		return out
	}
	return keywords(dsn)
}

// keywords parses libpq's key=value form: values may be single-quoted, with
// backslash escapes.
func keywords(s string) map[string]string {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return out
		}
		key := strings.TrimSpace(s[:eq])
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val strings.Builder
		quoted := strings.HasPrefix(s, "'")
		if quoted {
			s = s[1:]
		}
		i := 0
		for ; i < len(s); i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				i++
				val.WriteByte(s[i])
				continue
			}
			if (quoted && c == '\'') || (!quoted && (c == ' ' || c == '\t')) {
				break
			}
			val.WriteByte(c)
		}
		out[key] = val.String()
		s = s[min(i+1, len(s)):]
	}
	return out
}
