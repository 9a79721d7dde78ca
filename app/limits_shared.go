package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"
)

// sharedLimits keeps the counts of the rate limiters (the public form's, Open311's, the
// monitoring ingest's per device) in Redis (CITYOPS_REDIS_URL), so that the replicas behind a
// load balancer count together: N replicas do not allow N times the requests. Each limiter
// gets a storage of its own (its key prefix); they share one client.
//
// Redis is a helper, not a dependency: when it does not answer (within redisWait) the storage
// counts in the replica's memory for that call, so a request is never refused or failed because
// Redis is away — the limits are then per replica until it is back, and the log says so once.
type sharedLimits struct {
	client *redis.Client
	log    *slog.Logger
	down   atomic.Bool // Redis failed last time (logged once per outage)
}

// redisWait bounds a rate limiter's call to Redis.
const redisWait = 200 * time.Millisecond

func newSharedLimits(url string, log *slog.Logger) (*sharedLimits, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = redisWait, redisWait, redisWait
	opts.MaxRetries = 0
	redisLogOnce.Do(func() { redis.SetLogger(redisLog{log}) }) // the client's logger is global
	return &sharedLimits{client: redis.NewClient(opts), log: log}, nil
}

var redisLogOnce sync.Once

// redisLog passes the Redis client's own messages (a dial that failed, …) to the log at debug
// level: sharedLimits says what matters once per outage.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(_ context.Context, format string, v ...any) {
	l.log.Debug("redis: " + fmt.Sprintf(format, v...))
}

// storage returns a rate limiter's storage under prefix.
func (l *sharedLimits) storage(prefix string) fiber.Storage {
	return &redisLimitStore{l: l, prefix: "cityops:limit:" + prefix + ":", local: newLimitStore()}
}

func (l *sharedLimits) Close() error { return l.client.Close() }

// failed records that Redis did not answer: counting falls back to memory.
func (l *sharedLimits) failed(err error) {
	if !l.down.Swap(true) {
		l.log.Warn("rate limits: Redis does not answer; counting per replica until it does", "err", err)
	}
}

func (l *sharedLimits) ok() {
	if l.down.Swap(false) {
		l.log.Info("rate limits: Redis answers again; counting across the replicas")
	}
}

var _ fiber.Storage = (*redisLimitStore)(nil)

type redisLimitStore struct {
	l      *sharedLimits
	prefix string
	local  *limitStore
}

func (s *redisLimitStore) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), redisWait)
}

func (s *redisLimitStore) Get(key string) ([]byte, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	b, err := s.l.client.Get(ctx, s.prefix+key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		s.l.ok()
		return nil, nil
	case err != nil:
		s.l.failed(err)
		return s.local.Get(key)
	}
	s.l.ok()
	return b, nil
}

func (s *redisLimitStore) Set(key string, val []byte, exp time.Duration) error {
	ctx, cancel := s.ctx()
	defer cancel()
	if err := s.l.client.Set(ctx, s.prefix+key, val, exp).Err(); err != nil {
		s.l.failed(err)
		return s.local.Set(key, val, exp)
	}
	s.l.ok()
	return nil
}

func (s *redisLimitStore) Delete(key string) error {
	ctx, cancel := s.ctx()
	defer cancel()
	if err := s.l.client.Del(ctx, s.prefix+key).Err(); err != nil {
		s.l.failed(err)
	}
	return s.local.Delete(key)
}

// Reset forgets every count of this limiter.
func (s *redisLimitStore) Reset() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	iter := s.l.client.Scan(ctx, 0, s.prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		if err := s.l.client.Del(ctx, iter.Val()).Err(); err != nil {
			s.l.failed(err)
			break
		}
	}
	if err := iter.Err(); err != nil {
		s.l.failed(err)
	}
	return s.local.Reset()
}

// Close does nothing: the client is shared (sharedLimits.Close).
func (s *redisLimitStore) Close() error { return nil }
