package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24sim"
	"github.com/omniphone/omniphone/settings"
	"github.com/omniphone/omniphone/sip/siptest"
)

// simState is the part of the simulator's /_sim/state this test reads.
type simState struct {
	Calls    []json.RawMessage `json:"calls"`
	Entities []struct {
		Type string `json:"type"`
	} `json:"entities"`
	Stats []struct {
		Call struct {
			CallID string `json:"call_id"`
		} `json:"call"`
		StatusCode string `json:"status_code"`
		Finished   string `json:"finished"`
	} `json:"stats"`
}

func readSim(t *testing.T, url string) simState {
	t.Helper()
	resp, err := http.Get(url + "/_sim/state")
	require.NoError(t, err)
	defer resp.Body.Close()
	var st simState
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st
}

func countType(st simState, typ string) int {
	n := 0
	for _, e := range st.Entities {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// TestIntegration_C4_ClickToCallFinishesTheBitrixCall: a click in the
// portal (the simulator, OAuth, offline events) makes the headless phone
// dial through Kamailio; the number is nobody's, so the call fails; its
// record carries Bitrix24's CALL_ID and the sync engine only finishes that
// call — no second registration, no lead (SPEC C4, D2).
func TestIntegration_C4_ClickToCallFinishesTheBitrixCall(t *testing.T) {
	k := siptest.StartKamailio(t, map[string]string{"102": "secret102"})
	sim, simURL, access, refresh := startOAuthSim(t)
	leadsBefore := countType(readSim(t, simURL), "LEAD")

	bin := omniphoneBinary(t)
	profile := filepath.Join(t.TempDir(), "profile")
	s := settings.Default()
	s.App.Language = settings.LanguageEN
	s.Portals = []settings.Portal{simPortal("main", simURL)}
	s.ClickToCall = settings.ClickToCall{Enabled: true, Number: "+74951234567"}
	s.CallProcessing.CreateForOutgoing = true
	s.Responsibles.DefaultIncoming, s.Responsibles.DefaultOutgoing = 1, 1
	s.SIP.Accounts = []settings.SIPAccount{testAccount("acc1", "102", k.Addr(), "PCMU")}
	require.NoError(t, settings.Dir{Path: profile}.Save(s))

	accessJSON := fmt.Sprintf(`{"access_token":%q,"expires":%q}`, access, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	var appOut syncBuffer
	cmd := exec.Command(bin, "--headless", "--config-dir", profile)
	cmd.Env = append(withoutDisplay(os.Environ()), "LANG=en_US.UTF-8",
		"OMNIPHONE_SECRET_SIP_ACC1_PASSWORD=secret102",
		"OMNIPHONE_SECRET_PORTAL_MAIN_CLIENT_SECRET="+simClientSecret,
		"OMNIPHONE_SECRET_PORTAL_MAIN_ACCESS_TOKEN="+accessJSON,
		"OMNIPHONE_SECRET_PORTAL_MAIN_REFRESH_TOKEN="+refresh)
	cmd.Stdout, cmd.Stderr = &appOut, &appOut
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	logFile := filepath.Join(profile, "logs", "omniphone.log")
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			b, _ := os.ReadFile(logFile)
			t.Logf("--- omniphone output ---\n%s\n--- log ---\n%s", appOut.String(), siptest.Tail(string(b), 6000))
		}
	})
	logHas := func(s string) bool {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), s)
	}
	require.Eventually(t, func() bool { return logHas("click-to-call installed") }, 30*time.Second, 100*time.Millisecond,
		"the desktop installs its bindings and line")

	ev, err := sim.ClickToCall(b24sim.ClickToCallRequest{UserID: 2, Phone: "+7 900 000-00-00"}) // user 2 is extension 102
	require.NoError(t, err)
	callID := ev.CallID
	require.NotEmpty(t, callID)

	require.Eventually(t, func() bool {
		for _, c := range readSim(t, simURL).Stats {
			if c.Call.CallID == callID && c.Finished != "" {
				return true
			}
		}
		return false
	}, 60*time.Second, 200*time.Millisecond, "the sync engine finishes Bitrix24's call %s", callID)
	st := readSim(t, simURL)
	require.Empty(t, st.Calls, "no call is left registered: ours was finished, none registered again")
	require.Equal(t, leadsBefore, countType(st, "LEAD"), "no lead: the line does not auto-create and the engine only finished the call")

	// SPEC §11: the embedded engine answers on loopback like omnisync, with
	// the control token (when port 8095 was free for it).
	if logHas("embedded sync API on loopback") {
		token, err := os.ReadFile(filepath.Join(profile, "control.token"))
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:8095/api/v1/calls", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var listed struct {
			Calls []struct {
				State string `json:"state"`
			} `json:"calls"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&listed))
		require.NoError(t, resp.Body.Close())
		require.Len(t, listed.Calls, 1)
		require.Equal(t, "done", listed.Calls[0].State)
	}

	stopWithSIGTERM(t, cmd, exited)
}
