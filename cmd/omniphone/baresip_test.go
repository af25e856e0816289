package main

// A minimal baresip — the client the end-to-end tests call — after the
// sip package's test helpers (sip/peers_test.go): registered through
// Kamailio, answering automatically, driven and watched over ctrl_tcp.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// baresip is a running baresip user agent.
type baresip struct {
	user   string
	conn   net.Conn
	mu     sync.Mutex
	events []map[string]any
	at     []time.Time // when each event arrived
	notify chan struct{}
}

// startBaresip registers user on Kamailio, answers every call and sends a
// sine tone; it is stopped in t.Cleanup.
func startBaresip(t testing.TB, k *siptest.Kamailio, user, password string) *baresip {
	t.Helper()
	bin := siptest.RequirePeer(t, "baresip", "baresip-core")
	dir := t.TempDir()
	sipPort, ctrlPort, rtp := siptest.Port(t), freeTCPPort(t), siptest.Port(t)
	if rtp > 65000-200 {
		rtp = 40000
	}
	config := strings.Join([]string{
		"poll_method\tepoll",
		"sip_listen\t127.0.0.1:" + strconv.Itoa(sipPort),
		"audio_player\taubridge,null-" + user,
		"audio_source\tausine,440",
		"ausrc_srate\t48000",
		"ausrc_channels\t2",
		"audio_alert\taubridge,null-" + user,
		fmt.Sprintf("rtp_ports\t%d-%d", rtp, rtp+200),
		"call_max_calls\t8",
		"dns_server\t127.0.0.1:53",
		"net_interface\t127.0.0.1",
		"module_path\t/usr/lib/baresip/modules",
		"module\tg711.so",
		"module\tausine.so",
		"module\taubridge.so",
		"module_tmp\tuuid.so",
		"module_tmp\taccount.so",
		"module_app\tmenu.so",
		"module_app\tctrl_tcp.so",
		"ctrl_tcp_listen\t127.0.0.1:" + strconv.Itoa(ctrlPort),
		"",
	}, "\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o644))
	account := fmt.Sprintf("<sip:%s@%s>;auth_pass=%s;outbound=\"sip:%s\";regint=60;answermode=auto;audio_codecs=PCMU,PCMA\n",
		user, k.Addr(), password, k.Addr())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "accounts"), []byte(account), 0o644))

	logPath := siptest.StartProc(t, "baresip-"+user, dir, bin, "-f", dir).Log

	b := &baresip{user: user, notify: make(chan struct{}, 1)}
	var err error
	require.Eventually(t, func() bool {
		b.conn, err = net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(ctrlPort))
		return err == nil
	}, 15*time.Second, 100*time.Millisecond, "baresip ctrl_tcp opens")
	t.Cleanup(func() { _ = b.conn.Close() })
	go b.readEvents()
	// REGISTER_OK usually comes before ctrl_tcp is connected: read the log.
	require.Eventually(t, func() bool {
		log, _ := os.ReadFile(logPath)
		return strings.Contains(string(log), "200 OK")
	}, 20*time.Second, 100*time.Millisecond, "baresip %s registers", user)
	return b
}

// command sends a ctrl_tcp command (netstring-framed JSON).
func (b *baresip) command(t testing.TB, cmd, params string) {
	t.Helper()
	msg, err := json.Marshal(map[string]string{"command": cmd, "params": params, "token": cmd})
	require.NoError(t, err)
	_, err = fmt.Fprintf(b.conn, "%d:%s,", len(msg), msg)
	require.NoError(t, err)
}

func (b *baresip) readEvents() {
	r := bufio.NewReader(b.conn)
	for {
		n, err := r.ReadString(':')
		if err != nil {
			return
		}
		size, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(n), ":"))
		if err != nil {
			return
		}
		body := make([]byte, size+1) // with the trailing ','
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		var ev map[string]any
		if json.Unmarshal(body[:size], &ev) != nil || ev["event"] != true {
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

// count is how many events of type typ arrived so far.
func (b *baresip) count(typ string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, ev := range b.events {
		if ev["type"] == typ {
			n++
		}
	}
	return n
}

// calls counts the calls baresip has seen (distinct call ids).
func (b *baresip) calls() int {
	n, _ := b.callArrival(0)
	return n
}

// callArrival is how many calls baresip has seen and when the first event
// of the n-th (from 1) arrived: with auto-answer that is the INVITE's
// offer (CALL_REMOTE_SDP).
func (b *baresip) callArrival(n int) (int, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	seen := map[any]bool{}
	var at time.Time
	for i, ev := range b.events {
		if id := ev["id"]; id != nil && !seen[id] {
			seen[id] = true
			if len(seen) == n {
				at = b.at[i]
			}
		}
	}
	return len(seen), at
}

// waitCount waits until n events of type typ arrived.
func (b *baresip) waitCount(t testing.TB, typ string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for b.count(typ) < n {
		select {
		case <-b.notify:
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			b.mu.Lock()
			evs, _ := json.Marshal(b.events)
			b.mu.Unlock()
			t.Fatalf("baresip %s: %d %s events wanted within %s; events: %s", b.user, n, typ, timeout, siptest.Tail(string(evs), 3000))
		}
	}
}
