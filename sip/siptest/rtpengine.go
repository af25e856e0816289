package siptest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"testing"
	"time"
)

// RTPEngine is a running rtpengine media relay (userspace only, no kernel
// module) that bridges WebRTC legs (ICE, DTLS-SRTP, SAVPF) and plain RTP
// legs for Kamailio's rtpengine module.
type RTPEngine struct {
	ngPort int
	// Proc is the running process.
	Proc *Proc
}

// NGAddr is the control (ng protocol) socket's host:port on UDP.
func (r *RTPEngine) NGAddr() string { return "127.0.0.1:" + strconv.Itoa(r.ngPort) }

// StartRTPEngine starts rtpengine on 127.0.0.1 (control and media) and
// stops it in t.Cleanup. It needs the Debian package rtpengine-daemon.
func StartRTPEngine(t testing.TB) *RTPEngine {
	t.Helper()
	bin := RequirePeer(t, "rtpengine", "rtpengine-daemon")
	dir := t.TempDir()
	r := &RTPEngine{ngPort: Port(t)}
	// A window of media ports beside a free one, as for baresip: rtpengine
	// skips a port it cannot bind.
	media := Port(t)
	if media > 65000-200 {
		media = 40000
	}
	r.Proc = StartProc(t, "rtpengine", dir, bin,
		"--config-file=none", "--foreground", "--log-stderr", "--log-level=6",
		"--table=-1", "--interface=127.0.0.1", "--listen-ng="+r.NGAddr(),
		"--port-min="+strconv.Itoa(media), "--port-max="+strconv.Itoa(media+200),
		"--pidfile=none")
	deadline := time.Now().Add(20 * time.Second)
	for !r.Ping() {
		if r.Proc.Exited() || time.Now().After(deadline) {
			b, _ := os.ReadFile(r.Proc.Log)
			t.Fatalf("rtpengine did not answer ng ping on %s:\n%s", r.NGAddr(), Tail(string(b), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return r
}

// Ping sends the ng protocol's ping command and reports whether pong came
// back within 300 ms.
func (r *RTPEngine) Ping() bool {
	c, err := net.Dial("udp", r.NGAddr())
	if err != nil {
		return false
	}
	defer c.Close()
	cookie := "omni" + strconv.FormatInt(time.Now().UnixNano(), 36)
	// ng messages are "<cookie> <bencoded dictionary>".
	if _, err := fmt.Fprintf(c, "%s d7:command4:pinge", cookie); err != nil {
		return false
	}
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	return err == nil && bytes.HasPrefix(buf[:n], []byte(cookie+" ")) && bytes.Contains(buf[:n], []byte("4:pong"))
}
