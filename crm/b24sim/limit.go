package b24sim

import (
	"sync"
	"time"
)

// limiter implements the portal's leaky bucket (X burst, Y per second drain)
// and the per-method operating-time budget (10 one-minute buckets).
type limiter struct {
	mu        sync.Mutex
	rate      float64
	burst     int
	level     float64
	last      time.Time
	opLimit   time.Duration
	operating map[string]*opWindow // key: identity + "|" + method
}

type opWindow struct {
	buckets [10]time.Duration
	minutes [10]int64 // unix minute of each bucket
}

func newLimiter(rate float64, burst int, opLimit time.Duration) *limiter {
	return &limiter{rate: rate, burst: burst, opLimit: opLimit, operating: map[string]*opWindow{}}
}

func (l *limiter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.level = 0
	l.last = time.Time{}
	l.operating = map[string]*opWindow{}
}

// allow reports whether a request at now fits in the bucket and counts it.
func (l *limiter) allow(now time.Time) bool {
	if l.rate <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() {
		if dt := now.Sub(l.last).Seconds(); dt > 0 {
			l.level -= dt * l.rate
			if l.level < 0 {
				l.level = 0
			}
		}
	}
	l.last = now
	if l.level+1 > float64(l.burst) {
		return false
	}
	l.level++
	return true
}

// operatingActive reports whether the operating limiter is on.
func (l *limiter) operatingActive() bool { return l.opLimit > 0 }

// operatingUsed returns the operating time accumulated in the 10-minute
// window ending at now, and the unix time at which the oldest bucket leaves
// the window (0 if none).
func (l *limiter) operatingUsed(key string, now time.Time) (time.Duration, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.operating[key]
	if w == nil {
		return 0, 0
	}
	cur := now.Unix() / 60
	var sum time.Duration
	var oldest int64
	for i, m := range w.minutes {
		if w.buckets[i] == 0 || cur-m >= 10 {
			continue
		}
		sum += w.buckets[i]
		if oldest == 0 || m < oldest {
			oldest = m
		}
	}
	if oldest == 0 {
		return sum, 0
	}
	return sum, (oldest + 10) * 60
}

// blocked reports whether key has exceeded the operating budget.
func (l *limiter) blocked(key string, now time.Time) bool {
	if !l.operatingActive() {
		return false
	}
	used, _ := l.operatingUsed(key, now)
	return used > l.opLimit
}

// spend adds d of operating time to key at now.
func (l *limiter) spend(key string, now time.Time, d time.Duration) {
	if !l.operatingActive() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.operating[key]
	if w == nil {
		w = &opWindow{}
		l.operating[key] = w
	}
	m := now.Unix() / 60
	i := int(m % 10)
	if w.minutes[i] != m {
		w.minutes[i] = m
		w.buckets[i] = 0
	}
	w.buckets[i] += d
}
