package diagnosis

import (
	"io"
	"log/slog"
	"strings"
)

// Output is where a runtime command prints: everything written through it
// has the given secrets masked, and its logger redacts each value before
// slog quotes and escapes it (after escaping, a password holding a quote
// or a backslash no longer looks like itself).
type Output struct {
	Stdout io.Writer
	Stderr io.Writer
	Log    *slog.Logger
	mask   *strings.Replacer
}

// NewOutput wraps stdout and stderr in Filters for secrets and builds a
// text logger on stderr.
func NewOutput(stdout, stderr io.Writer, secrets ...string) *Output {
	o := &Output{Stdout: NewFilter(stdout, secrets...), Stderr: NewFilter(stderr, secrets...),
		mask: newMasker(secrets)}
	o.Log = slog.New(slog.NewTextHandler(o.Stderr, &slog.HandlerOptions{ReplaceAttr: o.replaceAttr}))
	return o
}

// Text returns s with URL and DSN passwords and the known secrets masked.
func (o *Output) Text(s string) string { return o.mask.Replace(Redact(s)) }

// replaceAttr redacts string and error values (the message included).
func (o *Output) replaceAttr(_ []string, a slog.Attr) slog.Attr {
	switch v := a.Value; v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(o.Text(v.String()))
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			a.Value = slog.StringValue(o.Text(err.Error()))
		}
	}
	return a
}

// Error returns err with its message redacted; errors.As and errors.Is
// still see what it wraps, so its hint is kept.
func (o *Output) Error(err error) error {
	if err == nil {
		return nil
	}
	return &redacted{text: o.Text(err.Error()), err: err}
}

type redacted struct {
	text string
	err  error
}

func (e *redacted) Error() string { return e.text }
func (e *redacted) Unwrap() error { return e.err }
