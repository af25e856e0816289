package sip

import (
	"net"
	"strings"
	"testing"
	"unicode/utf8"

	gosip "github.com/emiago/sipgo/sip"
)

// The fuzz tests below cover every parser of header or body text we wrote
// ourselves (sipgo parses the messages): hostile input must never crash
// the phone and must keep each parser's promises. scripts/test.sh runs them.

func FuzzSplitHeaderValues(f *testing.F) {
	for _, s := range []string{
		`<sip:101@pbx.example>;reason=no-answer;counter=1, <tel:+74957770000>;reason=unconditional`,
		`"Doe, John" <sip:j@x>, sip:k@y`, `"\"", <`, `>>>,,,<<<`, `"unterminated, <sip:a@b>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		total := 0
		for _, v := range splitHeaderValues([]string{s}) {
			if v == "" || v != strings.TrimSpace(v) {
				t.Fatalf("value %q is empty or untrimmed", v)
			}
			total += len(v)
		}
		if total > len(s) {
			t.Fatalf("values are longer (%d) than the input (%d)", total, len(s))
		}
	})
}

func FuzzURINumber(f *testing.F) {
	for _, s := range []string{
		`<sip:+74951230001@pbx.example;user=phone>`, `tel:+7495;phone-context=x`, `sip:%D0%9F@x`,
		`<sips:@>`, `<`, `sip:`, `"x" <tel:%zz>`, `<tel:<`, `<sip:a>b@x>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := uriNumber(s)
		if strings.ContainsAny(n, ";?<>") && !strings.Contains(s, "%") {
			t.Fatalf("number %q of %q keeps URI syntax", n, s)
		}
	})
}

func FuzzHeaderText(f *testing.F) {
	for _, s := range []string{`Sales%20line`, `%D0%9F%D1%80%D0%BE%D0%B4%D0%B0%D0%B6%D0%B8`, `%ff%fe`, `  x  `, `%`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := headerText(s)
		if out != strings.TrimSpace(out) && !strings.Contains(s, "%") {
			t.Fatalf("headerText(%q) = %q is not trimmed", s, out)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("headerText(%q) = %q is not UTF-8", s, out)
		}
	})
}

func FuzzDTMFRelay(f *testing.F) {
	for _, s := range []string{"Signal=5\r\nDuration=160\r\n", "signal = #", "Signal=10", "Signal=99", "Signal=\n", "\x00=\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if d, ok := parseDTMFRelay(body); ok && !validDTMF(d) {
			t.Fatalf("parseDTMFRelay(%q) = %q, not a DTMF digit", body, d)
		}
	})
}

func FuzzParseReplaces(f *testing.F) {
	for _, s := range []string{"abc@host;to-tag=1;from-tag=2", "x;early-only", ";;;=", "id;TO-TAG=a=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, to, from, ok := parseReplaces(s)
		if ok && (id == "" || strings.Contains(id, ";")) {
			t.Fatalf("parseReplaces(%q) Call-ID %q", s, id)
		}
		if strings.Contains(to, ";") || strings.Contains(from, ";") {
			t.Fatalf("parseReplaces(%q) tags %q %q hold a separator", s, to, from)
		}
	})
}

