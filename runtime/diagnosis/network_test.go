package diagnosis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"
)

func TestNetworkClassifiesRealErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var d net.Dialer
	_, refused := d.DialContext(ctx, "tcp", closed)
	_, dnsErr := d.DialContext(ctx, "tcp", "no-such-host.invalid:5432")
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{name: "refused", err: fmt.Errorf("connect: %w", refused), want: Refused},
		{name: "dns", err: fmt.Errorf("connect: %w", dnsErr), want: DNS},
		{name: "timeout", err: fmt.Errorf("connect: %w", context.DeadlineExceeded), want: Timeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Network("postgres", "postgres://h/k", tc.err)
			if d == nil || d.Kind != tc.want {
				t.Fatalf("Network(%v) = %+v, want kind %s", tc.err, d, tc.want)
			}
			if d.Hint() == "" {
				t.Errorf("no hint for %s", tc.want)
			}
		})
	}
	if d := Network("redis", "x", errors.New("some other failure")); d != nil {
		t.Errorf("Network(other) = %+v, want nil", d)
	}
}
