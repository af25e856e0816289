package audio

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// startPulse starts a private PulseAudio server with two null sinks:
// "vsink", whose monitor source loops back what is played to it, and
// "spare", nobody listens to
// (shared/reference/feasibility-fyne.md §6), and points this process's
// PulseAudio clients at it. Without pulseaudio the test is skipped, or fails
// when OMNIPHONE_REQUIRE_PEERS=1.
func startPulse(t *testing.T) {
	t.Helper()
	bin, err := exec.LookPath("pulseaudio")
	if err != nil {
		if os.Getenv("OMNIPHONE_REQUIRE_PEERS") == "1" {
			t.Fatal("pulseaudio not found: install the Debian packages pulseaudio pulseaudio-utils")
		}
		t.Skip("pulseaudio not found (Debian packages pulseaudio pulseaudio-utils); set OMNIPHONE_REQUIRE_PEERS=1 to make this fatal")
	}
	dir, err := os.MkdirTemp("", "pulse")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "native")
	logf, err := os.Create(filepath.Join(dir, "pulse.log"))
	require.NoError(t, err)
	cmd := exec.Command(bin, "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no", "--log-target=stderr",
		"-L", "module-native-protocol-unix auth-anonymous=1 socket="+sock,
		"-L", "module-null-sink sink_name=vsink sink_properties=device.description=vsink rate=48000 channels=1",
		"-L", "module-null-sink sink_name=spare sink_properties=device.description=spare rate=48000 channels=1")
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+dir, "HOME="+dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = logf.Close(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "pulse.log"))
			t.Logf("--- pulseaudio log ---\n%s", b)
		}
	})
	require.Eventually(t, func() bool {
		_, err := os.Stat(sock)
		return err == nil
	}, 15*time.Second, 50*time.Millisecond, "pulseaudio did not open %s", sock)
	t.Setenv("PULSE_SERVER", "unix:"+sock)
	t.Setenv("PULSE_RUNTIME_PATH", dir)
}

// vsinkDevices returns the names of the null sink and of its monitor.
func vsinkDevices(t *testing.T) (sink, monitor string) {
	t.Helper()
	ins, outs, err := Devices(BackendPulseAudio)
	require.NoError(t, err)
	for _, d := range outs {
		if strings.Contains(d.Name, "vsink") {
			sink = d.Name
		}
	}
	for _, d := range ins {
		if strings.Contains(d.Name, "vsink") && strings.Contains(strings.ToLower(d.Name), "monitor") {
			monitor = d.Name
		}
	}
	require.NotEmpty(t, sink, "no vsink among %v", outs)
	require.NotEmpty(t, monitor, "no vsink monitor among %v", ins)
	return sink, monitor
}

// requireToneIn checks the last 1.5 s of samples for freq, in 100 ms
// windows: the capture is read on a 20 ms ticker, so a late read may drop
// or pad a few samples and break one window's phase. An idle null sink may
// deliver nothing for up to about 2 s (feasibility-fyne.md §6), so only the
// tail of the capture is judged.
func requireToneIn(t *testing.T, what string, s []int16, freq float64) {
	t.Helper()
	require.Greater(t, len(s), 15*toneWin, "%s: too little audio", what)
	tail := s[len(s)-15*toneWin:]
	good := toneWindows(tail, freq)
	rms := rmsOf(tail)
	t.Logf("%s: %d samples captured; last 1.5 s RMS %.0f, %d of 15 windows carry %.0f Hz", what, len(s), rms, good, freq)
	require.Greater(t, rms, 1000.0, "%s: the loopback carried silence", what)
	require.GreaterOrEqual(t, good, 10, "%s: %.0f Hz not found", what, freq)
}

// toneWin is requireToneIn's window: 100 ms.
const toneWin = SampleRate / 10

// toneWindows counts the 100 ms windows of s that carry freq.
func toneWindows(s []int16, freq float64) int {
	good := 0
	for i := 0; i+toneWin <= len(s); i += toneWin {
		if Level(s[i:i+toneWin], freq, SampleRate) > 0.8 {
			good++
		}
	}
	return good
}

// captureTone captures at least 3.5 s from r and goes on, up to 8 s,
// until the last 1.5 s carry freq as requireToneIn asks: on a loaded
// machine (make test runs the sip package beside this one) the sink's
// first seconds can be patchy, and waiting for the tone judges the device
// rather than the scheduler.
func captureTone(r interface{ ReadFrame([]int16) }, freq float64) []int16 {
	out := captureFrom(r, 3500*time.Millisecond)
	for deadline := time.Now().Add(4500 * time.Millisecond); time.Now().Before(deadline); {
		if tail := out[max(len(out)-15*toneWin, 0):]; toneWindows(tail, freq) >= 10 {
			break
		}
		out = append(out, captureFrom(r, 500*time.Millisecond)...)
	}
	return out
}

