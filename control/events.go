package control

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/omniphone/omniphone/sip"
)

// subBuffer is how many events a stream may lag behind; a client slower
// than that is disconnected rather than let it hold the phone up.
const subBuffer = 256

// keepAlive is how often an idle stream sends a comment line, so that
// proxies and clients see the connection is alive.
const keepAlive = 15 * time.Second

// RegEvent publishes a registration change; use it as (part of) the
// phone's OnRegState handler. It never blocks.
func (s *Server) RegEvent(ev sip.RegEvent) {
	e := Event{Type: "registration", Registration: ev.State.String()}
	if ev.Err != nil {
		e.Error = ev.Err.Error()
	}
	s.publish(e)
}

// CallEvent publishes a call state change; use it as (part of) the phone's
// OnCallState handler. It never blocks.
func (s *Server) CallEvent(ev sip.CallEvent) {
	if ev.Call == nil {
		return
	}
	v := viewOf(ev.Call.Info(), ev.Call.Muted())
	v.State = ev.State.String()
	if ev.State == sip.CallEnded {
		v.Cause, v.SIPCode = ev.Cause.String(), ev.SIPCode
	}
	s.publish(Event{Type: "call", Call: &v, Reason: ev.Reason})
}

// DTMFEvent publishes a digit received from the remote party; use it as
// the phone's OnDTMF handler. It never blocks.
func (s *Server) DTMFEvent(ev sip.DTMFEvent) {
	e := Event{Type: "dtmf", Digit: string(ev.Digit)}
	if ev.Call != nil {
		e.CallID = ev.Call.ID()
	}
	s.publish(e)
}

func (s *Server) publish(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	for ch := range s.subs {
		select {
		case ch <- e:
		default: // too slow: drop the stream, the client reconnects
			delete(s.subs, ch)
			close(ch)
		}
	}
}

func (s *Server) subscribe() (chan Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false
	}
	ch := make(chan Event, subBuffer)
	s.subs[ch] = struct{}{}
	return ch, true
}

func (s *Server) unsubscribe(ch chan Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.subs[ch]; ok {
		delete(s.subs, ch)
		close(ch)
	}
}

// events streams Server-Sent Events: a "status" snapshot first, then
// "registration", "call" and "dtmf" events as they happen.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming is not supported by this connection")
		return
	}
	ch, ok := s.subscribe()
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "the phone is stopping")
		return
	}
	defer s.unsubscribe(ch)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	st := s.snapshot()
	seq := 0
	send := func(e Event) bool {
		seq++
		data, err := json.Marshal(e)
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", seq, e.Type, data); err != nil {
			return false
		}
		flusher.Flush()
		return true
	}
	if !send(Event{Type: "status", Status: &st}) {
		return
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			flusher.Flush()
		case e, ok := <-ch:
			if !ok || !send(e) {
				return
			}
		}
	}
}
