package preflight

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
)

func TestParseSentinelURL(t *testing.T) {
	o, err := ParseSentinelURL("redis-sentinel://:p%40ss@s1:26380,s2/mymaster/3?sentinel_password=t0k")
	if err != nil {
		t.Fatal(err)
	}
	if o.MasterName != "mymaster" || o.DB != 3 || o.Password != "p@ss" || o.SentinelPassword != "t0k" ||
		!slices.Equal(o.SentinelAddrs, []string{"s1:26380", "s2:26379"}) || o.TLSConfig != nil {
		t.Errorf("parsed %+v", o)
	}
	o, err = ParseSentinelURL("rediss-sentinel://s1:26379/m?db=2")
	if err != nil || o.DB != 2 || o.TLSConfig == nil || o.Password != "" {
		t.Errorf("parsed %+v, %v", o, err)
	}
}

func TestNewRedisClientRejectsBadURLsWithoutLeaking(t *testing.T) {
	for _, u := range []string{
		"", "redis-sentinel://:hunter22@s1:26379", "redis-sentinel://:hunter22@/m",
		"redis://:hunter22@h:6379/notanumber", "ftp://:hunter22@h",
	} {
		_, err := NewRedisClient(u)
		var d *diagnosis.Diagnosis
		if !errors.As(err, &d) || d.Kind != diagnosis.BadURL {
			t.Errorf("NewRedisClient(%q) = %v, want a bad-url diagnosis", u, err)
			continue
		}
		if strings.Contains(err.Error(), "hunter22") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
}
