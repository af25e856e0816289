package sip

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// ev builds a telephone-event payload (RFC 4733 §2.3).
func ev(event uint8, end bool, duration uint16) []byte {
	b := []byte{event, 10, byte(duration >> 8), byte(duration)}
	if end {
		b[1] |= 0x80
	}
	return b
}

func TestDTMFDetector(t *testing.T) {
	type pkt struct {
		payload []byte
		ts      uint32
	}
	tests := []struct {
		name string
		pkts []pkt
		want string
	}{
		{"normal event", []pkt{{ev(1, false, 160), 100}, {ev(1, false, 320), 100}, {ev(1, true, 800), 100}, {ev(1, true, 800), 100}}, "1"},
		{"first packet duration 0", []pkt{{ev(5, false, 0), 100}, {ev(5, false, 160), 100}, {ev(5, true, 480), 100}}, "5"},
		{"end packets only", []pkt{{ev(11, true, 800), 100}, {ev(11, true, 800), 100}, {ev(11, true, 800), 100}}, "#"},
		{"same digit twice", []pkt{{ev(7, false, 160), 100}, {ev(7, true, 800), 100}, {ev(7, false, 160), 2000}, {ev(7, true, 800), 2000}}, "77"},
		{"sequence", []pkt{{ev(1, false, 0), 1}, {ev(2, false, 0), 2}, {ev(10, false, 0), 3}, {ev(11, false, 0), 4}}, "12*#"},
		{"non dtmf event ignored", []pkt{{ev(16, false, 160), 1}}, ""},
		{"short payload ignored", []pkt{{[]byte{1, 2}, 1}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d dtmfDetector
			got := ""
			for _, p := range tt.pkts {
				if r, ok := d.packet(p.payload, p.ts); ok {
					got += string(r)
				}
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseDTMFRelay(t *testing.T) {
	tests := []struct {
		body string
		want rune
		ok   bool
	}{
		{"Signal=5\r\nDuration=160\r\n", '5', true},
		{"Signal= #\nDuration=100", '#', true},
		{"signal=10\r\n", '*', true},
		{"Duration=160\r\n", 0, false},
		{"Signal=X\r\n", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseDTMFRelay([]byte(tt.body))
		require.Equal(t, tt.ok, ok, tt.body)
		require.Equal(t, tt.want, got, tt.body)
	}
}
