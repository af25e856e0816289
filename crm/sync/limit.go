package sync

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/omniphone/omniphone/crm/b24"
)

// pgBucket is a portal's token bucket kept in PostgreSQL, so that every
// node together stays within the portal's limit (OSS River has no global
// limiter; River Pro's concurrency limits are not a rate). Each request
// reserves a token with one UPDATE on the database clock: the bucket
// refills at Rate per second up to Burst, may go negative (reservations
// queued behind), and the caller sleeps until its token is due — the
// reservation scheme of golang.org/x/time/rate, shared through a row lock.
// The bucket is one token smaller than the portal's, for network jitter.
type pgBucket struct {
	q     querier
	limit b24.Limit
}

const bucketNow = `CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)`

func (b *pgBucket) rate() (float64, float64) {
	l := b.limit
	if l.Rate == 0 {
		l = b24.DefaultLimit
	}
	// One token of headroom: a request reserved on time may reach the
	// portal a little late and the next one on time; the portal's bucket
	// would count both in the same instant.
	return l.Rate, float64(max(l.Burst-1, 1))
}

// take reserves one request for portal and waits until it is due.
func (b *pgBucket) take(ctx context.Context, portal string) error {
	rate, burst := b.rate()
	if _, err := b.q.exec(ctx, `INSERT INTO omnisync_bucket (portal, tokens, updated_us) VALUES (?, ?, `+bucketNow+`)
		ON CONFLICT (portal) DO NOTHING`, portal, burst); err != nil {
		return fmt.Errorf("rate bucket: %w", err)
	}
	var tokens float64
	err := b.q.queryRow(ctx, `UPDATE omnisync_bucket SET
			tokens = LEAST(CAST(? AS DOUBLE PRECISION), tokens + (`+bucketNow+` - updated_us) / 1000000.0 * ?) - 1,
			updated_us = `+bucketNow+`
		WHERE portal = ? RETURNING tokens`, burst, rate, portal).Scan(&tokens)
	if err != nil {
		return fmt.Errorf("rate bucket: %w", err)
	}
	if tokens >= 0 {
		return nil
	}
	wait := time.Duration(-tokens / rate * float64(time.Second))
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// wrap returns an HTTP client whose REST requests first take a token.
func (b *pgBucket) wrap(hc *http.Client, portal string) *http.Client {
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c := *hc
	c.Transport = &bucketTransport{base: base, take: func(ctx context.Context) error { return b.take(ctx, portal) }}
	return &c
}

// bucketTransport paces REST calls (not OAuth token requests, which the
// portal does not count).
type bucketTransport struct {
	base http.RoundTripper
	take func(ctx context.Context) error
}

func (t *bucketTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/rest/") {
		if err := t.take(r.Context()); err != nil {
			return nil, err
		}
	}
	return t.base.RoundTrip(r)
}
