package app

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/settings"
	"github.com/omniphone/omniphone/sip"
)

func TestC5_OpenLinkWaitsForTheRegistration(t *testing.T) {
	p := &fakePhone{}
	s := withAccount()
	a := New(test.NewTempApp(t), Options{Dir: settings.Dir{Path: t.TempDir()}, Settings: s})
	a.Attach(Services{Account: s.SIP.Accounts[0], Phone: p})
	t.Cleanup(a.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := a.OpenLink(ctx, "+79991234567")
	require.ErrorIs(t, err, errNoPhone, "not registered before the deadline: the error says why")
	require.Empty(t, p.dialed)

	done := make(chan error, 1)
	go func() { done <- a.OpenLink(context.Background(), "+79991234567") }()
	p.reg(sip.RegEvent{State: sip.RegRegistered})
	select {
	case err := <-done:
		require.ErrorContains(t, err, "no route in this test", "the phone's own error comes back")
	case <-time.After(10 * time.Second):
		t.Fatal("OpenLink did not dial after the registration")
	}
	require.Equal(t, []string{"+79991234567"}, p.dialed)
}
