package sip

import (
	"context"
	"log/slog"
	"math"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// toneDevice is an AudioDevice that "captures" a sine of freq Hz and keeps
// everything it is asked to play.
type toneDevice struct {
	freq    float64
	mu      sync.Mutex
	discard bool // benchmarks: keep nothing
	phase   float64
	heard   []int16
}

func (d *toneDevice) ReadFrame(dst []int16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	step := 2 * math.Pi * d.freq / SampleRate
	for i := range dst {
		dst[i] = int16(8000 * math.Sin(d.phase))
		d.phase += step
	}
	d.phase = math.Mod(d.phase, 2*math.Pi)
}

func (d *toneDevice) WriteFrame(src []int16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.discard {
		d.heard = append(d.heard, src...)
	}
}

// heardSince returns the samples played after the first n.
func (d *toneDevice) heardSince(n int) []int16 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n > len(d.heard) {
		n = len(d.heard)
	}
	return append([]int16(nil), d.heard[n:]...)
}

func (d *toneDevice) heardLen() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.heard)
}

// events collects everything a Phone reports.
type events struct {
	mu    sync.Mutex
	reg   []RegEvent
	calls []CallEvent
	dtmf  []DTMFEvent
	in    []*Call
	ch    chan struct{}
}

func newEvents(p *Phone) *events {
	e := &events{ch: make(chan struct{}, 1)}
	poke := func() {
		select {
		case e.ch <- struct{}{}:
		default:
		}
	}
	p.OnRegState(func(ev RegEvent) { e.mu.Lock(); e.reg = append(e.reg, ev); e.mu.Unlock(); poke() })
	p.OnCallState(func(ev CallEvent) { e.mu.Lock(); e.calls = append(e.calls, ev); e.mu.Unlock(); poke() })
	p.OnDTMF(func(ev DTMFEvent) { e.mu.Lock(); e.dtmf = append(e.dtmf, ev); e.mu.Unlock(); poke() })
	p.OnIncoming(func(c *Call) { e.mu.Lock(); e.in = append(e.in, c); e.mu.Unlock(); poke() })
	return e
}

// wait polls cond (under the events lock) until it is true or timeout.
func (e *events) wait(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		e.mu.Lock()
		ok := cond()
		e.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-e.ch:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			e.mu.Lock()
			defer e.mu.Unlock()
			t.Fatalf("timed out after %s waiting for %s; reg=%v calls=%v", timeout, what, e.reg, summarize(e.calls))
		}
	}
}

func summarize(evs []CallEvent) []string {
	out := make([]string, 0, len(evs))
	for _, ev := range evs {
		s := ev.State.String()
		if ev.State == CallEnded {
			s += "(" + ev.Cause.String() + "," + ev.Reason + ")"
		}
		out = append(out, s)
	}
	return out
}

// waitReg waits for a registration event in state st after the first n events.
func (e *events) waitReg(t testing.TB, st RegState, n int) RegEvent {
	t.Helper()
	var got RegEvent
	e.wait(t, 30*time.Second, "registration "+st.String(), func() bool {
		for _, ev := range e.reg[min(n, len(e.reg)):] {
			if ev.State == st {
				got = ev
				return true
			}
		}
		return false
	})
	return got
}

func (e *events) regCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.reg)
}

// waitCall waits for an event of call c in state st.
func (e *events) waitCall(t testing.TB, c *Call, st CallState, timeout time.Duration) CallEvent {
	t.Helper()
	var got CallEvent
	e.wait(t, timeout, "call "+st.String(), func() bool {
		for _, ev := range e.calls {
			if (c == nil || ev.Call == c) && ev.State == st {
				got = ev
				return true
			}
		}
		return false
	})
	return got
}

// waitIncoming waits for the n-th incoming call (1-based).
func (e *events) waitIncoming(t testing.TB, n int) *Call {
	t.Helper()
	var c *Call
	e.wait(t, 30*time.Second, "incoming call", func() bool {
		if len(e.in) >= n {
			c = e.in[n-1]
			return true
		}
		return false
	})
	return c
}

func (e *events) digits() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := ""
	for _, d := range e.dtmf {
		s += string(d.Digit)
	}
	return s
}

// testPhone is a Phone running against a test Kamailio.
type testPhone struct {
	*Phone
	ev  *events
	dev *toneDevice
}

// startPhone builds a Phone for user@kamailio, runs it and stops it in Cleanup.
func startPhone(t testing.TB, k *siptest.Kamailio, user, password string, toneHz float64, mutate func(*Config), opts ...Option) *testPhone {
	t.Helper()
	cfg := Config{
		Account: Account{
			User:     user,
			Password: password,
			Domain:   k.Addr(),
			Expiry:   60 * time.Second,
		},
		RequestTimeout: 3 * time.Second,
		RetryMin:       500 * time.Millisecond,
		RetryMax:       2 * time.Second,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	dev := &toneDevice{freq: toneHz}
	var logOpt []Option
	if os.Getenv("OMNIPHONE_SIP_DEBUG") != "" {
		logOpt = append(logOpt, WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	if os.Getenv("OMNIPHONE_SIP_JITTER") != "" {
		logOpt = append(logOpt, WithJitterBuffer())
	}
	p, err := New(cfg, append(append(logOpt, WithAudioDevice(dev)), opts...)...)
	require.NoError(t, err)
	ev := newEvents(p)
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-runErr:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Errorf("Phone.Run did not return")
		}
		require.NoError(t, p.Close())
	})
	return &testPhone{Phone: p, ev: ev, dev: dev}
}

// connect places (Outbound) or answers (Inbound) a call between p and
// baresip through k, and waits until both sides have it established.
func connect(t *testing.T, k *siptest.Kamailio, p *testPhone, b *siptest.Baresip, dir Direction) *Call {
	t.Helper()
	var c *Call
	if dir == Outbound {
		var err error
		c, err = p.Dial("alice")
		require.NoError(t, err)
	} else {
		b.Command("dial", "sip:gouac@"+k.Addr())
		c = p.ev.waitIncoming(t, 1)
		require.NoError(t, c.Answer())
	}
	p.ev.waitCall(t, c, CallActive, 20*time.Second)
	b.WaitEvent(t, 10*time.Second, siptest.EvType("CALL_ESTABLISHED"))
	return c
}

// hangUp ends c from our side and waits until both sides closed it.
func hangUp(t *testing.T, p *testPhone, b *siptest.Baresip, c *Call) {
	t.Helper()
	require.NoError(t, c.Hangup())
	p.ev.waitCall(t, c, CallEnded, 20*time.Second)
	b.WaitEvent(t, 10*time.Second, siptest.EvType("CALL_CLOSED"))
}
