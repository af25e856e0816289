package b24

import (
	"context"
	"math/rand/v2"
	"time"

	"golang.org/x/time/rate"
)

// Limit is a leaky bucket: Rate requests per second drain it, Burst is its
// size. Bitrix24's own is 2/s with a burst of 50 (Enterprise: 5/s, 250).
type Limit struct {
	Rate  float64
	Burst int
}

// DefaultLimit is the limit of every plan but Enterprise.
var DefaultLimit = Limit{Rate: 2, Burst: 50}

// limiter paces requests so that the portal never has to refuse them. A
// token bucket with the same rate admits what the portal's leaky bucket
// admits, but only if every request reached the portal after the same
// delay: when one request is delayed and the next is not, the portal sees
// them closer together than the client sent them, and at a full bucket it
// refuses the second (measured: 1 in 300 at 2/50). The client's bucket is
// therefore a little smaller than the portal's (bucketHeadroom), which
// absorbs up to a second of jitter at 2/s and costs nothing in rate.
const bucketHeadroom = 2

type limiter struct {
	lim *rate.Limiter // nil: unlimited
}

func newLimiter(l Limit) *limiter {
	if l.Rate < 0 {
		return &limiter{}
	}
	if l.Rate == 0 {
		l = DefaultLimit
	}
	if l.Burst > 2*bucketHeadroom {
		l.Burst -= bucketHeadroom
	}
	if l.Burst <= 0 {
		l.Burst = 1
	}
	return &limiter{lim: rate.NewLimiter(rate.Limit(l.Rate), l.Burst)}
}

func (l *limiter) wait(ctx context.Context) error {
	if l.lim == nil {
		return nil
	}
	return l.lim.Wait(ctx)
}

// drain empties the bucket after the portal said it was full: other clients
// (another node, another app on the portal) share its counter.
func (l *limiter) drain() {
	if l.lim == nil {
		return
	}
	if n := int(l.lim.Tokens()); n > 0 {
		l.lim.ReserveN(time.Now(), n)
	}
}

// backoff is the wait before retry attempt+1: exponential from 500 ms, at
// most 30 s, with full jitter so that clients do not retry in step.
func backoff(attempt int) time.Duration {
	ceiling := 500 * time.Millisecond << min(attempt, 6)
	ceiling = min(ceiling, 30*time.Second)
	return ceiling/2 + rand.N(ceiling/2+1) //nolint:gosec // jitter, not security
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// operatingFallback is how long a method stays blocked after
// OPERATION_TIME_LIMIT when no operating_reset_at was seen for it.
const operatingFallback = 60 * time.Second

// noteOperating remembers when the method's operating window resets.
func (c *Client) noteOperating(method string, t ResponseTime) {
	if t.OperatingResetAt == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.operatingReset[method] = time.Unix(t.OperatingResetAt, 0)
}

// blockOperating marks method blocked until its reset time.
func (c *Client) blockOperating(method string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.operatingReset[method]
	if !ok || until.Before(c.now()) {
		until = c.now().Add(operatingFallback)
	}
	c.blockedUntil[method] = until
}

// waitOperating sleeps while method is blocked by the operating-time limit.
func (c *Client) waitOperating(ctx context.Context, method string) error {
	c.mu.Lock()
	until, ok := c.blockedUntil[method]
	if ok && !until.After(c.now()) {
		delete(c.blockedUntil, method)
		ok = false
	}
	c.mu.Unlock()
	if !ok {
		return nil
	}
	return c.sleep(ctx, until.Sub(c.now()))
}
