package app

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/app/apptest"
	"github.com/omniphone/omniphone/calllog"
	crmsync "github.com/omniphone/omniphone/crm/sync"
	"github.com/omniphone/omniphone/settings"
	"github.com/omniphone/omniphone/sip"
)

// answeredCall is a call the operator is talking on, shown by the app.
func answeredCall(a *App, id, remote string) *fakeCall {
	c := &fakeCall{info: sip.Info{ID: id, Direction: sip.Inbound, Remote: remote, State: sip.CallIncoming, Created: time.Now()}}
	a.onIncoming(c)
	c.set(func(i *sip.Info) { i.State, i.Answered = sip.CallActive, time.Now() })
	a.onCallState(sip.CallEvent{State: sip.CallActive}, c)
	return c
}

// switchButtons are the call view's buttons for the other lines.
func switchButtons(v *callView) []*widget.Button {
	var out []*widget.Button
	for _, o := range v.others.Objects {
		out = append(out, o.(*fyne.Container).Objects[1].(*widget.Button))
	}
	return out
}

func TestLines_SecondCallWaitsUnderTheFirstAndSwitchResumesIt(t *testing.T) {
	a := callApp(t, nil, nil)
	first := answeredCall(a, "1", "+79991234567")
	require.Equal(t, first, a.activeCall())

	second := &fakeCall{info: sip.Info{ID: "2", Direction: sip.Inbound, Remote: "+79997654321", State: sip.CallIncoming, Created: time.Now()}}
	a.onIncoming(second)
	require.True(t, a.card.root.Visible(), "the waiting call rings with its card")
	require.Contains(t, labelsIn(a.call.root), "Incoming call: +7 999 765-43-21", "the waiting call is listed under the current one")

	test.Tap(a.card.answer)
	require.Equal(t, []string{"answer"}, second.did())
	require.True(t, a.card.answer.Visible(), "until the phone reports the answer")
	// The phone holds the first call when the second is answered (sip: call waiting).
	first.set(func(i *sip.Info) { i.State = sip.CallHeld })
	second.set(func(i *sip.Info) { i.State, i.Answered = sip.CallActive, time.Now() })
	a.onCallState(sip.CallEvent{State: sip.CallActive}, second)
	require.Equal(t, second, a.activeCall())
	require.False(t, a.card.answer.Visible(), "an answered call has nothing to answer or decline")
	require.False(t, a.card.decline.Visible())
	require.Equal(t, "+7 999 765-43-21", a.call.peer.Text)
	require.Contains(t, labelsIn(a.call.root), "On hold: +7 999 123-45-67")

	buttons := switchButtons(a.call)
	require.Len(t, buttons, 1)
	test.Tap(buttons[0])
	require.Equal(t, first, a.activeCall(), "Switch shows the other line")
	eventually(t, func() bool { return slices.Contains(first.did(), "resume") }, "Switch takes the held line off hold")
}

func TestLines_WhenTheShownCallEndsTheHeldOneStaysOnScreen(t *testing.T) {
	a := callApp(t, nil, nil)
	first := answeredCall(a, "1", "+79991234567")
	first.set(func(i *sip.Info) { i.State = sip.CallHeld })
	second := answeredCall(a, "2", "+79997654321")

	second.set(func(i *sip.Info) { i.State, i.Ended = sip.CallEnded, time.Now() })
	a.onEnded(sip.CallEvent{State: sip.CallEnded, Cause: sip.CauseRemoteHangup}, second)
	eventually(t, func() bool { return a.activeCall() == first }, "the held call becomes the one on screen")
	require.True(t, a.call.root.Visible(), "a call on hold is never hidden")
	require.Equal(t, "On hold", a.call.state.Text)
	require.Empty(t, a.call.others.Objects)

	first.set(func(i *sip.Info) { i.State, i.Ended = sip.CallEnded, time.Now() })
	a.onEnded(sip.CallEvent{State: sip.CallEnded, Cause: sip.CauseLocalHangup}, first)
	eventually(t, func() bool { return !a.call.root.Visible() }, "no line left: the call view goes")
}

