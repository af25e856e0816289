package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/crm/events"
	"github.com/omniphone/omniphone/crm/lookup"
	"github.com/omniphone/omniphone/crm/rules"
	crmsync "github.com/omniphone/omniphone/crm/sync"
	"github.com/omniphone/omniphone/settings"
	"github.com/omniphone/omniphone/sip"
)

// fakeCall stands in for a *sip.Call in widget tests: it records what the
// UI asked of it. Real calls are exercised by the sip package's tests
// against Kamailio and baresip.
type fakeCall struct {
	mu      sync.Mutex
	info    sip.Info
	muted   bool
	actions []string
}

func (f *fakeCall) do(a string) error {
	f.mu.Lock()
	f.actions = append(f.actions, a)
	f.mu.Unlock()
	return nil
}
func (f *fakeCall) Answer() error { return f.do("answer") }
func (f *fakeCall) Reject(code int) error {
	return f.do("reject " + map[int]string{486: "486", 603: "603"}[code])
}
func (f *fakeCall) Hangup() error                               { return f.do("hangup") }
func (f *fakeCall) Hold(context.Context) error                  { return f.do("hold") }
func (f *fakeCall) Resume(context.Context) error                { return f.do("resume") }
func (f *fakeCall) Transfer(_ context.Context, to string) error { return f.do("transfer " + to) }
func (f *fakeCall) SendDTMF(d string) error                     { return f.do("dtmf " + d) }
func (f *fakeCall) AttendedTransfer(context.Context, *sip.Call) error {
	return f.do("attended")
}
func (f *fakeCall) SetMuted(m bool)        { f.mu.Lock(); f.muted = m; f.mu.Unlock() }
func (f *fakeCall) Muted() bool            { f.mu.Lock(); defer f.mu.Unlock(); return f.muted }
func (f *fakeCall) Info() sip.Info         { f.mu.Lock(); defer f.mu.Unlock(); return f.info }
func (f *fakeCall) set(fn func(*sip.Info)) { f.mu.Lock(); fn(&f.info); f.mu.Unlock() }
func (f *fakeCall) did() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.actions...)
}

// gatedCards answers lookups when released, like a slow portal.
type gatedCards struct {
	release chan struct{}
	card    lookup.Card
	err     error
}

func (g *gatedCards) Lookup(ctx context.Context, _ string) (lookup.Card, error) {
	select {
	case <-g.release:
	case <-ctx.Done():
		return lookup.Card{}, ctx.Err()
	}
	return g.card, g.err
}

func (g *gatedCards) Details(_ context.Context, c lookup.Card) (lookup.Card, error) { return c, nil }

// memSink keeps submitted records and says they were synced.
type memSink struct {
	mu      sync.Mutex
	records []crm.Call
}

func (m *memSink) Submit(_ context.Context, data []byte) (crmsync.CallStatus, bool, error) {
	c, err := crm.DecodeCall(data)
	if err != nil {
		return crmsync.CallStatus{}, false, err
	}
	m.mu.Lock()
	m.records = append(m.records, c)
	m.mu.Unlock()
	return crmsync.CallStatus{ID: c.ID, State: "queued"}, true, nil
}

func (m *memSink) Status(_ context.Context, id string) (*crmsync.CallStatus, error) {
	return &crmsync.CallStatus{ID: id, State: "done", Trace: rules.Trace{{Rule: "CP3", Fired: true, Why: "created a lead"}}}, nil
}

func eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, 10*time.Millisecond, what)
}

func callApp(t *testing.T, cards CardSource, sink CallSink) *App {
	t.Helper()
	s := withAccount()
	a := New(test.NewTempApp(t), Options{Dir: settings.Dir{Path: t.TempDir()}, Settings: s,
		Services: Services{Account: s.SIP.Accounts[0], Cards: cards, Sink: sink}})
	t.Cleanup(a.Close)
	return a
}

