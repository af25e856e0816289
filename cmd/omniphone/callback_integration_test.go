package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"

	"github.com/omniphone/omniphone/crm/b24sim"
)

// receptionUser is the configured callback number (+7 495 123-45-00 in
// portalSettings) as the ru-7 dial plan writes it.
const receptionUser = "74951234500"

// TestIntegration_CB1_CallbackEndToEnd: the portal's callback form (the
// simulator's trigger, offline events) reaches the headless phone of the
// client's responsible (user 2, extension 102), which accepts it — no
// window, nobody to ask — and dials the client through Kamailio; the
// client (baresip) answers and hangs up; the sync engine registers and
// finishes the call in Bitrix24 with one activity and one lead (CP4, no
// second one from Bitrix24). A callback
// from a number no employee is mapped to calls the configured callback
// number (a second baresip) instead, and not the client.
func TestIntegration_CB1_CallbackEndToEnd(t *testing.T) {
	k := siptest.StartKamailio(t, map[string]string{"102": "secret102", clientUser: "client", receptionUser: "reception"})
	client := siptest.StartBaresip(t, siptest.BaresipOptions{User: clientUser, Password: "client", Proxy: k.Addr(), ToneHz: 440})
	reception := siptest.StartBaresip(t, siptest.BaresipOptions{User: receptionUser, Password: "reception", Proxy: k.Addr(), ToneHz: 440})
	portal := startPortal(t)
	d := startPollingDesktop(t, k, portal, "102")
	before := portal.state(t)

	_, err := portal.sim.Callback(b24sim.CallbackRequest{Phone: "+7 903 555-00-11", Text: "Call me back about the delivery"})
	require.NoError(t, err)
	client.WaitCount(t, "CALL_ESTABLISHED", 1, 30*time.Second)
	ended := d.callTo(t, clientUser, func() { client.Command("hangup", "") })
	require.Equal(t, "remote-hangup", ended.Cause)
	require.Contains(t, d.proc.log(), `msg="callback request accepted without asking (headless)" number=79035550011 employee=102`)

	var callID string
	require.Eventually(t, func() bool {
		for _, c := range portal.state(t).Stats {
			if strings.Contains(c.Call.PhoneRaw, "9035550011") && !c.Finished.IsZero() {
				callID = c.Call.CallID
				return true
			}
		}
		return false
	}, 60*time.Second, 200*time.Millisecond, "the sync engine registers and finishes the callback's call")
	st := portal.state(t)
	require.Empty(t, st.Calls, "no call left open")
	require.Len(t, st.Stats, len(before.Stats)+1, "one call in Bitrix24")
	require.Equal(t, 1, st.activities(callID), "one activity")
	require.Equal(t, before.count("LEAD")+1, st.count("LEAD"),
		"one lead: CP4 makes one for a contact without open leads; Bitrix24 makes none of its own (D2)")

	_, err = portal.sim.Callback(b24sim.CallbackRequest{Phone: "+7 999 000-00-01"})
	require.NoError(t, err)
	reception.WaitCount(t, "CALL_ESTABLISHED", 1, 30*time.Second)
	d.callTo(t, receptionUser, func() { reception.Command("hangup", "") })
	require.Contains(t, d.proc.log(), `msg="callback request accepted without asking (headless)" number=+74951234500 employee=""`)
	require.Equal(t, 1, client.Count("CALL_ESTABLISHED"), "the unmapped callback did not call the client")
	d.proc.stop(t)
}