func TestLines_DiallingDuringACallHoldsItFirst(t *testing.T) {
	a, p := phoneApp(t)
	p.reg(sip.RegEvent{State: sip.RegRegistered})
	first := answeredCall(a, "1", "+79991234567")
	a.onDial("102")
	eventually(t, func() bool { return slices.Equal(p.dials(), []string{"102"}) }, "the number is dialled")
	require.Equal(t, []string{"hold"}, first.did(), "held before the new call")
}

func TestAttendedTransfer_ConsultHoldsThenDialsTheColleague(t *testing.T) {
	a, p := phoneApp(t)
	p.reg(sip.RegEvent{State: sip.RegRegistered})
	a.opts.DirectoryFor = func(settings.Settings) (Directory, error) { return fakeDirectory{}, nil }
	first := answeredCall(a, "1", "+79991234567")
	eventually(t, func() bool { return len(a.call.colleague.Options) == 2 }, "the picker lists the colleagues with an extension")
	a.call.colleague.SetSelected("Мария Смирнова (102)")
	require.Equal(t, "102", a.call.transfer.Text)

	test.Tap(a.call.consult)
	eventually(t, func() bool { return slices.Equal(p.dials(), []string{"102"}) }, "the colleague is dialled")
	require.Contains(t, first.did(), "hold", "the client waits on hold during the consultation")
}

func TestAttendedTransfer_CompleteJoinsTheHeldCallWithTheConsultCall(t *testing.T) {
	a := callApp(t, nil, nil)
	client := answeredCall(a, "1", "+79991234567")
	client.set(func(i *sip.Info) { i.State = sip.CallHeld })
	require.False(t, a.call.complete.Visible())
	colleague := &fakeCall{info: sip.Info{ID: "2", Direction: sip.Outbound, Remote: "102", State: sip.CallActive, Created: time.Now(), Answered: time.Now()}}
	a.calls.addLine(colleague)
	a.calls.mu.Lock()
	a.calls.consults["2"] = client
	a.calls.mu.Unlock()
	a.onCallState(sip.CallEvent{State: sip.CallActive}, colleague)
	require.True(t, a.call.complete.Visible(), "a consult call offers Complete transfer")

	test.Tap(a.call.complete)
	eventually(t, func() bool { return slices.Contains(client.did(), "attended") }, "the held client is referred to the colleague")
}

// TestLines_Screenshot keeps a picture of a consultation — the colleague on
// screen with Complete transfer, the client waiting on the other line — in
// $OMNIPHONE_ARTIFACTS.
func TestLines_Screenshot(t *testing.T) {
	a := callApp(t, nil, nil)
	fyne.CurrentApp().Settings().SetTheme(theme.DefaultTheme())
	a.win.Resize(fyne.NewSize(420, 720))
	client := answeredCall(a, "1", "+79991234567")
	client.set(func(i *sip.Info) { i.State, i.RemoteName = sip.CallHeld, "Сергей Иванов" })
	colleague := &fakeCall{info: sip.Info{ID: "2", Direction: sip.Outbound, Remote: "102", RemoteName: "Мария Смирнова",
		State: sip.CallActive, Created: time.Now(), Answered: time.Now().Add(-42 * time.Second)}}
	a.calls.addLine(colleague)
	a.calls.mu.Lock()
	a.calls.consults["2"] = client
	a.calls.mu.Unlock()
	a.call.setColleagues([]Employee{{ID: 2, Name: "Мария Смирнова", Extension: "102"}})
	a.onCallState(sip.CallEvent{State: sip.CallActive}, colleague)
	img := a.win.Canvas().Capture()
	colours, spread := apptest.ImageStats(img)
	require.Greater(t, colours, 20)
	require.Greater(t, spread, 0.02)
	apptest.SaveArtifact(t, "call-consult-two-lines.png", img)
}

// fakeRinger records whether the ring sounds.
type fakeRinger struct {
	mu      sync.Mutex
	ringing bool
	rings   int
}

func (r *fakeRinger) Ring() { r.mu.Lock(); r.ringing = true; r.rings++; r.mu.Unlock() }
func (r *fakeRinger) Stop() { r.mu.Lock(); r.ringing = false; r.mu.Unlock() }
func (r *fakeRinger) state() (bool, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ringing, r.rings
}

