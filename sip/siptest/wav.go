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
	const rate = audio.SampleRate
	n := int(dur.Seconds() * rate)
	b := make([]byte, 44+2*n)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], rate)
	binary.LittleEndian.PutUint32(b[28:], rate*2)
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*n))
	for i := range n {
		v := int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/rate))
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(v))
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
