package siptest

import (
	"encoding/binary"
	"math"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/audio"
)

// WriteToneWAV writes a mono 8 kHz 16-bit WAV with a sine of freq Hz.
func WriteToneWAV(t testing.TB, path string, freq float64, dur time.Duration) {
	t.Helper()
	WriteToneWAVAt(t, path, freq, dur, audio.SampleRate, 1)
}

// WriteToneWAVAt writes a 16-bit WAV of rate Hz and channels channels
// (the same sine of freq Hz in each), e.g. 48 kHz stereo for baresip's
// Opus, whose aufile source must match the codec's rate and channels.
func WriteToneWAVAt(t testing.TB, path string, freq float64, dur time.Duration, rate, channels int) {
	t.Helper()
	n := int(dur.Seconds() * float64(rate))
	size := 2 * n * channels
	b := make([]byte, 44+size)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+size))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], uint16(channels))
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(rate*2*channels))
	binary.LittleEndian.PutUint16(b[32:], uint16(2*channels))
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(size))
	for i := range n {
		v := uint16(int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
		for c := range channels {
			binary.LittleEndian.PutUint16(b[44+2*(i*channels+c):], v)
		}
	}
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

// ReadWAV reads a 16-bit PCM WAV, possibly still being written, and
// returns one channel's samples and the sample rate.
func ReadWAV(t testing.TB, path string, channel int) ([]int16, int) {
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

// ToneSeconds counts the 100 ms windows of samples in which freq carries at
// least half of the power and the signal is not silence, in seconds.
func ToneSeconds(samples []int16, freq float64, rate int) float64 {
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
		if audio.Level(w, freq, rate) > 0.5 {
			n++
		}
	}
	return float64(n) / 10
}