// TestPulseLoopback plays a 1 kHz tone on the null sink through a duplex
// Device and captures it back from the sink's monitor.
func TestPulseLoopback(t *testing.T) {
	startPulse(t)
	sink, monitor := vsinkDevices(t)
	d, err := Open(Config{Backend: BackendPulseAudio, Input: monitor, Output: sink})
	require.NoError(t, err)
	defer func() { require.NoError(t, d.Close()) }()
	d.PlayTone(NewToneGenerator(Tone{Freqs: []float64{1000}, Level: 0.5}))
	requireToneIn(t, "duplex loopback", captureTone(d, 1000), 1000)
}

// TestPulseRinger rings on the null sink chosen by name while the call
// device plays to the default sink; the ring comes back on vsink's monitor.
func TestPulseRinger(t *testing.T) {
	startPulse(t)
	sink, monitor := vsinkDevices(t)
	d, err := Open(Config{Backend: BackendPulseAudio, Input: monitor})
	require.NoError(t, err)
	defer func() { require.NoError(t, d.Close()) }()
	r, err := OpenRinger(RingerConfig{Backend: BackendPulseAudio, Output: sink})
	require.NoError(t, err)
	defer func() { require.NoError(t, r.Close()) }()
	r.Ring(NewToneGenerator(Tone{Freqs: []float64{660}, Level: 0.5}))
	requireToneIn(t, "ringer", captureTone(d, 660), 660)
	r.Stop()
	require.Positive(t, r.Frames())
}

func TestNullBackendRinger(t *testing.T) {
	_, outs, err := Devices(BackendNull)
	require.NoError(t, err)
	r, err := OpenRinger(RingerConfig{Backend: BackendNull, Output: outs[0].Name})
	require.NoError(t, err)
	defer func() { require.NoError(t, r.Close()) }()
	r.Ring(NewToneGenerator(RingTone))
	require.Eventually(t, func() bool { return r.Frames() >= SampleRate/2 }, 10*time.Second, 50*time.Millisecond)
	r.Stop()
	_, err = OpenRinger(RingerConfig{Backend: BackendNull, Output: "no such speaker"})
	require.ErrorIs(t, err, ErrDeviceNotFound)
}

// TestPulseSwitcherMovesTheCallToAnotherSpeaker plays call audio into a
// Switcher on the "spare" sink, then switches its speaker to vsink during
// the "call": the tone arrives on vsink's monitor from then on.
func TestPulseSwitcherMovesTheCallToAnotherSpeaker(t *testing.T) {
	startPulse(t)
	sink, monitor := vsinkDevices(t)
	_, outs, err := Devices(BackendPulseAudio)
	require.NoError(t, err)
	spare := ""
	for _, d := range outs {
		if strings.Contains(d.Name, "spare") {
			spare = d.Name
		}
	}
	require.NotEmpty(t, spare, "no spare sink among %v", outs)

	s, err := OpenSwitcher(Config{Backend: BackendPulseAudio, Input: monitor, Output: spare})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	// The far end speaks 1 kHz for as long as the call lasts.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		g := NewToneGenerator(Tone{Freqs: []float64{1000}, Level: 0.5})
		frame := make([]int16, FrameSamples)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				g.Fill(frame)
				s.WriteFrame(frame)
			}
		}
	}()
	defer func() { close(stop); <-done }()

	before := captureFrom(s, 2500*time.Millisecond)
	require.Less(t, rmsOf(before[len(before)/2:]), 300.0, "played on the spare sink, vsink's monitor hears nothing")

	require.Error(t, s.Use(monitor, "no such speaker"), "an unknown device is refused")
	require.Equal(t, spare, s.Current().Output, "and the call stays where it was")
	require.NoError(t, s.Use(monitor, sink))
	require.Equal(t, sink, s.Current().Output)
	requireToneIn(t, "after the switch", captureTone(s, 1000), 1000)
}

// captureFrom reads frames from r in real time for dur.
func captureFrom(r interface{ ReadFrame([]int16) }, dur time.Duration) []int16 {
	var out []int16
	frame := make([]int16, FrameSamples)
	// Read every frame that is due by the clock, not one per tick: a
	// ticker drops ticks while the test is starved of CPU (make test runs
	// the sip package beside it), the device's capture queue then
	// overflows, and the tone's phase breaks in the windows judged.
	const every = 20 * time.Millisecond
	start, n := time.Now(), 0
	for time.Since(start) < dur {
		for due := int(time.Since(start) / every); n < due; n++ {
			r.ReadFrame(frame)
			out = append(out, frame...)
		}
		time.Sleep(every / 4)
	}
	return out
}

func rmsOf(s []int16) float64 {
	var e float64
	for _, v := range s {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(max(len(s), 1)))
}
