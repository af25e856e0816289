package sip

import (
	"strconv"
	"strings"
	"sync"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

// answeredElsewhere remembers the calls the proxy cancelled because another
// device answered them: a CANCEL carrying "Reason: SIP;cause=200"
// (RFC 3326; Kamailio's tm adds it to the CANCELs of the other branches when
// one answers, as Asterisk and FreeSWITCH do) or Q.850 cause 26 ("non-
// selected user clearing"). Such a call is not a missed call: the
// operator's desk phone, or a colleague in the ring group, took it.
//
// sipgo's transaction layer consumes a CANCEL that matches an INVITE
// (answers 200 and 487 itself) and diago only sees the dialog end, so the
// phone watches incoming messages on the transport layer instead
// (TransportLayer.OnMessage runs every handler, ours after the
// transaction layer's, which hands the request to a goroutine).
type answeredElsewhere struct {
	mu  sync.Mutex
	ids map[string]time.Time // Call-ID → when its CANCEL arrived
}

// elsewhereKeep bounds how long a remembered CANCEL waits for its call
// (64×T1, a whole INVITE transaction), and elsewhereMax how many are kept.
const (
	elsewhereKeep = 32 * time.Second
	elsewhereMax  = 256
)

// observe is a TransportLayer message handler.
func (a *answeredElsewhere) observe(msg gosip.Message) {
	req, ok := msg.(*gosip.Request)
	if !ok || !req.IsCancel() {
		return
	}
	cid := req.CallID()
	if cid == nil || !completedElsewhere(req.GetHeaders("Reason")) {
		return
	}
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ids == nil {
		a.ids = map[string]time.Time{}
	}
	for id, at := range a.ids {
		if now.Sub(at) > elsewhereKeep || len(a.ids) >= elsewhereMax {
			delete(a.ids, id)
		}
	}
	a.ids[cid.Value()] = now
}

// take reports whether the call's CANCEL said it was answered elsewhere,
// waiting up to wait for the observer (which runs on the transport's
// reader while the transaction layer ends the dialog on another goroutine).
func (a *answeredElsewhere) take(callID string, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for {
		a.mu.Lock()
		_, ok := a.ids[callID]
		delete(a.ids, callID)
		a.mu.Unlock()
		if ok || time.Now().After(deadline) {
			return ok
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// completedElsewhere reads Reason header values (RFC 3326:
// protocol *(;param), several per header separated by commas) for
// "SIP;cause=200" or "Q.850;cause=26".
func completedElsewhere(hdrs []gosip.Header) bool {
	for _, h := range hdrs {
		for _, v := range splitHeaderValues([]string{h.Value()}) {
			proto, params, _ := strings.Cut(v, ";")
			want := map[string]int{"sip": 200, "q.850": 26}[strings.ToLower(strings.TrimSpace(proto))]
			if want == 0 {
				continue
			}
			for _, p := range strings.Split(params, ";") {
				k, val, _ := strings.Cut(p, "=")
				if !strings.EqualFold(strings.TrimSpace(k), "cause") {
					continue
				}
				if n, err := strconv.Atoi(strings.TrimSpace(val)); err == nil && n == want {
					return true
				}
			}
		}
	}
	return false
}
