package testbed_test

import (
	"testing"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// The benchmarks measure how long each Start function takes until its
// service answers (ns/op); stopping is outside the timer. Run:
//
//	go test -run '^$' -bench Start -benchtime 3x ./internal/testbed

func benchStart(b *testing.B, start func(b *testing.B) []*testbed.Process) {
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		b.StartTimer()
		ps := start(b)
		b.StopTimer()
		for _, p := range ps {
			if err := p.Stop(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkStartRedis(b *testing.B) {
	benchStart(b, func(b *testing.B) []*testbed.Process {
		return []*testbed.Process{testbed.StartRedis(b, testbed.RedisOptions{}).Process}
	})
}

func BenchmarkStartPostgres(b *testing.B) {
	benchStart(b, func(b *testing.B) []*testbed.Process { return []*testbed.Process{testbed.StartPostgres(b).Process} })
}

func BenchmarkStartPostgresStandby(b *testing.B) {
	pg := testbed.StartPostgres(b)
	b.ResetTimer()
	benchStart(b, func(b *testing.B) []*testbed.Process { return []*testbed.Process{pg.StartStandby(b).Process} })
}

func BenchmarkStartPgBouncer(b *testing.B) {
	pg := testbed.StartPostgres(b)
	b.ResetTimer()
	benchStart(b, func(b *testing.B) []*testbed.Process {
		return []*testbed.Process{testbed.StartPgBouncer(b, pg, "transaction").Process}
	})
}

func BenchmarkStartConsulDev(b *testing.B) {
	benchStart(b, func(b *testing.B) []*testbed.Process { return []*testbed.Process{testbed.StartConsul(b).Process} })
}

func BenchmarkStartConsulCluster(b *testing.B) {
	benchStart(b, func(b *testing.B) []*testbed.Process {
		cl := testbed.StartConsulCluster(b)
		ps := []*testbed.Process{cl.Client.Process}
		for _, s := range cl.Servers {
			ps = append(ps, s.Process)
		}
		return ps
	})
}

func BenchmarkStartNginx(b *testing.B) {
	benchStart(b, func(b *testing.B) []*testbed.Process {
		return []*testbed.Process{testbed.StartNginx(b, "server { listen 127.0.0.1:@PORT@; return 200; }").Process}
	})
}

func BenchmarkStartConsulTemplate(b *testing.B) {
	c := testbed.StartConsul(b)
	b.ResetTimer()
	benchStart(b, func(b *testing.B) []*testbed.Process {
		return []*testbed.Process{testbed.StartConsulTemplate(b, "-consul-addr", c.HTTPAddr, "-template", "/dev/null:"+b.TempDir()+"/out").Process}
	})
}

func BenchmarkStartNomad(b *testing.B) {
	c := testbed.StartConsul(b)
	b.ResetTimer()
	benchStart(b, func(b *testing.B) []*testbed.Process {
		return []*testbed.Process{testbed.StartNomad(b, c, testbed.NomadOptions{}).Process}
	})
}
