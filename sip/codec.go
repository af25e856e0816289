package sip

import (
	"fmt"
	"slices"
	"strings"

	"github.com/emiago/diago/audio"
	"github.com/emiago/diago/media"
)

// frameCodec turns one device frame (20 ms of 8 kHz mono, [FrameSamples])
// into an RTP payload and a received payload back into device samples.
// One codec belongs to one call: encode is called only from the send
// goroutine, decode only from the receive goroutine.
type frameCodec interface {
	// encode writes the payload for frame into dst and returns its length.
	encode(dst []byte, frame []int16) (int, error)
	// decode returns the device-rate samples carried by payload.
	decode(payload []byte) ([]int16, error)
}

// maxPayload bounds one encoded 20 ms frame (G.711: 160 bytes; Opus: at
// most 1275 bytes per frame, RFC 6716 §3.2.1).
const maxPayload = 1500

// newFrameCodec returns the coder for the negotiated audio codec.
func newFrameCodec(c media.Codec) (frameCodec, error) {
	switch {
	case strings.EqualFold(c.Name, CodecPCMU):
		return &g711Codec{}, nil
	case strings.EqualFold(c.Name, CodecPCMA):
		return &g711Codec{alaw: true}, nil
	case strings.EqualFold(c.Name, CodecOpus):
		return newOpusCodec(c)
	}
	return nil, fmt.Errorf("negotiated codec %s is not supported", c.Name)
}

// g711Codec is PCMU or PCMA: 8 kHz mono like the device, no resampling.
type g711Codec struct {
	alaw bool
	raw  [FrameSamples * 2]byte
	pcm  [maxPayload * 2]byte
}

func (g *g711Codec) encode(dst []byte, frame []int16) (int, error) {
	samplesToBytes(g.raw[:], frame)
	if g.alaw {
		return audio.EncodeAlawTo(dst, g.raw[:2*len(frame)])
	}
	return audio.EncodeUlawTo(dst, g.raw[:2*len(frame)])
}

func (g *g711Codec) decode(payload []byte) ([]int16, error) {
	if len(payload) > maxPayload {
		return nil, fmt.Errorf("G.711 payload of %d bytes", len(payload))
	}
	var (
		m   int
		err error
	)
	if g.alaw {
		m, err = audio.DecodeAlawTo(g.pcm[:], payload)
	} else {
		m, err = audio.DecodeUlawTo(g.pcm[:], payload)
	}
	if err != nil {
		return nil, err
	}
	return bytesToSamples(g.pcm[:m]), nil
}

// normalizeCodecs returns a copy of names spelled as CodecPCMU, CodecPCMA
// and CodecOpus, or an error for an unknown or repeated name, or for opus
// in a binary without libopus ([ErrOpusNotBuiltIn]).
func normalizeCodecs(names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		var c string
		for _, known := range []string{CodecPCMU, CodecPCMA, CodecOpus} {
			if strings.EqualFold(strings.TrimSpace(n), known) {
				c = known
			}
		}
		switch {
		case c == "":
			return nil, fmt.Errorf("codec %q is not supported (%s, %s, %s)", n, CodecOpus, CodecPCMU, CodecPCMA)
		case c == CodecOpus && !opusBuiltIn:
			return nil, ErrOpusNotBuiltIn
		case slices.Contains(out, c):
			return nil, fmt.Errorf("codec %s is listed twice", c)
		}
		out = append(out, c)
	}
	return out, nil
}

// mediaCodecs is the SDP codec list for names (normalised): the audio
// codecs in order of preference, then RFC 4733 telephone-event.
func mediaCodecs(names []string) []media.Codec {
	out := make([]media.Codec, 0, len(names)+1)
	for _, n := range names {
		switch n {
		case CodecPCMU:
			out = append(out, media.CodecAudioUlaw)
		case CodecPCMA:
			out = append(out, media.CodecAudioAlaw)
		case CodecOpus:
			out = append(out, media.CodecAudioOpus)
		}
	}
	return append(out, media.CodecTelephoneEvent8000)
}

// Codec returns the audio codec negotiated for the call (CodecOpus,
// CodecPCMU or CodecPCMA), or "" before its media started.
func (c *Call) Codec() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pipe == nil {
		return ""
	}
	for _, known := range []string{CodecPCMU, CodecPCMA, CodecOpus} {
		if strings.EqualFold(c.pipe.codec.Name, known) {
			return known
		}
	}
	return c.pipe.codec.Name
}
