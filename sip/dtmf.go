package sip

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// dtmfEvents maps RFC 4733 §3.2 event codes 0–15 to digits.
const dtmfEvents = "0123456789*#ABCD"

func validDTMF(r rune) bool {
	return strings.ContainsRune(dtmfEvents, r) || strings.ContainsRune("abcd", r)
}

// dtmfDetector turns RFC 4733 telephone-event packets into digits.
//
// Workaround for diago v0.42.1 media.RTPDtmfReader: it remembers an event
// only from its marker packet and ignores the end packet when the remembered
// duration is 0, so an event whose first packet has duration 0 (as SIPp's
// bundled dtmf_2833_*.pcap and some gateways send) is silently dropped
// (feasibility-sip.md §4.3 bug 4; upstream media/rtp_dtmf_reader.go
// processDTMFEvent). We key events by RTP timestamp instead (RFC 4733 §2.5.1.1:
// all packets of one event share its timestamp) and report each event once,
// at its first packet, whatever its duration; retransmitted end packets
// (§2.5.1.4) carry the same timestamp and are ignored.
type dtmfDetector struct {
	have      bool
	lastTS    uint32
	lastEvent uint8
}

// packet processes one telephone-event payload with its RTP timestamp and
// returns the digit when the packet starts a new event.
func (d *dtmfDetector) packet(payload []byte, ts uint32) (rune, bool) {
	if len(payload) < 4 {
		return 0, false
	}
	ev := payload[0]
	if int(ev) >= len(dtmfEvents) {
		return 0, false // not a DTMF event (e.g. flash hook, tones)
	}
	if d.have && ts == d.lastTS && ev == d.lastEvent {
		return 0, false
	}
	d.have, d.lastTS, d.lastEvent = true, ts, ev
	return rune(dtmfEvents[ev]), true
}

// parseDTMFRelay reads the "Signal=" line of an application/dtmf-relay body.
func parseDTMFRelay(body []byte) (rune, bool) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "signal") {
			continue
		}
		v = strings.ToUpper(strings.TrimSpace(v))
		if len(v) == 1 && strings.ContainsRune(dtmfEvents, rune(v[0])) {
			return rune(v[0]), true
		}
		// Some devices send the event number (e.g. "Signal=10" for '*').
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < len(dtmfEvents) {
			return rune(dtmfEvents[n]), true
		}
		return 0, false
	}
	return 0, false
}
