package audio

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestToneGenerator(t *testing.T) {
	tests := []struct {
		name     string
		tone     Tone
		freq     float64
		wantOn   bool // first second carries the tone
		wantGap  bool // second 2 is silent
		otherHz  float64
		minLevel float64
	}{
		{"RingbackRU", RingbackRU, 425, true, true, 1000, 0.9},
		{"RingbackUS", RingbackUS, 440, true, false, 1000, 0.4},
		{"Continuous", Tone{Freqs: []float64{1000}}, 1000, true, false, 425, 0.9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewToneGenerator(tt.tone)
			s := make([]int16, 3*SampleRate)
			g.Fill(s)
			first := s[:SampleRate/2]
			require.Greater(t, Level(first, tt.freq, SampleRate), tt.minLevel)
			require.Less(t, Level(first, tt.otherHz, SampleRate), 0.05)
			if tt.wantGap {
				gap := s[2*SampleRate : 3*SampleRate]
				for _, v := range gap {
					require.Zero(t, v)
				}
			}
		})
	}
}

func TestRing(t *testing.T) {
	r := newRing(3)
	for _, v := range []int16{1, 2, 3, 4} {
		r.push(v)
	}
	var got []int16
	for {
		v, ok := r.pop()
		if !ok {
			break
		}
		got = append(got, v)
	}
	require.Equal(t, []int16{2, 3, 4}, got) // the oldest was overwritten
}

func TestNullBackendDevices(t *testing.T) {
	in, out, err := Devices(BackendNull)
	require.NoError(t, err)
	require.NotEmpty(t, in)
	require.NotEmpty(t, out)
}

func TestNullBackendDuplex(t *testing.T) {
	_, outs, err := Devices(BackendNull)
	require.NoError(t, err)
	d, err := Open(Config{Backend: BackendNull, Output: outs[0].Name})
	require.NoError(t, err)
	defer func() { require.NoError(t, d.Close()) }()

	frame := make([]int16, FrameSamples)
	g := NewToneGenerator(Tone{Freqs: []float64{440}})
	for range 10 {
		g.Fill(frame)
		d.WriteFrame(frame)
	}
	d.PlayTone(NewToneGenerator(RingbackRU))
	// The null backend runs in real time: about 8000 frames a second.
	require.Eventually(t, func() bool { return d.Frames() >= SampleRate/2 }, 10*time.Second, 50*time.Millisecond)
	d.ReadFrame(frame) // null capture is silence
	for _, v := range frame {
		require.Zero(t, v)
	}
}

func TestOpenUnknownDevice(t *testing.T) {
	_, err := Open(Config{Backend: BackendNull, Input: "no such microphone"})
	require.ErrorIs(t, err, ErrDeviceNotFound)
}

func TestBackendString(t *testing.T) {
	require.Equal(t, "null", BackendNull.String())
	require.Equal(t, "Backend(9)", Backend(9).String())
}

// TestSwitcher_OpenOnlyWhileFramesFlow: the null device opens with the
// first frame and closes once frames stop, so an idle phone holds no stream.
func TestSwitcher_OpenOnlyWhileFramesFlow(t *testing.T) {
	s, err := OpenSwitcher(Config{Backend: BackendNull})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	require.False(t, s.IsOpen(), "idle after start")

	frame := make([]int16, FrameSamples)
	for i := range frame {
		frame[i] = 1234
	}
	s.ReadFrame(frame)
	require.Equal(t, make([]int16, FrameSamples), frame, "silence until the card is open")
	require.Eventually(t, func() bool { s.WriteFrame(frame); return s.IsOpen() }, 5*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { s.ReadFrame(frame); return s.Frames() > 0 }, 5*time.Second, 20*time.Millisecond, "the card runs")

	require.Eventually(t, func() bool { return !s.IsOpen() }, 4*idleClose, 50*time.Millisecond, "closed when frames stop")

	// The idle watch sleeps while the card is closed; a second call, and a
	// device switch with no call, wake it again.
	require.Eventually(t, func() bool { s.WriteFrame(frame); return s.IsOpen() }, 5*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return !s.IsOpen() }, 4*idleClose, 50*time.Millisecond, "closed after the second call")
	require.NoError(t, s.Use("", ""))
	require.True(t, s.IsOpen(), "Use opens the new devices")
	require.Eventually(t, func() bool { return !s.IsOpen() }, 4*idleClose, 50*time.Millisecond, "a switch with no call closes when idle")

	require.Error(t, s.Use("no such microphone", ""), "an unknown device is refused")
	require.Empty(t, s.Current().Input)
}
