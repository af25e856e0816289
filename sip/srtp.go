package sip

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
)

// SRTPPolicy is whether calls encrypt their media with SRTP, keyed by SDES
// (RFC 4568: the keys travel in the SDP, so use it with TLS signalling).
type SRTPPolicy string

// SRTP policies.
const (
	// SRTPOff sends and accepts plain RTP only (RTP/AVP).
	SRTPOff SRTPPolicy = "off"
	// SRTPOptional offers RTP/SAVP with a=crypto and, when the callee
	// refuses it (488, 606 or 415), offers plain RTP/AVP once more in a new
	// INVITE; it accepts plain, SRTP and best-effort offers (see
	// dropBestEffortCrypto). Call.Encrypted tells what a call ended up with.
	SRTPOptional SRTPPolicy = "optional"
	// SRTPRequired offers and accepts only RTP/SAVP with a=crypto; a call
	// that offers plain RTP is refused with 488.
	SRTPRequired SRTPPolicy = "required"
)

// sdesSuite is the one SDES crypto suite diago v0.42.1 keys (its
// MediaSession.SRTPAlg default; other a=crypto lines are skipped).
const sdesSuite = "AES_CM_128_HMAC_SHA1_80"

// plainTransportID names the second diago transport of an SRTPOptional
// account: the same protocol on a port of its own, without SRTP, used for
// the plain-RTP INVITE after the callee refused SRTP. diago fixes SRTP per
// transport when the dialog is made (Transport.MediaSRTP), and the offer's
// profile is a package global (media.RTPProfileSAVPDisable) that one call
// must not flip for the others, so a transport per policy is the way to
// offer one call without SRTP. Its port listens too, since the callee's
// in-dialog requests go to the Contact it gives.
const plainTransportID = "plain"

// mediaSRTP is diago's Transport.MediaSRTP for the policy (1 = SDES).
func (s SRTPPolicy) mediaSRTP() int {
	if s == SRTPRequired || s == SRTPOptional {
		return 1
	}
	return 0
}

// refusedSRTP reports whether a final response to an SRTP offer means the
// callee cannot take it, so that an SRTPOptional call offers plain RTP
// instead: 488 Not Acceptable Here and 606 Not Acceptable (RFC 3261
// §21.4.26, §21.6.4: the session description is not acceptable) and 415
// Unsupported Media Type (some UAs answer an SDP they cannot parse so).
func refusedSRTP(code int) bool {
	return code == 488 || code == 606 || code == 415
}

// srtpDiagoOptions are the diago options an SRTPOptional account adds to
// its listening transport: the plain transport (plainTransportID) and the
// middleware that answers best-effort offers plainly.
func (p *Phone) srtpDiagoOptions(listen diago.Transport) ([]diago.DiagoOption, error) {
	if p.cfg.Account.SRTP != SRTPOptional || p.cfg.Account.Transport.webrtc() {
		return nil, nil
	}
	port, err := freePort(listen.BindHost)
	if err != nil {
		return nil, fmt.Errorf("port for plain-RTP offers: %w", err)
	}
	plain := listen
	plain.ID, plain.BindPort, plain.MediaSRTP = plainTransportID, port, 0
	return []diago.DiagoOption{
		diago.WithTransport(plain),
		diago.WithServerRequestMiddleware(p.dropBestEffortCrypto),
	}, nil
}

// dropBestEffortCrypto is diago's server middleware for SRTPOptional
// accounts: an INVITE (initial or re-INVITE) whose audio is RTP/AVP with
// a=crypto lines — the "best-effort SRTP" of Linphone, baresip
// (mediaenc=srtp) and some PBXes — loses those lines before diago reads it.
//
// Why plain: RFC 3264 §6 makes the answer's m= line mirror the offer's
// transport protocol, so the answer must be RTP/AVP. diago v0.42.1 keys
// SRTP for any offer with a=crypto and then writes RTP/SAVP into its
// answer unless the package global media.RTPProfileSAVPDisable is set —
// which would also make SRTPRequired accounts offer RTP/AVP, and flipping
// it per call races with other calls. Without the crypto lines diago
// answers plain RTP/AVP, which a best-effort offerer accepts by design
// (RFC 4568 §7.1: its SRTP is used only if the answer takes it). The cost
// is that such a call is not encrypted, and Call.Encrypted says so.
func (p *Phone) dropBestEffortCrypto(next sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *gosip.Request, tx gosip.ServerTransaction) {
		if req.IsInvite() {
			if body, ok := stripBestEffortCrypto(req.Body()); ok {
				req.SetBody(body)
				p.log.Debug("best-effort SRTP offer answered with plain RTP", "call-id", req.CallID())
			}
		}
		next(req, tx)
	}
}

// stripBestEffortCrypto removes the a=crypto lines of the RTP/AVP audio
// sections of sdp; ok is false (and sdp returned as is) when there are none.
// Line endings are kept.
func stripBestEffortCrypto(sdp []byte) ([]byte, bool) {
	if len(sdp) == 0 {
		return sdp, false
	}
	var out []byte
	inPlainAudio, dropped := false, false
	for _, line := range bytes.SplitAfter(sdp, []byte("\n")) {
		text := strings.TrimSpace(string(line))
		if f := strings.Fields(text); len(f) >= 3 && strings.HasPrefix(f[0], "m=") {
			inPlainAudio = f[0] == "m=audio" && f[2] == "RTP/AVP"
		}
		if inPlainAudio && strings.HasPrefix(text, "a=crypto:") {
			dropped = true
			continue
		}
		out = append(out, line...)
	}
	if !dropped {
		return sdp, false
	}
	return out, true
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
	case policy == SRTPOff && secure:
		return fmt.Errorf("the caller offers only encrypted audio (%s) and this account has SRTP off", proto)
	case secure && proto != "RTP/SAVP":
		return fmt.Errorf("the caller offers %s audio; this account takes SRTP keyed in the SDP (RTP/SAVP, SDES)", proto)
	case secure && !hasSDESKey(sdp):
		// diago would answer plain RTP/AVP, which RFC 3264 §6 forbids.
		return fmt.Errorf("the caller offers SRTP without an SDES key in %s", sdesSuite)
	}
	return nil
}

// hasSDESKey reports whether the first audio section of sdp carries an
// a=crypto line in the suite diago keys (sdesSuite).
func hasSDESKey(sdp []byte) bool {
	inAudio := false
	for _, l := range sdpLines(sdp) {
		if strings.HasPrefix(l, "m=") {
			if inAudio {
				return false
			}
			inAudio = strings.HasPrefix(l, "m=audio ")
			continue
		}
		if f := strings.Fields(l); inAudio && len(f) >= 3 && strings.HasPrefix(f[0], "a=crypto:") &&
			f[1] == sdesSuite && strings.HasPrefix(f[2], "inline:") {
			return true
		}
	}
	return false
}

// audioProto is the transport protocol of the first m=audio line, "" when
// there is none.
func audioProto(sdp []byte) string {
	for _, l := range sdpLines(sdp) {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "m=audio" {
			return f[2]
		}
	}
	return ""
}

// sdpLines splits an SDP body into trimmed lines.
func sdpLines(sdp []byte) []string {
	lines := strings.Split(strings.ReplaceAll(string(sdp), "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return lines
}
