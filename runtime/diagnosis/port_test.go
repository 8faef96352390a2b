package diagnosis_test

import (
	"net"
	"testing"
)

// closedPort returns a loopback port nothing listens on.
func closedPort(tb testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
