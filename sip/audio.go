package sip

// Audio frames exchanged with an [AudioDevice]: 20 ms of 8 kHz mono signed
// 16-bit PCM.
const (
	SampleRate   = 8000
	FrameSamples = SampleRate / 50
)

// AudioDevice is the sound card as the phone sees it. Package sip/audio
// implements it over miniaudio; tests use in-memory fakes.
//
// Both methods are called every 20 ms from a call's media goroutine and must
// not block: ReadFrame returns silence when no captured audio is buffered,
// WriteFrame drops audio when the playback buffer is full.
type AudioDevice interface {
	// ReadFrame fills dst (FrameSamples long) with captured samples.
	ReadFrame(dst []int16)
	// WriteFrame queues src (FrameSamples long) for playback.
	WriteFrame(src []int16)
}

// silentDevice is used when no AudioDevice is configured.
type silentDevice struct{}

func (silentDevice) ReadFrame(dst []int16) { clear(dst) }
func (silentDevice) WriteFrame([]int16)    {}
