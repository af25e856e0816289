package sip

import (
	"fmt"
	"strings"
)

// SRTPPolicy is whether calls encrypt their media with SRTP, keyed by SDES
// (RFC 4568: the keys travel in the SDP, so use it with TLS signalling).
type SRTPPolicy string

// SRTP policies.
const (
	// SRTPOff sends and accepts plain RTP only (RTP/AVP).
	SRTPOff SRTPPolicy = "off"
	// SRTPRequired offers and accepts only RTP/SAVP with a=crypto; a call
	// that offers plain RTP is refused with 488.
	SRTPRequired SRTPPolicy = "required"
)

// mediaSRTP is diago's Transport.MediaSRTP for the policy (1 = SDES).
func (s SRTPPolicy) mediaSRTP() int {
	if s == SRTPRequired {
		return 1
	}
	return 0
}

// offerMatchesSRTP checks an incoming offer's audio profile against the
// policy (RFC 3264 §6: an m= line we cannot accept means 488).
func offerMatchesSRTP(sdp []byte, policy SRTPPolicy) error {
	proto := audioProto(sdp)
	if proto == "" {
		return nil // no offer: we offer in the 200 (RFC 3261 §13.2.1)
	}
	secure := strings.Contains(proto, "SAVP")
	switch {
	case policy == SRTPRequired && !secure:
		return fmt.Errorf("the caller offers unencrypted audio (%s) and this account requires SRTP", proto)
	case policy != SRTPRequired && secure:
		return fmt.Errorf("the caller offers only encrypted audio (%s) and this account has SRTP off", proto)
	}
	return nil
}

// audioProto is the transport protocol of the first m=audio line, "" when
// there is none.
func audioProto(sdp []byte) string {
	for _, l := range strings.Split(strings.ReplaceAll(string(sdp), "\r\n", "\n"), "\n") {
		if f := strings.Fields(strings.TrimSpace(l)); len(f) >= 3 && f[0] == "m=audio" {
			return f[2]
		}
	}
	return ""
}
