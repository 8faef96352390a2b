package kantreestub_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/internal/kantreestub"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

func TestWorkerRecordsJobsFromItsQueues(t *testing.T) {
	t.Parallel()
	pg, rd := sharedPostgres(t), sharedRedis(t)
	url := pg.CreateDatabase(t)
	queue := "q" + time.Now().Format("150405.000000")
	p := startPlatform(t, "worker", []string{"DATABASE_URL=" + url, "REDIS_URL=" + rd.URL(), "KANTREE_INSTANCE_ID=w1"},
		nil, "run", "worker", "--queue", queue, "-queue", queue+"-mail")
	ctx := context.Background()
	rc := rd.Client()
	defer rc.Close()
	rc.RPush(ctx, kantreestub.QueuePrefix+queue, "job-1", "job-2")
	rc.RPush(ctx, kantreestub.QueuePrefix+queue+"-mail", "mail-1")
	rc.RPush(ctx, kantreestub.QueuePrefix+"not-mine"+queue, "other")
	conn := db(t, url)
	var jobs []kantreestub.Job
	eventually(t, 30*time.Second, "3 jobs recorded", func() bool {
		var err error
		jobs, err = kantreestub.Jobs(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		return len(jobs) >= 3
	})
	var got []string
	for _, j := range jobs {
		if j.InstanceID != "w1" {
			t.Errorf("job %+v: instance %q, want w1", j, j.InstanceID)
		}
		got = append(got, j.Queue+"/"+j.Payload)
	}
	sort.Strings(got)
	want := []string{queue + "-mail/mail-1", queue + "/job-1", queue + "/job-2"}
	sort.Strings(want)
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("jobs = %v, want %v", got, want)
	}
	if n, _ := rc.LLen(ctx, kantreestub.QueuePrefix+"not-mine"+queue).Result(); n != 1 {
		t.Errorf("the worker took a job from a queue it does not serve")
	}
	if err := p.Stop(); err != nil || p.ExitCode() != 0 {
		t.Errorf("stop: %v, exit %d", err, p.ExitCode())
	}
}

func TestWorkerRidesOutDatabaseOutageAndRequeuesOnStop(t *testing.T) {
	t.Parallel()
	pg, rd := testbed.StartPostgres(t), sharedRedis(t)
	url := pg.CreateDatabase(t)
	queue := "outage" + time.Now().Format("150405.000000")
	key := kantreestub.QueuePrefix + queue
	p := startPlatform(t, "worker", []string{"DATABASE_URL=" + url, "REDIS_URL=" + rd.URL()}, nil, "run", "worker", "--queue", queue)
	ctx := context.Background()
	rc := rd.Client()
	defer rc.Close()
	jobs := func() int {
		c := db(t, url)
		defer c.Close(ctx)
		j, err := kantreestub.Jobs(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return len(j)
	}
	rc.RPush(ctx, key, "before")
	eventually(t, 30*time.Second, "job before the outage recorded", func() bool { return jobs() == 1 })
	if err := pg.Kill(); err != nil {
		t.Fatal(err)
	}
	rc.RPush(ctx, key, "during")
	eventually(t, 30*time.Second, "the worker takes the job", func() bool { return rc.LLen(ctx, key).Val() == 0 })
	pg.Restart(t)
	eventually(t, 30*time.Second, "job taken during the outage recorded after it", func() bool { return jobs() == 2 })
	if !p.Running() {
		t.Fatalf("the worker died in the outage:\n%s", p.LogTail(20))
	}
	if err := pg.Kill(); err != nil {
		t.Fatal(err)
	}
	rc.RPush(ctx, key, "requeued")
	eventually(t, 30*time.Second, "the worker takes the job", func() bool { return rc.LLen(ctx, key).Val() == 0 })
	if err := p.Stop(); err != nil || p.ExitCode() != 0 {
		t.Fatalf("stop: %v, exit %d", err, p.ExitCode())
	}
	if got, _ := rc.LRange(ctx, key, 0, -1).Result(); len(got) != 1 || got[0] != "requeued" {
		t.Errorf("queue after a stop with a job in hand = %v, want [requeued]", got)
	}
}