func FuzzParseReferTo(f *testing.F) {
	for _, s := range []string{
		"<sip:carol@127.0.0.1:5060?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>", "sip:bob@x", "<tel:+1>",
		"<sip:@>", "<", "<sip:a@b?Replaces=%zz>", `"n" <sips:x@y;transport=tls>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		uri, _, code := parseReferTo(s)
		switch code {
		case 0:
			if sc := strings.ToLower(uri.Scheme); sc != "sip" && sc != "sips" {
				t.Fatalf("parseReferTo(%q) accepted scheme %q", s, uri.Scheme)
			}
			if uri.Headers != nil {
				t.Fatalf("parseReferTo(%q) kept URI headers", s)
			}
		case 400, 416:
		default:
			t.Fatalf("parseReferTo(%q) code %d", s, code)
		}
	})
}

func FuzzRegisterContacts(f *testing.F) {
	for _, s := range []string{
		`<sip:bob@127.0.0.1:5070;transport=udp>;expires=60, <sip:bob@10.0.0.1>;expires=3600`,
		`"a,b" <sip:x@y>;expires=-5`, `<sip:bob@127.0.0.1:5070>;expires=99999999999999999999`, `*`, `<<>>,`,
	} {
		f.Add(s, "60")
	}
	contact := gosip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: 5070}
	r := &registration{p: &Phone{contact: contact}}
	f.Fuzz(func(t *testing.T, contacts, expires string) {
		total := 0
		for _, c := range splitContacts(contacts) {
			total += len(c)
		}
		if total > len(contacts) {
			t.Fatalf("contacts longer than the input")
		}
		res := gosip.NewResponse(200, "OK")
		res.AppendHeader(gosip.NewHeader("Contact", contacts))
		res.AppendHeader(gosip.NewHeader("Expires", expires))
		_ = r.granted(res, 60)
	})
}

// FuzzGate feeds arbitrary datagrams to the transport read filter as if
// they came from a stranger and from the registrar.
func FuzzGate(f *testing.F) {
	for _, s := range []string{
		"INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:bob@x>\r\nCall-ID: 1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		"SIP/2.0 200 OK\r\n\r\n", "\r\n\r\n", "OPTIONS sip:x SIP/2.0\r\nTo: <sip:x>;tag=a\r\n\r\n", "\x00\x01garbage", "INVITE",
	} {
		f.Add([]byte(s))
	}
	g := newGate(Hardening{RequestRate: 1000, RequestBurst: 1000}, &gateStats{})
	g.trusted.Store(&trustSet{hostPorts: map[string]bool{"127.0.0.1:5060": true}, hosts: map[string]bool{}})
	registrar := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060}
	stranger := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6666}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, src := range []*net.UDPAddr{registrar, stranger} {
			out, err := g.filter(gosip.TransportReadProps{Transport: "UDP", RemoteAddr: src}, data)
			if err != nil {
				t.Fatalf("UDP filter returned %v: it would stop the listener", err)
			}
			if out != nil && src == stranger && !isKeepAlive(data) && !strings.HasPrefix(string(data), "SIP/2.0 ") {
				msg, perr := gosip.ParseMessage(data)
				req, isReq := msg.(*gosip.Request)
				if perr == nil && isReq && !inDialog(req) && !req.IsAck() {
					t.Fatalf("an out-of-dialog %s from a stranger passed", req.Method)
				}
			}
		}
	})
}

func FuzzCompletedElsewhere(f *testing.F) {
	for _, s := range []string{
		`SIP;cause=200;text="Call completed elsewhere"`, `Q.850;cause=26`, `SIP ; cause = 200`,
		`Q.850;cause=16;text="Normal", SIP;cause=200`, `SIP;cause=487`, `;;;`, `SIP;cause=`, `"`, `SIP;cause=200x`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := completedElsewhere([]gosip.Header{gosip.NewHeader("Reason", s)})
		if got && !strings.Contains(s, "200") && !strings.Contains(s, "26") {
			t.Fatalf("%q read as answered elsewhere without cause 200 or 26", s)
		}
	})
}

// FuzzSDESOffer: an INVITE body of any shape must not crash the SRTP
// checks, and stripping best-effort crypto only removes lines (idempotent,
// never growing the body) and leaves no key that diago would use in a
// plain RTP/AVP audio offer.
func FuzzSDESOffer(f *testing.F) {
	for _, s := range []string{
		"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n",
		"v=0\nm=audio 4000 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x",
		"m=video 1 RTP/AVP 96\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\nm=audio 2 RTP/AVP 0\r\n",
		"m=audio\r\na=crypto:", "\x00\xff\r\r\n\n", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, sdp []byte) {
		for _, pol := range []SRTPPolicy{SRTPOff, SRTPOptional, SRTPRequired} {
			_ = offerMatchesSRTP(sdp, pol)
		}
		out, ok := stripBestEffortCrypto(sdp)
		if len(out) > len(sdp) || (!ok && string(out) != string(sdp)) {
			t.Fatalf("strip grew or changed the body without saying so: %q -> %q", sdp, out)
		}
		if again, ok2 := stripBestEffortCrypto(out); ok2 || string(again) != string(out) {
			t.Fatalf("strip is not idempotent: %q -> %q", out, again)
		}
		if audioProto(out) == "RTP/AVP" && hasSDESKey(out) && strings.Count(string(out), "m=audio") == 1 {
			t.Fatalf("a key is left in the plain audio offer: %q", out)
		}
	})
}