func TestRing_UntilAnsweredOrGoneAndNotOverACall(t *testing.T) {
	a := callApp(t, nil, nil)
	r := &fakeRinger{}
	a.opts.Ringer = r

	// Rings until answered.
	first := answeredCall(a, "1", "+79991234567")
	on, n := r.state()
	require.False(t, on, "answering stops the ring")
	require.Equal(t, 1, n)

	// A second call while talking: no ring over the conversation.
	waiting := &fakeCall{info: sip.Info{ID: "2", Direction: sip.Inbound, Remote: "+79997654321", State: sip.CallIncoming, Created: time.Now()}}
	a.onIncoming(waiting)
	_, n = r.state()
	require.Equal(t, 1, n)

	// Alone again, a call that the caller gives up on rings, then stops.
	for _, c := range []*fakeCall{waiting, first} {
		c.set(func(i *sip.Info) { i.State, i.Ended = sip.CallEnded, time.Now() })
		a.onEnded(sip.CallEvent{State: sip.CallEnded, Cause: sip.CauseCancelled}, c)
	}
	third := &fakeCall{info: sip.Info{ID: "3", Direction: sip.Inbound, Remote: "+79990000000", State: sip.CallIncoming, Created: time.Now()}}
	eventually(t, func() bool { return a.activeCall() == nil }, "no call on screen")
	a.onIncoming(third)
	on, _ = r.state()
	require.True(t, on)
	third.set(func(i *sip.Info) { i.State, i.Ended = sip.CallEnded, time.Now() })
	a.onEnded(sip.CallEvent{State: sip.CallEnded, Cause: sip.CauseCancelled}, third)
	on, _ = r.state()
	require.False(t, on, "a cancelled call stops ringing")
}

// fakeSound is a sound card with two headsets.
type fakeSound struct {
	mu      sync.Mutex
	in, out string
	fail    error
}

func (s *fakeSound) Devices() ([]string, []string, error) {
	return []string{"Headset mic"}, []string{"Headset", "Speakers"}, nil
}
func (s *fakeSound) Current() (string, string) { s.mu.Lock(); defer s.mu.Unlock(); return s.in, s.out }
func (s *fakeSound) Use(in, out string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.in, s.out = in, out
	return nil
}

func TestSound_SwitchTheCallToAnotherDevice(t *testing.T) {
	a := callApp(t, nil, nil)
	snd := &fakeSound{out: "Speakers"}
	a.opts.Sound = snd
	answeredCall(a, "1", "+79991234567")

	test.Tap(a.call.sound)
	require.Equal(t, "System default", a.soundPick.mic.Selected)
	require.Equal(t, "Speakers", a.soundPick.speaker.Selected, "the picker starts at the devices in use")
	a.soundPick.mic.SetSelected("Headset mic")
	a.soundPick.speaker.SetSelected("Headset")
	a.soundPick.dlg.Confirm()
	eventually(t, func() bool { in, out := snd.Current(); return in == "Headset mic" && out == "Headset" }, "the call moves to the headset")

	test.Tap(a.call.sound)
	a.soundPick.speaker.SetSelected("System default")
	a.soundPick.dlg.Confirm()
	eventually(t, func() bool { _, out := snd.Current(); return out == "" }, "System default is the empty name")
}

func TestCard_CRMNameFollowsTheCallIntoTheCallViewAndHistory(t *testing.T) {
	cards := &gatedCards{release: make(chan struct{}), card: knownCard()}
	close(cards.release)
	a := callApp(t, cards, nil)
	c := &fakeCall{info: sip.Info{ID: "1", Direction: sip.Inbound, Remote: "+79991234567", State: sip.CallIncoming, Created: time.Now()}}
	a.onIncoming(c)
	require.True(t, strings.HasPrefix(a.card.number.Text, "Incoming call · "), "the card says the call is ringing: %q", a.card.number.Text)
	eventually(t, func() bool { return a.card.title.Text == "Сергей Иванов" }, "the CRM answers")

	c.set(func(i *sip.Info) { i.State, i.Answered = sip.CallActive, time.Now() })
	a.onCallState(sip.CallEvent{State: sip.CallActive}, c)
	require.Equal(t, "Сергей Иванов · +7 999 123-45-67", a.call.peer.Text)
	require.Equal(t, "+7 999 123-45-67", a.card.number.Text, "answered: no longer 'Incoming call'")

	c.set(func(i *sip.Info) { i.State, i.Ended = sip.CallEnded, time.Now() })
	a.onEnded(sip.CallEvent{State: sip.CallEnded, Cause: sip.CauseLocalHangup}, c)
	eventually(t, func() bool {
		return strings.Contains(historyLine(a.history.entries[0]), "Сергей Иванов · +7 999 123-45-67")
	}, "History names the client")
}

