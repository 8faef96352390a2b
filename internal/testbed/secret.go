package testbed

import (
	"errors"
	"strings"
)

// redact returns err with every occurrence of secret replaced, so that
// passwords never reach test logs.
func redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "REDACTED"))
}