func TestCard_ShownAtOnceFilledWhenTheCRMAnswers(t *testing.T) {
	cards := &gatedCards{release: make(chan struct{}), card: knownCard()}
	a := callApp(t, cards, nil)
	c := &fakeCall{info: sip.Info{ID: "1", Direction: sip.Inbound, Remote: "+79991234567", State: sip.CallIncoming, Created: time.Now()}}
	a.onIncoming(c)
	require.True(t, a.card.root.Visible(), "the card shows while the CRM is still looking")
	require.Equal(t, "Looking up the CRM…", a.card.status.Text)
	require.Equal(t, "+7 999 123-45-67", a.card.title.Text)
	close(cards.release)
	eventually(t, func() bool { return a.card.title.Text == "Сергей Иванов" }, "the CRM data fills the card")
	eventually(t, func() bool { return slices.Contains(labelsIn(a.card.root), "Lead: Павел") }, "several matches are all listed")
}

func TestCard_FailingCRMSaysSoAndAnswerStillWorks(t *testing.T) {
	cards := &gatedCards{release: make(chan struct{}), err: errors.New("portal answered 503")}
	close(cards.release)
	a := callApp(t, cards, nil)
	c := &fakeCall{info: sip.Info{ID: "1", Direction: sip.Inbound, Remote: "+79991234567", State: sip.CallIncoming, Created: time.Now()}}
	a.onIncoming(c)
	eventually(t, func() bool { return a.card.status.Text == "CRM unavailable: portal answered 503" }, "a failing portal is named")
	test.Tap(a.card.answer)
	require.Equal(t, []string{"answer"}, c.did())
}

func TestCall_AnswerControlsHangupAndSync(t *testing.T) {
	sink := &memSink{}
	cards := &gatedCards{release: make(chan struct{}), card: knownCard()}
	close(cards.release)
	a := callApp(t, cards, sink)
	t0 := time.Now()
	c := &fakeCall{info: sip.Info{ID: "42", Direction: sip.Inbound, Remote: "+79991234567", State: sip.CallIncoming, Created: t0}}
	a.onIncoming(c)
	test.Tap(a.card.answer)
	c.set(func(i *sip.Info) { i.State, i.Answered = sip.CallActive, t0.Add(2*time.Second) })
	a.onCallState(sip.CallEvent{State: sip.CallActive}, c)
	require.True(t, a.call.root.Visible())
	require.Equal(t, "Talking", a.call.state.Text)
	c.set(func(i *sip.Info) { i.Encrypted = true })
	a.onCallState(sip.CallEvent{State: sip.CallActive, Encrypted: true}, c)
	require.Equal(t, "Talking · audio encrypted", a.call.state.Text, "an SRTP call says so")

	test.Tap(a.call.mute)
	require.True(t, c.Muted())
	require.Equal(t, "Unmute", a.call.mute.Text)
	test.Tap(a.phone.keys["5"])
	test.Tap(a.call.hold)
	eventually(t, func() bool { return len(c.did()) >= 3 }, "hold sent")
	require.Equal(t, []string{"answer", "dtmf 5", "hold"}, c.did(), "the keypad sends DTMF during a call")
	require.Empty(t, a.phone.number.Text)

	test.Tap(a.call.hangup)
	c.set(func(i *sip.Info) { i.State, i.Ended = sip.CallEnded, t0.Add(62*time.Second) })
	a.onCallState(sip.CallEvent{State: sip.CallEnded, Cause: sip.CauseLocalHangup}, c)
	require.False(t, a.call.root.Visible())
	require.False(t, a.card.root.Visible())

	eventually(t, func() bool { sink.mu.Lock(); defer sink.mu.Unlock(); return len(sink.records) == 1 }, "the record reaches the sync engine")
	rec := sink.records[0]
	require.Equal(t, "omniphone-42", rec.ID)
	require.Equal(t, crm.OutcomeAnswered, rec.Outcome)
	require.Equal(t, []string{"101"}, rec.Talked)
	eventually(t, func() bool { e, _ := a.history.entry(0); return e.State == "done" }, "history shows synced")
	e, _ := a.history.entry(0)
	require.Contains(t, historyLine(e), "CRM: synced")
	require.Contains(t, historyLine(e), "1:00")
	require.Equal(t, "CP3", e.Trace[0].Rule, "the decision trace is one tap away")

	raw, err := json.Marshal(rec)
	require.NoError(t, err)
	_, err = crm.DecodeCall(raw)
	require.NoError(t, err)
}

