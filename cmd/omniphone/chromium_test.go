package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// clickInChromium opens the portal's page in headless Chromium, picks the
// employee and clicks the phone number, as an operator does, and returns
// the page's message ("…: ONEXTERNALCALLSTART <CALL_ID>").
func clickInChromium(t *testing.T, portalURL, userID, phone string) string {
	t.Helper()
	bin := siptest.RequirePeer(t, "chromium", "chromium")
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(portalURL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#entities`)),
		chromedp.SetValue(chromedp.CSS(`#user`), userID),
		chromedp.Click(chromedp.CSS(`button.phone[value="`+phone+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#msg`)),
	))
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#msg`)))
	require.NoError(t, err)
	return msg
}

// TestIntegration_C4_ChromiumClickDialsTheClient: an operator clicks the
// client's number on the portal's page in real Chromium; the headless
// phone of that operator (102, offline events) dials the client through
// Kamailio; after the client hangs up the simulator shows the click's
// CALL_ID finished — no second registration, one activity, no lead.
func TestIntegration_C4_ChromiumClickDialsTheClient(t *testing.T) {
	k := siptest.StartKamailio(t, map[string]string{"102": "secret102", clientUser: "client"})
	client := siptest.StartBaresip(t, siptest.BaresipOptions{User: clientUser, Password: "client", Proxy: k.Addr(), ToneHz: 440})
	portal := startPortal(t)
	d := startPollingDesktop(t, k, portal, "102")
	before := portal.state(t)

	msg := clickInChromium(t, portal.url, "2", clientNumber)
	require.Contains(t, msg, "ONEXTERNALCALLSTART")
	fields := strings.Fields(msg)
	callID := fields[len(fields)-1]
	require.True(t, strings.HasPrefix(callID, "externalCall."), "the page names the CALL_ID: %q", msg)

	client.WaitCount(t, "CALL_ESTABLISHED", 1, 30*time.Second)
	d.callTo(t, clientUser, func() { client.Command("hangup", "") })
	st := portal.waitFinished(t, callID)
	require.Empty(t, st.Calls, "no call left open")
	require.Len(t, st.Stats, len(before.Stats)+1, "the click's call only: none registered again")
	require.Equal(t, 1, st.activities(callID), "one activity")
	require.Equal(t, before.count("LEAD"), st.count("LEAD"), "no lead: the line does not auto-create, the contact is known")
	d.proc.stop(t)
}
