package audio

import (
	"math"
	"sync"
	"time"
)

// Tone is a call-progress tone: up to two frequencies played in a cadence.
type Tone struct {
	Freqs []float64
	// On and Off make the cadence; Off 0 means continuous.
	On, Off time.Duration
	// Level is the peak amplitude, 0..1; 0 means 0.3.
	Level float64
}

// Standard tones.
var (
	// RingbackRU is the Russian ringback tone: 425 Hz, 1 s on, 4 s off (GOST, ITU-T E.180 Suppl.).
	RingbackRU = Tone{Freqs: []float64{425}, On: time.Second, Off: 4 * time.Second}
	// RingbackUS is the North American ringback: 440 + 480 Hz, 2 s on, 4 s off.
	RingbackUS = Tone{Freqs: []float64{440, 480}, On: 2 * time.Second, Off: 4 * time.Second}
	// BusyRU is the Russian busy tone: 425 Hz, 0.35 s on, 0.35 s off.
	BusyRU = Tone{Freqs: []float64{425}, On: 350 * time.Millisecond, Off: 350 * time.Millisecond}
)

// ToneGenerator produces a Tone's samples at 8 kHz.
type ToneGenerator struct {
	mu    sync.Mutex
	tone  Tone
	n     int // samples produced so far
	on    int
	cycle int
}

// NewToneGenerator returns a generator positioned at the start of the cadence.
func NewToneGenerator(t Tone) *ToneGenerator {
	if t.Level == 0 {
		t.Level = 0.3
	}
	g := &ToneGenerator{tone: t}
	g.on = int(t.On.Seconds() * SampleRate)
	g.cycle = g.on + int(t.Off.Seconds()*SampleRate)
	return g
}

// Fill writes the next len(dst) samples.
func (g *ToneGenerator) Fill(dst []int16) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := range dst {
		dst[i] = g.nextLocked()
	}
}

func (g *ToneGenerator) next() int16 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.nextLocked()
}

func (g *ToneGenerator) nextLocked() int16 {
	n := g.n
	g.n++
	if g.tone.Off > 0 && g.cycle > 0 && n%g.cycle >= g.on {
		return 0
	}
	var v float64
	for _, f := range g.tone.Freqs {
		v += math.Sin(2 * math.Pi * f * float64(n) / SampleRate)
	}
	if k := len(g.tone.Freqs); k > 1 {
		v /= float64(k)
	}
	return int16(v * g.tone.Level * math.MaxInt16)
}

// Level returns how strongly freq is present in samples (Goertzel
// algorithm), relative to their total power: about 1 for a pure tone at freq,
// about 0 when it is absent.
func Level(samples []int16, freq float64, rate int) float64 {
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
	return 2 * (s1*s1 + s2*s2 - k*s1*s2) / (total * float64(len(samples)))
}