func TestCall_DeclineAndMissedGoToHistory(t *testing.T) {
	a := callApp(t, nil, nil)
	c := &fakeCall{info: sip.Info{ID: "7", Direction: sip.Inbound, Remote: "+79001112233", State: sip.CallIncoming, Created: time.Now()}}
	a.onIncoming(c)
	require.Contains(t, a.card.status.Text, "no portal connected")
	test.Tap(a.card.decline)
	require.Equal(t, []string{"reject 603"}, c.did())
	c.set(func(i *sip.Info) { i.State, i.Ended = sip.CallEnded, i.Created.Add(3*time.Second) })
	a.onCallState(sip.CallEvent{State: sip.CallEnded, Cause: sip.CauseRejected}, c)
	e, ok := a.history.entry(0)
	require.True(t, ok)
	require.Equal(t, crm.OutcomeMissed, e.Record.Outcome)
	require.Contains(t, historyLine(e), "CRM: not sent — no sync engine")
}

// fakePhone records registration handlers and dials.
type fakePhone struct {
	reg       func(sip.RegEvent)
	mu        sync.Mutex
	dialed    []string
	callerIDs []string
}

func (f *fakePhone) Dial(target string, opts ...sip.DialOption) (*sip.Call, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dialed = append(f.dialed, target)
	f.callerIDs = append(f.callerIDs, sip.NewDialOptions(opts...).CallerID)
	return nil, errors.New("no route in this test")
}

// dials returns the numbers dialled so far.
func (f *fakePhone) dials() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.dialed...)
}

func (f *fakePhone) OnRegState(h func(sip.RegEvent)) { f.reg = h }
func (f *fakePhone) OnIncoming(func(*sip.Call))      {}
func (f *fakePhone) OnCallState(func(sip.CallEvent)) {}

// phoneApp is an app with one account whose phone is a fakePhone.
func phoneApp(t *testing.T) (*App, *fakePhone) {
	p := &fakePhone{}
	s := withAccount()
	a := New(test.NewTempApp(t), Options{Dir: settings.Dir{Path: t.TempDir()}, Settings: s})
	a.Attach(Services{Account: s.SIP.Accounts[0], Phone: p})
	t.Cleanup(a.Close)
	return a, p
}

func TestPhone_CallButtonFollowsRegistration(t *testing.T) {
	a, p := phoneApp(t)
	require.True(t, a.phone.call.Disabled())
	p.reg(sip.RegEvent{State: sip.RegFailed, Err: &sip.RegisterError{StatusCode: 403}})
	require.True(t, a.phone.call.Disabled())
	require.Contains(t, a.status.Text, "SIP: wrong user name or password")
	p.reg(sip.RegEvent{State: sip.RegFailed, Err: fmt.Errorf("register: %w: x509: certificate signed by unknown authority", sip.ErrTLSUntrusted)})
	require.Contains(t, a.status.Text, "SIP: the PBX's TLS certificate is not trusted; set its CA certificate in the SIP account")
	p.reg(sip.RegEvent{State: sip.RegRegistered})
	require.False(t, a.phone.call.Disabled())
	require.Contains(t, a.status.Text, "SIP: registered (101@pbx.example.com)")
	test.Type(a.phone.number, "89991234567")
	test.Tap(a.phone.call)
	require.Equal(t, []string{"89991234567"}, p.dials())
}

func TestCB1_CallbackRingsTheOperatorFirst(t *testing.T) {
	a, p := phoneApp(t)
	p.reg(sip.RegEvent{State: sip.RegRegistered})
	require.NoError(t, a.Dial(context.Background(), events.DialRequest{Kind: events.KindCallback, Number: "+79991234567",
		RingFirst: true, Text: "Перезвоните по поводу доставки"}))
	require.True(t, a.card.root.Visible())
	require.Equal(t, "Callback request: +7 999 123-45-67", a.card.title.Text)
	require.Equal(t, "Перезвоните по поводу доставки", a.card.status.Text)
	require.Empty(t, p.dials(), "nothing is dialled before the operator accepts")
	test.Tap(a.card.answer)
	require.Equal(t, []string{"+79991234567"}, p.dials())
}

