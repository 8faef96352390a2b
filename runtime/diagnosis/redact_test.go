package diagnosis

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "postgres url", in: "postgres://app:s3cret@db:5432/kantree?sslmode=disable",
			want: "postgres://app:xxxxx@db:5432/kantree?sslmode=disable"},
		{name: "postgresql url no password", in: "postgresql://app@db/kantree",
			want: "postgresql://app@db/kantree"},
		{name: "multi-host url", in: "postgres://app:pw@h1:5432,h2:5433/k?target_session_attrs=read-write",
			want: "postgres://app:xxxxx@h1:5432,h2:5433/k?target_session_attrs=read-write"},
		{name: "password with @ and /", in: "postgres://app:p@ss/w@db/k",
			want: "postgres://app:xxxxx@db/k"},
		{name: "password with ?", in: "postgres://app:p?ss@db/k",
			want: "postgres://app:xxxxx@db/k"},
		{name: "password in query", in: "postgres://db/k?user=app&password=s3cret&sslmode=require",
			want: "postgres://db/k?user=app&password=xxxxx&sslmode=require"},
		{name: "key value dsn", in: "host=db user=app password=s3cret dbname=k",
			want: "host=db user=app password=xxxxx dbname=k"},
		{name: "key value quoted", in: `host=db password='s3 \'cret' dbname=k`,
			want: "host=db password=xxxxx dbname=k"},
		{name: "key value spaces", in: "host=db password = s3cret dbname=k",
			want: "host=db password = xxxxx dbname=k"},
		{name: "key value partly quoted", in: `host=db password='s3'cretSECRET dbname=k`,
			want: "host=db password=xxxxx dbname=k"},
		{name: "key value escaped space", in: `host=db password=s3\ cretSECRET dbname=k`,
			want: "host=db password=xxxxx dbname=k"},
		{name: "redis password only", in: "redis://:s3cret@127.0.0.1:6379/0",
			want: "redis://:xxxxx@127.0.0.1:6379/0"},
		{name: "redis user and password", in: "rediss://default:s3cret@cache:6380/1",
			want: "rediss://default:xxxxx@cache:6380/1"},
		{name: "redis sentinel", in: "redis-sentinel://:s3cret@s1:26379,s2:26379/mymaster?db=2&sentinel_password=t0ken",
			want: "redis-sentinel://:xxxxx@s1:26379,s2:26379/mymaster?db=2&sentinel_password=xxxxx"},
		{name: "url inside a sentence", in: "cannot reach `postgres://a:b1@h/k`: refused; also redis://:c2@h",
			want: "cannot reach `postgres://a:xxxxx@h/k`: refused; also redis://:xxxxx@h"},
		{name: "no secret", in: "connection refused", want: "connection refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{name: "url", in: "postgres://app:s3cret@db/k", want: []string{"s3cret"}},
		{name: "escaped url", in: "postgres://app:a%40b@db/k", want: []string{"a%40b", "a@b"}},
		{name: "query", in: "redis-sentinel://:pw1@s1/m?sentinel_password=pw2", want: []string{"pw1", "pw2"}},
		{name: "kv", in: `host=db password='it\'s'`, want: []string{`'it\'s'`, "it's"}},
		{name: "kv partly quoted", in: `host=db password='s3'cret x=y`, want: []string{`'s3'cret`, "s3cret"}},
		{name: "none", in: "postgres://app@db/k", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Secrets(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("Secrets(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestFilterMasksSecrets(t *testing.T) {
	var buf bytes.Buffer
	f := NewFilter(&buf, "s3cret-pw", "ab")
	n, err := f.Write([]byte("user app with s3cret-pw, ab stays\n"))
	if err != nil || n != 34 {
		t.Fatalf("Write = %d, %v; want 34, nil", n, err)
	}
	if got := buf.String(); strings.Contains(got, "s3cret-pw") || !strings.Contains(got, "ab stays") {
		t.Errorf("filtered output %q", got)
	}
}
