package sip

// Helpers that start real SIP peers (Kamailio, baresip, SIPp) on 127.0.0.1
// for the TestIntegration… tests. Every process runs from a temp dir in its
// own process group and is killed in t.Cleanup.

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// requirePeer returns the path of a peer binary. Without it the test is
// skipped, or fails when OMNIPHONE_REQUIRE_PEERS=1.
func requirePeer(t testing.TB, bin, debPackage string) string {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err == nil {
		return path
	}
	if os.Getenv("OMNIPHONE_REQUIRE_PEERS") == "1" {
		t.Fatalf("%s not found: install the Debian package %s", bin, debPackage)
	}
	t.Skipf("%s not found (Debian package %s); set OMNIPHONE_REQUIRE_PEERS=1 to make this fatal", bin, debPackage)
	return ""
}

// proc is a peer process started by a test.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// startProc starts bin in dir with its output in dir/<name>.log and stops
// it (SIGTERM, then SIGKILL to its process group) in t.Cleanup.
func startProc(t testing.TB, name, dir, bin string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(t, err)
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Stdin = nil
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start(), "start %s", name)
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("--- %s log (tail) ---\n%s", name, tail(string(b), 4000))
			}
		}
	})
	return p
}

// stop terminates the process and its children; it is idempotent.
func (p *proc) stop(t testing.TB) {
	select {
	case <-p.done:
		return
	default:
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			t.Logf("%s (pid %d) did not exit", p.name, pgid)
		}
	}
	// Children of a foreground Kamailio may outlive the main process briefly.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// testPort returns a port free for UDP and TCP on 127.0.0.1.
func testPort(t testing.TB) int {
	t.Helper()
	port, err := freePort("127.0.0.1")
	require.NoError(t, err)
	return port
}

// kamailio is a running registrar/proxy.
type kamailio struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	proc *proc
}

// Addr is the proxy's host:port.
func (k *kamailio) Addr() string { return "127.0.0.1:" + strconv.Itoa(k.port) }

// startKamailio writes testdata/kamailio.cfg with users (user → password)
// into a temp dir and starts Kamailio on a free port.
func startKamailio(t testing.TB, users map[string]string) *kamailio {
	t.Helper()
	bin := requirePeer(t, "kamailio", "kamailio")
	dir := t.TempDir()
	tmpl, err := os.ReadFile("testdata/kamailio.cfg")
	require.NoError(t, err)
	var seed strings.Builder
	for u, pw := range users {
		fmt.Fprintf(&seed, "\t$sht(users=>%s) = \"%s\";\n", u, pw)
	}
	k := &kamailio{t: t, bin: bin, dir: dir, port: testPort(t)}
	cfg := strings.NewReplacer("__KROOT__", dir, "__KPORT__", strconv.Itoa(k.port), "#USERS#\n", seed.String()).Replace(string(tmpl))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kamailio.cfg"), []byte(cfg), 0o644))
	k.start()
	return k
}

func (k *kamailio) start() {
	k.t.Helper()
	k.proc = startProc(k.t, "kamailio", k.dir, k.bin,
		"-f", filepath.Join(k.dir, "kamailio.cfg"), "-DD", "-E", "-m", "64", "-M", "8", "-Y", k.dir)
	deadline := time.Now().Add(20 * time.Second)
	for !sipPing(k.Addr()) {
		if k.proc.exited() || time.Now().After(deadline) {
			b, _ := os.ReadFile(k.proc.log)
			k.t.Fatalf("kamailio did not start on %s:\n%s", k.Addr(), tail(string(b), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sipPing sends OPTIONS over UDP and reports whether a 200 came back.
func sipPing(addr string) bool {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	la := c.LocalAddr().String()
	msg := "OPTIONS sip:" + addr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + la + ";branch=z9hG4bK" + strconv.FormatInt(time.Now().UnixNano(), 36) + ";rport\r\n" +
		"From: <sip:ping@" + la + ">;tag=p1\r\nTo: <sip:" + addr + ">\r\n" +
		"Call-ID: ping-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	_ = c.SetDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := c.Write([]byte(msg)); err != nil {
		return false
	}
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	return err == nil && strings.HasPrefix(string(buf[:n]), "SIP/2.0 200")
}

// writeToneWAV writes a mono 8 kHz 16-bit WAV with a sine of freq Hz.
func writeToneWAV(t testing.TB, path string, freq float64, dur time.Duration) {
	t.Helper()
	n := int(dur.Seconds() * SampleRate)
	b := make([]byte, 44+2*n)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], SampleRate)
	binary.LittleEndian.PutUint32(b[28:], SampleRate*2)
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*n))
	for i := range n {
		v := int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/SampleRate))
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(v))
	}
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

