package rules

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeciderSharedAcrossCalls: the sync engine's workers share one
// Decider. Deciding many calls with it, at once, gives exactly what Decide
// gives for each — no decision changes the settings the next one reads
// (run under -race, a write to them is also a data race).
func TestDeciderSharedAcrossCalls(t *testing.T) {
	type input struct {
		sw    uint32
		which uint8
	}
	var inputs []input
	for sw := uint32(0); sw < 64; sw += 7 {
		for which := uint8(0); which < 64; which += 9 {
			inputs = append(inputs, input{sw<<1 | sw<<9, which})
		}
	}
	var decided atomic.Int64
	for _, sw := range []uint32{0, 0xffffffff, 1<<1 | 1<<3} {
		s := fuzzSettings(sw, 5, 3, "101")
		if s.Validate() != nil {
			continue
		}
		dc := NewDecider(s)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i, in := range inputs {
					if i%4 != g {
						continue
					}
					c := call("in", "answered", []string{"101", "102"}, []string{"102"})
					if in.sw&2 != 0 {
						c.Direction = "out"
					}
					wantPlan, wantTrace := Decide(s, c, fuzzSnapshot(in.which))
					gotPlan, gotTrace := dc.Decide(c, fuzzSnapshot(in.which))
					assert.Equal(t, wantPlan, gotPlan)
					assert.Equal(t, wantTrace, gotTrace)
					decided.Add(1)
				}
			})
		}
		wg.Wait()
	}
	require.Greater(t, decided.Load(), int64(2*len(inputs)), "fewer than two of the settings were valid")
}