func TestC4_ClickNeedsARegisteredPhone(t *testing.T) {
	a, p := phoneApp(t)
	err := a.Dial(context.Background(), events.DialRequest{Kind: events.KindClickToCall, Number: "+79991234567", CallID: "externalCall.1"})
	require.ErrorIs(t, err, errNoPhone, "the router marks the offline event failed rather than losing it")
	p.reg(sip.RegEvent{State: sip.RegRegistered})
	err = a.Dial(context.Background(), events.DialRequest{Kind: events.KindClickToCall, Number: "+79991234567", CallID: "externalCall.1"})
	require.ErrorContains(t, err, "no route in this test")
	require.Equal(t, []string{"+79991234567"}, p.dials())
	require.Equal(t, []string{""}, p.callerIDs, "no C3 override: the account's caller ID")
}

func TestC3_ClickDialsWithTheOverridingCallerID(t *testing.T) {
	a, p := phoneApp(t)
	p.reg(sip.RegEvent{State: sip.RegRegistered})
	err := a.Dial(context.Background(), events.DialRequest{Kind: events.KindClickToCall, Number: "+79991234567",
		CallID: "externalCall.7", CallerID: "+74951112233"})
	require.ErrorContains(t, err, "no route in this test")
	require.Equal(t, []string{"+74951112233"}, p.callerIDs)
}

func TestMissedCall_NotifiesTheOperator(t *testing.T) {
	a := callApp(t, nil, nil)
	c := &fakeCall{info: sip.Info{ID: "9", Direction: sip.Inbound, Remote: "89991234567", State: sip.CallIncoming, Created: time.Now()}}
	a.onIncoming(c)
	c.set(func(i *sip.Info) { i.State, i.Ended = sip.CallEnded, i.Created.Add(20*time.Second) })
	test.AssertNotificationSent(t, &fyne.Notification{Title: "Missed call", Content: "+7 999 123-45-67"}, func() {
		a.onCallState(sip.CallEvent{State: sip.CallEnded, Cause: sip.CauseCancelled}, c)
	})
	answered := &fakeCall{info: sip.Info{ID: "10", Direction: sip.Inbound, Remote: "89991234567", State: sip.CallActive,
		Created: time.Now(), Answered: time.Now(), Ended: time.Now().Add(time.Minute)}}
	test.AssertNotificationSent(t, nil, func() {
		a.onCallState(sip.CallEvent{State: sip.CallEnded, Cause: sip.CauseRemoteHangup}, answered)
	})
}

// TestMissedCall_AnsweredElsewhereIsNotMissed: a call the operator's other
// device answered (the proxy's CANCEL said so) is neither a missed call —
// no notification, no tray count — nor sent to the sync engine (the device
// that answered reports it); History says where it went. A call cancelled
// by the caller after it is still missed and sent.
func TestMissedCall_AnsweredElsewhereIsNotMissed(t *testing.T) {
	sink := &memSink{}
	a := callApp(t, nil, sink)
	c := &fakeCall{info: sip.Info{ID: "11", Direction: sip.Inbound, Remote: "89991234567", State: sip.CallIncoming, Created: time.Now()}}
	a.onIncoming(c)
	c.set(func(i *sip.Info) { i.State, i.Ended = sip.CallEnded, i.Created.Add(5*time.Second) })
	test.AssertNotificationSent(t, nil, func() {
		a.onCallState(sip.CallEvent{State: sip.CallEnded, Cause: sip.CauseAnsweredElsewhere}, c)
	})
	e, ok := a.history.entry(0)
	require.True(t, ok)
	require.True(t, e.Elsewhere)
	require.Contains(t, historyLine(e), "answered on another device")
	require.Contains(t, historyLine(e), "CRM: not sent — the device that answered reports it")
	require.False(t, a.card.root.Visible(), "the card goes away")

	missed := &fakeCall{info: sip.Info{ID: "12", Direction: sip.Inbound, Remote: "89991234567", State: sip.CallIncoming, Created: time.Now()}}
	a.onIncoming(missed)
	missed.set(func(i *sip.Info) { i.State, i.Ended = sip.CallEnded, i.Created.Add(5*time.Second) })
	test.AssertNotificationSent(t, &fyne.Notification{Title: "Missed call", Content: "+7 999 123-45-67"}, func() {
		a.onCallState(sip.CallEvent{State: sip.CallEnded, Cause: sip.CauseCancelled}, missed)
	})
	eventually(t, func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return len(sink.records) == 1
	}, "the missed call is sent")
	sink.mu.Lock()
	defer sink.mu.Unlock()
	require.Equal(t, "omniphone-12", sink.records[0].ID, "only the missed call reaches the sync engine")
}