// readWAV reads a 16-bit PCM WAV and returns one channel's samples and the rate.
func readWAV(t testing.TB, path string, channel int) ([]int16, int) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, len(b) >= 44 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WAVE", "%s is not a WAV file", path)
	var channels, rate, bits int
	off := 12
	for off+8 <= len(b) {
		id := string(b[off : off+4])
		size := int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8:]
		switch id {
		case "fmt ":
			channels = int(binary.LittleEndian.Uint16(body[2:]))
			rate = int(binary.LittleEndian.Uint32(body[4:]))
			bits = int(binary.LittleEndian.Uint16(body[14:]))
		case "data":
			require.Equal(t, 16, bits, "%s: only 16-bit PCM", path)
			if size > len(body) || size == 0 {
				size = len(body) // a file still being written
			}
			frames := size / (2 * channels)
			out := make([]int16, frames)
			for i := range frames {
				out[i] = int16(binary.LittleEndian.Uint16(body[(i*channels+channel)*2:]))
			}
			return out, rate
		}
		off += 8 + size + size%2
	}
	t.Fatalf("%s has no data chunk", path)
	return nil, 0
}

// goertzel returns the power of freq in samples, normalised by the total
// power so a pure tone at freq gives about 1.
func goertzel(samples []int16, freq float64, rate int) float64 {
	if len(samples) == 0 {
		return 0
	}
	k := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2, total float64
	for _, v := range samples {
		x := float64(v)
		total += x * x
		s0 := x + k*s1 - s2
		s2, s1 = s1, s0
	}
	if total == 0 {
		return 0
	}
	p := s1*s1 + s2*s2 - k*s1*s2
	return 2 * p / (total * float64(len(samples)))
}

// toneSeconds counts the 100 ms windows of samples in which freq carries at
// least half of the power and the signal is not silence, in seconds.
func toneSeconds(samples []int16, freq float64, rate int) float64 {
	win := rate / 10
	n := 0
	for i := 0; i+win <= len(samples); i += win {
		w := samples[i : i+win]
		var e float64
		for _, v := range w {
			e += float64(v) * float64(v)
		}
		if math.Sqrt(e/float64(win)) < 300 {
			continue
		}
		if goertzel(w, freq, rate) > 0.5 {
			n++
		}
	}
	return float64(n) / 10
}

// baresip is a running baresip user agent with a ctrl_tcp connection.
type baresip struct {
	t      testing.TB
	dir    string
	user   string
	rec    string
	conn   net.Conn
	proc   *proc
	mu     sync.Mutex
	events []map[string]any
	notify chan struct{}
}

// baresipOpts configures startBaresip.
type baresipOpts struct {
	user, password string
	proxy          string  // host:port of Kamailio
	toneHz         float64 // sent by baresip
	answerMode     string  // "auto" or "manual"
}

