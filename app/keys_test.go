package app

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip"
)

// TestKeys_AnswerMuteHangupFromTheKeyboard: Ctrl+Shift+A answers the
// ringing call, Ctrl+Shift+M mutes, Ctrl+Shift+H hangs up — also while the
// number field has the focus (Fyne gives shortcuts to the focused widget
// only). With nothing ringing the keys do nothing and say why.
func TestKeys_AnswerMuteHangupFromTheKeyboard(t *testing.T) {
	a := callApp(t, nil, nil)
	_, err := a.AnswerKey()
	require.ErrorIs(t, err, errNothingRings)
	_, err = a.HangupKey()
	require.ErrorIs(t, err, errNoCallUp)

	c := &fakeCall{info: sip.Info{ID: "k1", Direction: sip.Inbound, Remote: "+79991234567", State: sip.CallIncoming, Created: time.Now()}}
	a.onIncoming(c)
	a.win.Canvas().Focus(a.phone.number)
	a.phone.number.TypedShortcut(keyAnswer)
	require.Equal(t, []string{"answer"}, c.did())
	require.Empty(t, a.phone.number.Text, "the key is not typed into the field")

	c.set(func(i *sip.Info) { i.State, i.Answered = sip.CallActive, time.Now() })
	a.onCallState(sip.CallEvent{State: sip.CallActive}, c)
	a.win.Canvas().(fyne.Shortcutable).TypedShortcut(keyMute)
	require.True(t, c.Muted())
	a.phone.number.TypedShortcut(keyHangup)
	require.Equal(t, []string{"answer", "hangup"}, c.did())
}

// TestKeys_HangupKeyDeclinesARingingCall: with no call up, the hang-up key
// (and `omniphone --hangup`) declines the ringing call.
func TestKeys_HangupKeyDeclinesARingingCall(t *testing.T) {
	a := callApp(t, nil, nil)
	c := &fakeCall{info: sip.Info{ID: "k2", Direction: sip.Inbound, Remote: "+79991234567", State: sip.CallIncoming, Created: time.Now()}}
	a.onIncoming(c)
	note, err := a.HangupKey()
	require.NoError(t, err)
	require.Equal(t, "declined", note)
	require.Equal(t, []string{"reject 603"}, c.did())
}
