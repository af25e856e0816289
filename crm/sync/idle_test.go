package sync_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24sim"
	crmsync "github.com/omniphone/omniphone/crm/sync"
)

// pollOnly is the desktop's engine: no River notification listener, a new
// job is picked up by the fetch poll.
func pollOnly(every time.Duration) func(*crmsync.Options) {
	return func(o *crmsync.Options) { o.PollOnly, o.FetchPollInterval = true, every }
}

// TestEngine_PollOnlyCarriesCallsToTheCRM: without the listener the fetch
// poll alone picks up a posted call and its follow-up job (CP5's delayed
// responsible step), one after another as an idle desktop would send them.
func TestEngine_PollOnlyCarriesCallsToTheCRM(t *testing.T) {
	p := newPortal(t, b24sim.ModeClassic, seedWith(nil)())
	s := baseSettings(p.srv.URL)
	s.CallProcessing.UpdateResponsibleAfterMinutes = 1
	n := newNode(t, sqliteDB(t), s, pollOnly(300*time.Millisecond))
	for _, id := range []string{"poll-1", "poll-2"} {
		code, _ := post(t, n.api.URL, call(id, "in", "missed", []string{"102"}, nil))
		require.Equal(t, 202, code)
		st := waitDone(t, n.api.URL, 30*time.Second, id)[id]
		require.Equal(t, "done", st["state"], "%v", st)
	}
	st, err := p.sim.Snapshot()
	require.NoError(t, err)
	require.Len(t, entities(st, "LEAD"), 1, "the second call from the same number finds the first one's lead")
	require.Len(t, st.Activities, 2)
}

// BenchmarkEngineIdle reports the CPU an idle embedded engine (SQLite, no
// calls) costs, with River's notification listener (omnisync's default)
// and poll-only (the desktop's). This process runs nothing else while it
// measures; the figures are noisy on two shared cores.
func BenchmarkEngineIdle(b *testing.B) {
	for _, c := range []struct {
		name string
		mut  []func(*crmsync.Options)
	}{
		{"listener", nil},
		{"poll-only-1s", []func(*crmsync.Options){pollOnly(time.Second)}},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := newPortal(b, b24sim.ModeClassic, seedWith(nil)())
			newNode(b, sqliteDB(b), baseSettings(p.srv.URL), c.mut...)
			time.Sleep(time.Second) // start-up: migrations, leader election
			var cpu, wall time.Duration
			for range b.N {
				before, start := selfCPU(), time.Now()
				time.Sleep(3 * time.Second)
				cpu += selfCPU() - before
				wall += time.Since(start)
			}
			b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "idle-cpu-%")
			b.ReportMetric(0, "ns/op")
		})
	}
}