// startBaresip registers a baresip account through Kamailio, sending a
// tone from a WAV file and recording every call with the sndfile module.
func startBaresip(t testing.TB, o baresipOpts) *baresip {
	t.Helper()
	bin := requirePeer(t, "baresip", "baresip-core")
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	require.NoError(t, os.MkdirAll(rec, 0o755))
	wav := filepath.Join(dir, "tone.wav")
	writeToneWAV(t, wav, o.toneHz, 120*time.Second)
	sipPort, ctrlPort := testPort(t), testPort(t)
	rtp := testPort(t)
	if rtp > 65000-400 {
		rtp = 40000
	}
	if o.answerMode == "" {
		o.answerMode = "auto"
	}
	config := strings.Join([]string{
		"poll_method\tepoll",
		"sip_listen\t127.0.0.1:" + strconv.Itoa(sipPort),
		"audio_player\taubridge,null-" + o.user,
		"audio_source\taufile," + wav,
		"audio_alert\taubridge,null-" + o.user,
		fmt.Sprintf("rtp_ports\t%d-%d", rtp, rtp+400),
		"call_max_calls\t64",
		"rtcp_mux\tno",
		"jitter_buffer_delay\t1-10",
		"dns_server\t127.0.0.1:53",
		"net_interface\t127.0.0.1",
		"module_path\t/usr/lib/baresip/modules",
		"module\tg711.so",
		"module\taufile.so",
		"module\taubridge.so",
		"module\tsndfile.so",
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
	account := fmt.Sprintf("<sip:%s@%s>;auth_pass=%s;outbound=\"sip:%s\";regint=60;answermode=%s;audio_codecs=PCMU,PCMA\n",
		o.user, o.proxy, o.password, o.proxy, o.answerMode)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "accounts"), []byte(account), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "contacts"), nil, 0o644))

	pr := startProc(t, "baresip-"+o.user, dir, bin, "-f", dir)
	b := &baresip{t: t, dir: dir, user: o.user, rec: rec, notify: make(chan struct{}, 1), proc: pr}
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(ctrlPort))
		if err == nil {
			b.conn = c
			break
		}
		require.True(t, time.Now().Before(deadline), "baresip ctrl_tcp did not open")
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(func() { _ = b.conn.Close() })
	go b.readEvents()
	// Registration usually completes before ctrl_tcp is connected, so the
	// REGISTER_OK event is lost; read the log line instead.
	require.Eventually(t, func() bool {
		log, _ := os.ReadFile(pr.log)
		return strings.Contains(string(log), "200 OK")
	}, 20*time.Second, 100*time.Millisecond, "baresip %s did not register", o.user)
	return b
}

// command sends a ctrl_tcp command (netstring-framed JSON).
func (b *baresip) command(cmd, params string) {
	b.t.Helper()
	msg, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": cmd})
	_, err := fmt.Fprintf(b.conn, "%d:%s,", len(msg), msg)
	require.NoError(b.t, err)
}

func (b *baresip) readEvents() {
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
		b.mu.Unlock()
		select {
		case b.notify <- struct{}{}:
		default:
		}
	}
}

// waitEvent waits for an event matching f that arrived at any time.
func (b *baresip) waitEvent(t testing.TB, timeout time.Duration, f func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.After(timeout)
	for {
		b.mu.Lock()
		for _, ev := range b.events {
			if f(ev) {
				b.mu.Unlock()
				return ev
			}
		}
		b.mu.Unlock()
		select {
		case <-b.notify:
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			b.mu.Lock()
			evs, _ := json.Marshal(b.events)
			b.mu.Unlock()
			t.Fatalf("baresip %s: no matching event in %s; events: %s", b.user, timeout, tail(string(evs), 3000))
			return nil
		}
	}
}

func evType(typ string) func(map[string]any) bool {
	return func(ev map[string]any) bool { return ev["type"] == typ }
}

// decodedRecording returns the newest "-dec.wav" file (audio baresip received).
func (b *baresip) decodedRecording(t testing.TB) string {
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

// ctx returns a test context with a generous timeout.
func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// countLog counts the lines of the process log that contain all of subs.
func (p *proc) countLog(subs ...string) int {
	b, _ := os.ReadFile(p.log)
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		ok := true
		for _, s := range subs {
			if !strings.Contains(line, s) {
				ok = false
				break
			}
		}
		if ok {
			n++
		}
	}
	return n
}
