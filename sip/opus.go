package sip

import (
	"errors"
	"fmt"

	"github.com/emiago/diago/audio"
	"github.com/emiago/diago/media"
)

// ErrOpusNotBuiltIn is returned for an account that lists opus when the
// binary was built without libopus (without the with_opus_c build tag).
var ErrOpusNotBuiltIn = errors.New("sip: opus is not built in (this binary was built without libopus; " +
	"build with -tags with_opus_c, as make does, or remove opus from the codecs)")

const (
	opusRate = 48000
	// opusRatio is how many 48 kHz samples stand for one device sample.
	opusRatio = opusRate / SampleRate
	// opusMaxFrame is the longest Opus frame per channel (120 ms at 48 kHz,
	// RFC 6716 §2.1.4): a peer may send any duration up to it.
	opusMaxFrame = opusRate * 120 / 1000
)

// opusCodec is Opus (RFC 7587) over diago's libopus binding, resampled
// between the 8 kHz mono device and the 48 kHz (mono or stereo) codec:
// linear interpolation up, a channel downmix and a 6-sample mean down (a
// low-pass for the 4 kHz band the device carries).
//
// Short reads (diago v0.42.1, feasibility notes §4.3 bug 5): diago's
// PlayFile hands partial bufio reads to the encoder, and libopus rejects a
// partial frame with "opus: invalid argument". We never use PlayFile:
// encode takes exactly one whole device frame and always builds a whole
// 20 ms Opus frame from it, and refuses any other length.
type opusCodec struct {
	enc      audio.OpusEncoder
	dec      audio.OpusDecoder
	channels int
	up       []byte // one 20 ms frame at 48 kHz, interleaved, S16LE
	down     []byte // the longest decoded frame, interleaved, S16LE
	prev     int16  // the last device sample encoded, the start of the next ramp
}

func newOpusCodec(c media.Codec) (*opusCodec, error) {
	if !opusBuiltIn {
		return nil, ErrOpusNotBuiltIn
	}
	if c.SampleRate != opusRate || c.NumChannels < 1 || c.NumChannels > 2 {
		return nil, fmt.Errorf("opus at %d Hz with %d channels is not supported (opus/48000/2 is)", c.SampleRate, c.NumChannels)
	}
	ch := c.NumChannels
	frame := FrameSamples * opusRatio * ch
	o := &opusCodec{channels: ch, up: make([]byte, 2*frame), down: make([]byte, 2*opusMaxFrame*ch)}
	if err := o.enc.Init(opusRate, ch, frame); err != nil {
		return nil, fmt.Errorf("opus encoder: %w", err)
	}
	if err := o.dec.Init(opusRate, ch, opusMaxFrame*ch); err != nil {
		return nil, fmt.Errorf("opus decoder: %w", err)
	}
	return o, nil
}

func (o *opusCodec) encode(dst []byte, frame []int16) (int, error) {
	if len(frame) != FrameSamples {
		return 0, fmt.Errorf("opus: a frame of %d samples, want %d", len(frame), FrameSamples)
	}
	i := 0
	for _, cur := range frame {
		for k := 1; k <= opusRatio; k++ {
			v := uint16(int(o.prev) + (int(cur)-int(o.prev))*k/opusRatio)
			for range o.channels {
				o.up[i], o.up[i+1] = byte(v), byte(v>>8)
				i += 2
			}
		}
		o.prev = cur
	}
	n, err := o.enc.EncodeTo(dst, o.up)
	if err != nil {
		return 0, fmt.Errorf("opus encode: %w", err)
	}
	return n, nil
}

func (o *opusCodec) decode(payload []byte) ([]int16, error) {
	n, err := o.dec.DecodeTo(o.down, payload)
	if err != nil {
		return nil, fmt.Errorf("opus decode: %w", err)
	}
	group := opusRatio * o.channels // interleaved samples per device sample
	out := make([]int16, n/2/group)
	for j := range out {
		sum := 0
		for s := j * group; s < (j+1)*group; s++ {
			sum += int(int16(uint16(o.down[2*s]) | uint16(o.down[2*s+1])<<8))
		}
		out[j] = int16(sum / group)
	}
	return out, nil
}
