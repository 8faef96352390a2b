package supervise

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/consul/api"
)

// lockDelayRetry is how soon an acquire refused on a free key is tried
// again. Consul refuses it while the lock-delay of the previous holder's
// invalidated session runs and does not say for how long, so no blocking
// query can wait for it: this short timed wait is the only polling.
const lockDelayRetry = 100 * time.Millisecond

// acquire waits until the key is free, using blocking queries, and takes
// it with session id. It returns the stamp taken before the successful
// acquire request and the fencing token (the key's ModifyIndex after it).
func (s *Supervisor) acquire(ctx context.Context, id string) (stamp, uint64, error) {
	var index uint64
	for {
		p, meta, err := s.client.KV().Get(s.cfg.Key, (&api.QueryOptions{WaitIndex: index, WaitTime: time.Minute}).WithContext(ctx))
		if err != nil {
			if err := s.pause(ctx, "watch "+s.cfg.Key, err); err != nil {
				return stamp{}, 0, err
			}
			continue
		}
		index = nextIndex(index, meta.LastIndex)
		if p != nil && p.Session != "" && p.Session != id {
			continue // held by someone else: block until it changes
		}
		at := now(s.clock)
		// Flags carries the time of the acquisition (Unix milliseconds): Consul
		// keeps none, and `kantree-nomad status` shows how long the holder
		// has held the lock.
		pair := &api.KVPair{Key: s.cfg.Key, Value: []byte(s.cfg.CheckID), Session: id, Flags: uint64(at.mono.UnixMilli())}
		ok, _, err := s.client.KV().Acquire(pair, (&api.WriteOptions{}).WithContext(ctx))
		switch {
		case isInvalidSession(err):
			return stamp{}, 0, fmt.Errorf("acquire %s: %w", s.cfg.Key, errSessionGone)
		case err != nil:
			if err := s.pause(ctx, "acquire "+s.cfg.Key, err); err != nil {
				return stamp{}, 0, err
			}
		case ok:
			return s.fencingToken(ctx, id, at)
		default:
			// Taken by another standby first, or a lock-delay runs.
			index = 0
			if err := sleep(ctx, lockDelayRetry); err != nil {
				return stamp{}, 0, err
			}
		}
	}
}

// nextIndex follows Consul's rules for blocking query indexes: reset when
// the index goes backwards, never use 0 after the first answer.
func nextIndex(prev, last uint64) uint64 {
	if last < prev || last == 0 {
		return 1
	}
	return last
}

// fencingToken reads the key back after a successful acquire. The hold
// counts as confirmed from at, the moment the acquire was sent, so this
// read needs no quorum check: the leader that committed the acquire
// answers it (a stale answer shows another holder and counts as lost).
func (s *Supervisor) fencingToken(ctx context.Context, id string, at stamp) (stamp, uint64, error) {
	for {
		rctx, cancel := context.WithTimeout(ctx, s.cfg.fenceAfter()/2)
		p, _, err := s.client.KV().Get(s.cfg.Key, (&api.QueryOptions{}).WithContext(rctx))
		cancel()
		switch {
		case err != nil:
			if err := s.pause(ctx, "read fencing token", err); err != nil {
				return stamp{}, 0, err
			}
		case p == nil || p.Session != id:
			return stamp{}, 0, fmt.Errorf("read fencing token: %s lost right after acquire: %w", s.cfg.Key, errSessionGone)
		default:
			return at, p.ModifyIndex, nil
		}
	}
}

// pause logs a retryable error and waits a little before the retry.
func (s *Supervisor) pause(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	s.log.Debug("retrying", "op", op, "reason", err.Error())
	return sleep(ctx, 200*time.Millisecond)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
