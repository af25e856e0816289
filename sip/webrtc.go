package sip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
)

// WebRTC media for accounts on a WebSocket transport (ws, wss): the
// gateway (Kamailio + rtpengine, Asterisk, FreeSWITCH verto/sofia, a cloud
// PBX's WebRTC edge) expects what a browser sends, UDP/TLS/RTP/SAVPF with
// ICE (RFC 8445, full, not trickle), DTLS-SRTP keys (RFC 5763/5764) and
// rtcp-mux. diago v0.42.1's own ICE + DTLS-SRTP stack (built on pion ice,
// dtls and srtp) carries it, so a WebRTC call goes through the same media
// pipe, events and DTMF as a plain one. Its SDP puts the chosen host
// candidate in c= and m= (RFC 8839 §4.2.1.2 default candidate), which
// rtpengine needs; see shared/reference/feasibility-sip.md §7.

// webrtc reports whether calls on the transport carry WebRTC media.
func (t Transport) webrtc() bool { return t == TransportWS || t == TransportWSS }

// webrtcConfig gathers IPv4 host candidates on the bind address from the
// account's RTP port range: only loopback ones (and only loopback remote
// candidates) when the phone binds a loopback address, so tests never
// send media off 127.0.0.1.
//
// diago v0.42.1 does not expose pion/ice's MulticastDNSMode, so the ICE
// agent runs pion's default, QueryOnly: it listens for mDNS but sends a
// query only for a remote ".local" candidate, which loopback filtering
// rejects (RemoteIPFilter), and announces no local name.
func (p *Phone) webrtcConfig() media.MediaSessionWebrtcConfig {
	conf := media.MediaSessionWebrtcConfig{
		IPFamilies:     []media.ICEIPFamily{media.ICEIPFamilyIPv4},
		CandidateTypes: []media.ICECandidateType{media.ICECandidateHost},
		PortMin:        uint16(p.cfg.RTPPortMin),
		PortMax:        uint16(p.cfg.RTPPortMax),
	}
	bind, err := netip.ParseAddr(p.cfg.BindHost)
	switch {
	case err != nil || bind.IsUnspecified():
	case bind.IsLoopback():
		conf.IncludeLoopback = true
		conf.IPFilter = func(ip netip.Addr) bool { return ip.IsLoopback() }
		conf.RemoteIPFilter = conf.IPFilter
	default:
		conf.IPFilter = func(ip netip.Addr) bool { return ip == bind }
	}
	return conf
}

// inviteWebrtc sends the INVITE with a WebRTC offer and, once it is
// answered (and ACKed by diago), starts the media pipe. A 183 with SDP
// starts the pipe on the early media and waits for the answer.
func (c *Call) inviteWebrtc(ctx context.Context, d *diago.DialogClientSession, opts diago.InviteClientOptions) error {
	p := c.p
	med, err := d.InviteWebrtc(ctx, diago.InviteWebrtcOptions{
		Username:         opts.Username,
		Password:         opts.Password,
		Headers:          opts.Headers,
		OnResponse:       opts.OnResponse,
		EarlyMediaDetect: opts.EarlyMediaDetect,
		WebrtcConfig:     p.webrtcConfig(),
	})
	early := errors.Is(err, diago.ErrClientEarlyMedia)
	if err != nil && !early {
		return err
	}
	if merr := c.startWebrtcMedia(med); merr != nil {
		if early {
			return fmt.Errorf("early media: %w", merr) // runOutbound cancels the INVITE
		}
		// The dialog is confirmed: end it rather than leave the peer
		// talking to nobody.
		hctx, cancel := detachedTimeout(ctx, 5*time.Second)
		defer cancel()
		return errors.Join(fmt.Errorf("media: %w", merr), d.Hangup(hctx))
	}
	if early {
		return d.WaitAnswerWebrtc(ctx, med, sipgo.AnswerOptions{
			Username:   opts.Username,
			Password:   opts.Password,
			OnResponse: opts.OnResponse,
		})
	}
	return nil
}

// answerWebrtc answers an incoming WebRTC offer (diago completes ICE and
// DTLS before it returns) and returns what starts the media pipe.
func (c *Call) answerWebrtc(d *diago.DialogServerSession) (func() error, error) {
	med, err := d.AnswerWebrtc(diago.AnswerWebrtcOptions{WebrtcConfig: c.p.webrtcConfig()})
	return func() error { return c.startWebrtcMedia(med) }, err
}

// startWebrtcMedia builds the media pipe on a WebRTC session.
func (c *Call) startWebrtcMedia(med *diago.DialogWebrtc) error {
	ms := med.MediaSession()
	if ms == nil {
		return errors.New("no media session")
	}
	mp := newMediaPipe(c, ms.Codec(), ms.CommonCodecs())
	if err := mp.checkCodec(); err != nil {
		return errors.Join(err, med.Close())
	}
	r, err := med.AudioReader()
	if err != nil {
		return errors.Join(fmt.Errorf("audio reader: %w", err), med.Close())
	}
	var wopts []diago.AudioWriterWebrtcOption
	if mp.hasTE {
		mp.dtmfW = &diago.DTMFWriter{}
		wopts = append(wopts, diago.WithAudioWriterWebrtcDTMF(mp.dtmfW))
	}
	w, err := med.AudioWriter(wopts...)
	if err != nil {
		return errors.Join(fmt.Errorf("audio writer: %w", err), med.Close())
	}
	mp.r, mp.w, mp.pr, mp.closeMedia = r, w, med.RTPPacketReader, med.Close
	return c.runPipe(mp)
}

// reinviteHold reports whether Hold and Resume send a re-INVITE (RFC 3264
// §8.4). On WebRTC calls they do not: the media pipe alone holds the call
// (held: we send silence and play nothing of what arrives), so call waiting
// and the hold button work, but the far end is not told (no music on hold
// from the PBX).
//
// Workaround for diago v0.42.1: a re-INVITE from a direct-WebRTC dialog
// forks the media session (DialogWebrtc.onLocalSDP → MediaSessionWebrtc.Fork:
// new ICE credentials and a new DTLS handshake), which rtpengine answers on
// its existing association, so the handshake times out ("DTLS handshake:
// context deadline exceeded") and hold fails with the far end already told
// sendonly. diago's list of open work in its repository still has "Add
// direct-WebRTC re-INVITE support: support hold/resume and
// media-direction changes" unchecked.
func (t Transport) reinviteHold() bool { return !t.webrtc() }

// offerIsWebrtc checks that an incoming offer on a WebRTC account is one
// (RFC 8827 §6.5: DTLS-SRTP is mandatory); a plain RTP or SDES offer gets
// 488 (RFC 3264 §6).
func offerIsWebrtc(sdp []byte) error {
	proto := audioProto(sdp)
	if proto == "" {
		// No offer: diago's AnswerWebrtc needs one (it would offer in the 200).
		return errors.New("the caller sent no SDP offer, and a WebRTC account answers only offers")
	}
	if !strings.EqualFold(proto, "UDP/TLS/RTP/SAVPF") {
		return fmt.Errorf("the caller offers %s audio and this WebRTC account takes only UDP/TLS/RTP/SAVPF (ICE, DTLS-SRTP)", proto)
	}
	return nil
}
