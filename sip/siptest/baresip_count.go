package siptest

import (
	"fmt"
	"testing"
	"time"
)

// Count is how many events of type typ arrived so far.
func (b *Baresip) Count(typ string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.countLocked(typ)
}

func (b *Baresip) countLocked(typ string) int {
	n := 0
	for _, ev := range b.events {
		if ev["type"] == typ {
			n++
		}
	}
	return n
}

// Calls counts the calls baresip has seen (distinct call ids).
func (b *Baresip) Calls() int {
	n, _ := b.CallArrival(0)
	return n
}

// CallArrival is how many calls baresip has seen and when the first event
// of the n-th (from 1) arrived: with auto-answer that is the INVITE's
// offer (CALL_REMOTE_SDP).
func (b *Baresip) CallArrival(n int) (int, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	seen := map[any]bool{}
	var at time.Time
	for i, ev := range b.events {
		if id := ev["id"]; id != nil && !seen[id] {
			seen[id] = true
			if len(seen) == n {
				at = b.at[i]
			}
		}
	}
	return len(seen), at
}

// WaitCount waits until n events of type typ arrived.
func (b *Baresip) WaitCount(t testing.TB, typ string, n int, timeout time.Duration) {
	t.Helper()
	b.wait(t, timeout, fmt.Sprintf("%d %s events", n, typ), func() bool { return b.countLocked(typ) >= n })
}
