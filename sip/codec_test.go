package sip

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/emiago/diago/media"
	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// TestCodecOrderIssue10: the account's codec list, in any case, keeps its
// order in the SDP codec list, telephone-event last.
func TestCodecOrderIssue10(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
		pts  []uint8
	}{
		{[]string{"pcmu", "PCMA"}, []string{CodecPCMU, CodecPCMA}, []uint8{0, 8, 101}},
		{[]string{"PCMA", " pcmu "}, []string{CodecPCMA, CodecPCMU}, []uint8{8, 0, 101}},
		{[]string{"OPUS", "PCMU"}, []string{CodecOpus, CodecPCMU}, []uint8{96, 0, 101}},
		{[]string{"PCMU", "opus"}, []string{CodecPCMU, CodecOpus}, []uint8{0, 96, 101}},
	}
	for _, tt := range tests {
		got, err := normalizeCodecs(tt.in)
		if !opusBuiltIn && slices.Contains(tt.want, CodecOpus) {
			require.ErrorIs(t, err, ErrOpusNotBuiltIn, "%v", tt.in)
			continue
		}
		require.NoError(t, err, "%v", tt.in)
		require.Equal(t, tt.want, got)
		var pts []uint8
		for _, c := range mediaCodecs(got) {
			pts = append(pts, c.PayloadType)
		}
		require.Equal(t, tt.pts, pts, "%v", tt.in)
	}
}

// TestConfigOpusIssue10: opus is accepted when built in; otherwise New
// fails with ErrOpusNotBuiltIn and a message saying how to build it.
func TestConfigOpusIssue10(t *testing.T) {
	cfg := Config{Account: Account{User: "101", Domain: "127.0.0.1:5060", Codecs: []string{"opus", "PCMU"}}}
	_, err := New(cfg)
	if opusBuiltIn {
		require.NoError(t, err)
		return
	}
	require.ErrorIs(t, err, ErrOpusNotBuiltIn)
	require.ErrorContains(t, err, "opus is not built in")
	require.ErrorContains(t, err, "with_opus_c")
	_, err = newFrameCodec(media.CodecAudioOpus)
	require.ErrorIs(t, err, ErrOpusNotBuiltIn)
}

// TestOpusCodecTone: a 440 Hz tone through encode and decode (8 kHz →
// 48 kHz stereo Opus → 8 kHz) comes out as 440 Hz; bad input is an error.
func TestOpusCodecTone(t *testing.T) {
	requireOpus(t)
	for _, ch := range []int{1, 2} {
		cd := media.CodecAudioOpus
		cd.NumChannels = ch
		c, err := newFrameCodec(cd)
		require.NoError(t, err)
		frame := make([]int16, FrameSamples)
		payload := make([]byte, maxPayload)
		var out []int16
		for i := range 100 { // 2 s
			for j := range frame {
				frame[j] = int16(8000 * math.Sin(2*math.Pi*440*float64(i*FrameSamples+j)/SampleRate))
			}
			n, err := c.encode(payload, frame)
			require.NoError(t, err)
			require.Positive(t, n)
			dec, err := c.decode(payload[:n])
			require.NoError(t, err)
			require.Len(t, dec, FrameSamples)
			out = append(out, dec...)
		}
		require.GreaterOrEqual(t, siptest.ToneSeconds(out, 440, SampleRate), 1.8, "%d channels", ch)
		require.Zero(t, siptest.ToneSeconds(out, 1000, SampleRate))

		_, err = c.encode(payload, frame[:100]) // a short read (diago PlayFile, feasibility bug 5)
		require.Error(t, err)
		_, err = c.decode([]byte{0xff, 0xff, 0xff})
		require.Error(t, err)
	}
	_, err := newFrameCodec(media.Codec{Name: "opus", SampleRate: 16000, NumChannels: 1})
	require.Error(t, err)
	_, err = newFrameCodec(media.Codec{Name: "G729", SampleRate: 8000, NumChannels: 1})
	require.True(t, err != nil && !errors.Is(err, ErrOpusNotBuiltIn))
}
