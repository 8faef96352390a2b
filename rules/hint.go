package rules

import "errors"

// Hinted is an error that carries a hint: what the person who reads the
// error can do about it. The CLI prints the error, then the hint, in one
// place; every package that has advice to give attaches it with WithHint.
type Hinted struct {
	Err    error
	Advice string
}

// WithHint returns err with a hint attached; a nil err stays nil.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &Hinted{Err: err, Advice: hint}
}

func (e *Hinted) Error() string { return e.Err.Error() }
func (e *Hinted) Unwrap() error { return e.Err }

// Hint returns the advice.
func (e *Hinted) Hint() string { return e.Advice }

// Hint returns the hint carried by err or by an error it wraps (the
// outermost one), or "".
func Hint(err error) string {
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}
