package siptest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Baresip is a running baresip user agent driven over ctrl_tcp.
type Baresip struct {
	t    testing.TB
	user string
	rec  string
	conn net.Conn
	// Proc is the running process.
	Proc   *Proc
	mu     sync.Mutex
	events []map[string]any
	at     []time.Time // when each event arrived
	notify chan struct{}
}

// BaresipOptions configure StartBaresip.
type BaresipOptions struct {
	User, Password string
	Proxy          string  // host:port of Kamailio
	ToneHz         float64 // the tone baresip sends
	AnswerMode     string  // "auto" (default) or "manual"
	// MediaEnc is baresip's media encryption, e.g. "srtp-mand" (SDES,
	// RTP/SAVP only); empty is plain RTP.
	MediaEnc string
	// Codecs is baresip's audio_codecs, in its order of preference; empty
	// means PCMU, PCMA. Opus must be spelled "opus/48000/2" (baresip 1.0
	// looks plain "opus" up as opus/8000/1 and fails); it loads opus.so.
	Codecs []string
	// OpusTone writes the tone as 48 kHz stereo, for a call that will use
	// Opus: baresip's aufile does not resample, and a source whose format
	// is not the codec's fails the call ("must have sample-rate 8000 Hz").
	OpusTone bool
}

// StartBaresip registers a baresip account through Kamailio, sending a
// tone from a WAV file and recording every call with the sndfile module.
func StartBaresip(t testing.TB, o BaresipOptions) *Baresip {
	t.Helper()
	bin := RequirePeer(t, "baresip", "baresip-core")
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	require.NoError(t, os.MkdirAll(rec, 0o755))
	wav := filepath.Join(dir, "tone.wav")
	if o.OpusTone {
		WriteToneWAVAt(t, wav, o.ToneHz, 60*time.Second, 48000, 2)
	} else {
		WriteToneWAV(t, wav, o.ToneHz, 120*time.Second)
	}
	var (
		b  *Baresip
		pr *Proc
	)
	// The ports are free when chosen, but another process may take one
	// before baresip binds it; then baresip exits and we choose again.
	for attempt := 1; ; attempt++ {
		sipPort, ctrlPort := PortPair(t), Port(t)
		writeBaresipConfig(t, dir, o, wav, rec, sipPort, ctrlPort)
		pr = StartProc(t, "baresip-"+o.User, dir, bin, "-f", dir)
		b = &Baresip{t: t, user: o.User, rec: rec, notify: make(chan struct{}, 1), Proc: pr}
		b.conn = dialCtrl(pr, ctrlPort, 15*time.Second)
		if b.conn != nil {
			break
		}
		log, _ := os.ReadFile(pr.Log)
		pr.Stop(t)
		require.True(t, attempt < 3 && strings.Contains(string(log), "Address already in use"),
			"baresip ctrl_tcp did not open")
		t.Logf("baresip %s: a port was taken before it bound it; retrying", o.User)
	}
	t.Cleanup(func() { _ = b.conn.Close() })
	go b.readEvents()
	// Registration usually completes before ctrl_tcp is connected, so the
	// REGISTER_OK event is lost; read the log line instead.
	require.Eventually(t, func() bool {
		log, _ := os.ReadFile(pr.Log)
		return strings.Contains(string(log), "200 OK")
	}, 20*time.Second, 100*time.Millisecond, "baresip %s did not register", o.User)
	return b
}