// TestHistory_CallsAreStillThereAfterARestart: a finished call is written to
// the profile's history file; the next start lists it, asks the sync
// engine for its state, and the trace is still one click away.
func TestHistory_CallsAreStillThereAfterARestart(t *testing.T) {
	dir := t.TempDir()
	s := withAccount()
	first := New(test.NewTempApp(t), Options{Dir: settings.Dir{Path: dir}, Settings: s, History: calllog.OpenHistory(dir, 50),
		Services: Services{Account: s.SIP.Accounts[0], Sink: &memSink{}}})
	c := answeredCall(first, "1", "+79991234567")
	c.set(func(i *sip.Info) { i.State, i.Ended = sip.CallEnded, time.Now() })
	first.onEnded(sip.CallEvent{State: sip.CallEnded, Cause: sip.CauseLocalHangup}, c)
	first.Close()

	again := New(test.NewTempApp(t), Options{Dir: settings.Dir{Path: dir}, Settings: s, History: calllog.OpenHistory(dir, 50)})
	t.Cleanup(again.Close)
	require.Len(t, again.history.entries, 1)
	require.Contains(t, historyLine(again.history.entries[0]), "+7 999 123-45-67 · answered")
	require.Contains(t, historyLine(again.history.entries[0]), "CRM: checking…")
	again.Attach(Services{Account: s.SIP.Accounts[0], Sink: &memSink{}})
	eventually(t, func() bool {
		again.history.mu.Lock()
		defer again.history.mu.Unlock()
		return again.history.entries[0].State == "done" && len(again.history.entries[0].Trace) == 1
	}, "the state and trace come from the sync engine")
}

// retrySink fails every call until it is retried.
type retrySink struct {
	memSink
	mu      sync.Mutex
	retried []string
}

func (r *retrySink) Submit(ctx context.Context, data []byte) (crmsync.CallStatus, bool, error) {
	st, created, err := r.memSink.Submit(ctx, data)
	st.State, st.Reason = "failed", "the portal refused the token: reconnect it in Settings"
	return st, created, err
}

func (r *retrySink) Status(_ context.Context, id string) (*crmsync.CallStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.retried, id) {
		return &crmsync.CallStatus{ID: id, State: "failed", Reason: "the portal refused the token: reconnect it in Settings"}, nil
	}
	return &crmsync.CallStatus{ID: id, State: "done"}, nil
}

func (r *retrySink) Retry(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retried = append(r.retried, id)
	return nil
}

func TestHistory_RetryAFailedCall(t *testing.T) {
	sink := &retrySink{}
	a := callApp(t, nil, sink)
	c := answeredCall(a, "1", "+79991234567")
	c.set(func(i *sip.Info) { i.State, i.Ended = sip.CallEnded, time.Now() })
	a.onEnded(sip.CallEvent{State: sip.CallEnded, Cause: sip.CauseLocalHangup}, c)
	eventually(t, func() bool {
		return strings.Contains(historyLine(a.history.entries[0]), "CRM: failed — the portal refused the token")
	}, "History says why")

	a.history.showTrace(0)
	confirm, ok := a.history.traceDialog.(*dialog.ConfirmDialog)
	require.True(t, ok, "a failed call's trace offers Retry")
	confirm.Confirm()
	eventually(t, func() bool { return strings.HasSuffix(historyLine(a.history.entries[0]), "CRM: synced") }, "retried and synced")
	require.Len(t, sink.retried, 1)

	a.history.showTrace(0)
	_, ok = a.history.traceDialog.(*dialog.ConfirmDialog)
	require.False(t, ok, "a synced call has nothing to retry")
}
