package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/control"
	"github.com/omniphone/omniphone/settings"
	"github.com/omniphone/omniphone/sip/siptest"
)

func TestHeadless_RefusesANonLoopbackControlAddress(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8089", ":8089", "192.0.2.1:8089"} {
		_, errOut, code := runCLI(t, "--config-dir", t.TempDir(), "--headless", "--control", addr)
		require.Equal(t, 2, code, addr)
		require.Contains(t, errOut, "loopback address only", addr)
	}
	_, errOut, code := runCLI(t, "--config-dir", t.TempDir(), "--control", "127.0.0.1:8089")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--control needs --headless")
}

func TestHeadless_NeedsAnAccount(t *testing.T) {
	t.Setenv("DISPLAY", "")
	_, errOut, code := runCLI(t, "--config-dir", t.TempDir(), "--headless")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no default SIP account")
}

// TestIntegration_HeadlessControlAPI builds the binary, runs it with
// --headless --control and no display against a Kamailio started here,
// waits for the registration through the API, dials a number nobody has
// (404) and sees the call end in /v1/calls and /v1/events; then SIGTERM
// stops it cleanly.
func TestIntegration_HeadlessControlAPI(t *testing.T) {
	k := siptest.StartKamailio(t, map[string]string{"101": "secret101"})
	bin := omniphoneBinary(t)
	profile := filepath.Join(t.TempDir(), "profile")
	s := settings.Default()
	s.App.Language = settings.LanguageEN
	s.SIP.Accounts = []settings.SIPAccount{testAccount("acc1", "101", k.Addr(), "PCMU", "PCMA")}
	// A portal nobody answers on: the sync engine queues the record and
	// retries later, which is all this test looks at.
	s.Portals = []settings.Portal{{ID: "p", Name: "P", Domain: "http://127.0.0.1:" + strconv.Itoa(freeTCPPort(t)), Main: true,
		Auth: settings.Auth{Kind: settings.AuthWebhook, WebhookUserID: 1}}}
	s.Responsibles.DefaultIncoming, s.Responsibles.DefaultOutgoing = 1, 1
	require.NoError(t, settings.Dir{Path: profile}.Save(s))

	addr := "127.0.0.1:" + strconv.Itoa(freeTCPPort(t))
	var appOut syncBuffer
	cmd := exec.Command(bin, "--headless", "--config-dir", profile, "--control", addr)
	cmd.Env = append(withoutDisplay(os.Environ()), "LANG=en_US.UTF-8", "OMNIPHONE_SECRET_SIP_ACC1_PASSWORD=secret101")
	cmd.Stdout, cmd.Stderr = &appOut, &appOut
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("--- omniphone output ---\n%s", appOut.String())
			if b, err := os.ReadFile(filepath.Join(profile, "logs", "omniphone.log")); err == nil {
				t.Logf("--- omniphone log ---\n%s", siptest.Tail(string(b), 6000))
			}
		}
	})

	base := "http://" + addr
	var token string
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(filepath.Join(profile, control.TokenFile))
		token = strings.TrimSpace(string(b))
		return err == nil && len(token) == 64
	}, 10*time.Second, 50*time.Millisecond, "control.token is created")
	info, err := os.Stat(filepath.Join(profile, control.TokenFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	api := func(method, path, body string) (int, []byte) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		return resp.StatusCode, buf.Bytes()
	}

	var st control.Status
	require.Eventually(t, func() bool {
		select {
		case err := <-exited:
			t.Fatalf("omniphone exited: %v", err)
		default:
		}
		code, body := api("GET", "/v1/status", "")
		return code == http.StatusOK && json.Unmarshal(body, &st) == nil && st.Registration == "registered"
	}, 20*time.Second, 100*time.Millisecond, "the phone registers")
	require.Equal(t, "101@"+k.Addr(), st.Account)

	req, err := http.NewRequest("GET", base+"/v1/events", nil)
	require.NoError(t, err)
	unauth, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, unauth.Body.Close())
	require.Equal(t, http.StatusUnauthorized, unauth.StatusCode)
	req.Header.Set("Authorization", "Bearer "+token)
	stream, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer stream.Body.Close()
	events := sseEvents(stream)
	first := nextEvent(t, events)
	require.Equal(t, "status", first.Type)

	code, body := api("POST", "/v1/calls", `{"to": "999"}`)
	require.Equal(t, http.StatusCreated, code, "%s", body)
	var call control.CallView
	require.NoError(t, json.Unmarshal(body, &call))
	require.NotEmpty(t, call.ID)
	require.Equal(t, "outbound", call.Direction)
	require.Equal(t, "999", call.Remote)

	var ended *control.CallView
	for ended == nil {
		ev := nextEvent(t, events)
		if ev.Type == "call" && ev.Call.ID == call.ID && ev.Call.State == "ended" {
			ended = ev.Call
		}
	}
	require.Equal(t, 404, ended.SIPCode, "nobody is registered as 999")
	require.NotNil(t, ended.Ended)

	code, body = api("GET", "/v1/calls", "")
	require.Equal(t, http.StatusOK, code)
	var calls []control.CallView
	require.NoError(t, json.Unmarshal(body, &calls))
	require.Empty(t, calls, "the ended call is no longer current")
	code, _ = api("POST", "/v1/calls/"+call.ID+"/hangup", "")
	require.Equal(t, http.StatusNotFound, code)

	stopWithSIGTERM(t, cmd, exited)
	logText, err := os.ReadFile(filepath.Join(profile, "logs", "omniphone.log"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(logText), "\n") {
		if strings.Contains(line, "omniphone-"+call.ID) {
			t.Logf("log: %s", line)
		}
	}
	require.Regexp(t, `msg="call handed to the sync engine" call=omniphone-`+call.ID+` state=queued`, string(logText),
		"the call's record went to the sync engine")
	require.NotContains(t, string(logText), token, "the token is never logged")
	require.NotContains(t, appOut.String(), token)
	require.Contains(t, string(logText), `msg="omniphone stopped"`)
}

// syncBuffer is a bytes.Buffer safe for a process's output and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func withoutDisplay(env []string) []string {
	out := env[:0:0]
	for _, e := range env {
		if !strings.HasPrefix(e, "DISPLAY=") && !strings.HasPrefix(e, "WAYLAND_DISPLAY=") {
			out = append(out, e)
		}
	}
	return out
}

func freeTCPPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// sseEvents parses a text/event-stream into events until it ends.
func sseEvents(resp *http.Response) <-chan control.Event {
	ch := make(chan control.Event, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ev control.Event
			if json.Unmarshal([]byte(data), &ev) == nil {
				ch <- ev
			}
		}
	}()
	return ch
}

func nextEvent(t testing.TB, ch <-chan control.Event) control.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		require.True(t, ok, "the event stream ended")
		return ev
	case <-time.After(15 * time.Second):
		t.Fatal("no event within 15 s")
		return control.Event{}
	}
}