// writeBaresipConfig writes baresip's config, accounts and contacts files.
func writeBaresipConfig(t testing.TB, dir string, o BaresipOptions, wav, rec string, sipPort, ctrlPort int) {
	t.Helper()
	rtp := Port(t)
	if rtp > 65000-400 {
		rtp = 40000
	}
	if o.AnswerMode == "" {
		o.AnswerMode = "auto"
	}
	if len(o.Codecs) == 0 {
		o.Codecs = []string{"PCMU", "PCMA"}
	}
	modules := []string{"g711.so"}
	if slices.ContainsFunc(o.Codecs, func(c string) bool { return strings.HasPrefix(strings.ToLower(c), "opus") }) {
		modules = append(modules, "opus.so")
	}
	config := strings.Join([]string{
		"poll_method\tepoll",
		"sip_listen\t127.0.0.1:" + strconv.Itoa(sipPort),
		"audio_player\taubridge,null-" + o.User,
		"audio_source\taufile," + wav,
		"audio_alert\taubridge,null-" + o.User,
		fmt.Sprintf("rtp_ports\t%d-%d", rtp, rtp+400),
		"call_max_calls\t64",
		"rtcp_mux\tno",
		"jitter_buffer_delay\t1-10",
		"dns_server\t127.0.0.1:53",
		"net_interface\t127.0.0.1",
		"module_path\t/usr/lib/baresip/modules",
		"module\t" + strings.Join(modules, "\nmodule\t"),
		"module\taufile.so",
		"module\taubridge.so",
		"module\tsndfile.so",
		"module\tsrtp.so",
		"module_tmp\tuuid.so",
		"module_tmp\taccount.so",
		"module_app\tcontact.so",
		"module_app\tmenu.so",
		"module_app\tctrl_tcp.so",
		"ctrl_tcp_listen\t127.0.0.1:" + strconv.Itoa(ctrlPort),
		"snd_path\t" + rec,
		"",
	}, "\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o644))
	account := fmt.Sprintf("<sip:%s@%s>;auth_pass=%s;outbound=\"sip:%s\";regint=60;answermode=%s;audio_codecs=%s",
		o.User, o.Proxy, o.Password, o.Proxy, o.AnswerMode, strings.Join(o.Codecs, ","))
	if o.MediaEnc != "" {
		account += ";mediaenc=" + o.MediaEnc
	}
	account += "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "accounts"), []byte(account), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "contacts"), nil, 0o644))
}

// dialCtrl connects to baresip's ctrl_tcp; nil when the process exits or
// the port does not open within timeout.
func dialCtrl(pr *Proc, port int, timeout time.Duration) net.Conn {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && !pr.Exited() {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			return c
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// Command sends a ctrl_tcp command (netstring-framed JSON), e.g.
// Command("dial", "sip:101@127.0.0.1:5060") or Command("hangup", "").
func (b *Baresip) Command(cmd, params string) {
	b.t.Helper()
	msg, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": cmd})
	_, err := fmt.Fprintf(b.conn, "%d:%s,", len(msg), msg)
	require.NoError(b.t, err)
}

func (b *Baresip) readEvents() {
	r := bufio.NewReader(b.conn)
	for {
		lenStr, err := r.ReadString(':')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(lenStr, ":")))
		if err != nil {
			return
		}
		body := make([]byte, n+1)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		var ev map[string]any
		if json.Unmarshal(body[:n], &ev) != nil {
			continue
		}
		b.mu.Lock()
		b.events = append(b.events, ev)
		b.at = append(b.at, time.Now())
		b.mu.Unlock()
		select {
		case b.notify <- struct{}{}:
		default:
		}
	}
}

// WaitEvent waits for a ctrl_tcp event matching f that arrived at any time.
func (b *Baresip) WaitEvent(t testing.TB, timeout time.Duration, f func(map[string]any) bool) map[string]any {
	t.Helper()
	var found map[string]any
	b.wait(t, timeout, "a matching event", func() bool {
		for _, ev := range b.events {
			if f(ev) {
				found = ev
				return true
			}
		}
		return false
	})
	return found
}

// wait calls cond (under the events lock) whenever an event arrives, until
// it is true; after timeout the test fails, listing the events.
func (b *Baresip) wait(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		b.mu.Lock()
		ok := cond()
		b.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-b.notify:
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			b.mu.Lock()
			evs, _ := json.Marshal(b.events)
			b.mu.Unlock()
			t.Fatalf("baresip %s: no %s within %s; events: %s", b.user, what, timeout, Tail(string(evs), 3000))
		}
	}
}

// EvType matches events of one type, e.g. "CALL_ESTABLISHED".
func EvType(typ string) func(map[string]any) bool {
	return func(ev map[string]any) bool { return ev["type"] == typ }
}

// DecodedRecording returns the newest "-dec.wav" file: the audio baresip
// received.
func (b *Baresip) DecodedRecording(t testing.TB) string {
	t.Helper()
	var path string
	require.Eventually(t, func() bool {
		m, _ := filepath.Glob(filepath.Join(b.rec, "*-dec.wav"))
		if len(m) == 0 {
			return false
		}
		path = m[len(m)-1]
		return true
	}, 10*time.Second, 100*time.Millisecond, "baresip wrote no recording")
	return path
}
