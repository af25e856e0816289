package calllog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/omniphone/omniphone/crm/events"
	crmsync "github.com/omniphone/omniphone/crm/sync"
	"github.com/omniphone/omniphone/settings"
	"github.com/omniphone/omniphone/sip"
)

// Sink takes finished calls' records (*crmsync.Engine embedded, or the
// omnisync client in team mode).
type Sink interface {
	Submit(ctx context.Context, record []byte) (crmsync.CallStatus, bool, error)
}

// SubmitTimeout bounds handing one record to the sink; it is a local write
// (or one request in team mode).
const SubmitTimeout = 15 * time.Second

// Options configure a [Log].
type Options struct {
	// Account is the SIP account whose calls are recorded.
	Account settings.SIPAccount
	// Sink takes the records; nil means they are only logged.
	Sink   Sink
	Logger *slog.Logger
	// OnSubmitted, if set, is called with each record and the outcome of
	// handing it over (tests, status displays).
	OnSubmitted func(rec []byte, st crmsync.CallStatus, err error)
}

// Log records finished calls and submits them. Its methods are safe for
// concurrent use; [Log.Ended] can be called from sip's event goroutines.
type Log struct {
	opts  Options
	mu    sync.Mutex
	links map[string]Link // by sip call ID
	wg    sync.WaitGroup
}

// New returns a Log for opts.
func New(opts Options) *Log {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Log{opts: opts, links: map[string]Link{}}
}

// Link remembers what is known about call id beyond SIP, for its record.
func (l *Log) Link(id string, link Link) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.links[id] = link
}

// Ended builds the record of a call that ended and submits it in the
// background; other events are ignored. The hand-over does not depend on
// any context of the caller: [Log.Close] waits for it.
func (l *Log) Ended(ev sip.CallEvent) {
	if ev.State != sip.CallEnded || ev.Call == nil {
		return
	}
	info := ev.Call.Info()
	l.mu.Lock()
	link := l.links[info.ID]
	delete(l.links, info.ID)
	l.mu.Unlock()
	rec := Record(info, ev, l.opts.Account, WithAttributes(link, ev.Call.Attributes()))
	data, err := json.Marshal(rec)
	if err != nil {
		l.opts.Logger.Error("call record not encoded", "call", rec.ID, "err", err)
		return
	}
	if l.opts.Sink == nil {
		l.opts.Logger.Info("call ended; no sync engine, record not sent", "call", rec.ID, "outcome", rec.Outcome)
		return
	}
	if AnsweredElsewhere(ev) {
		l.opts.Logger.Info("call answered on another device; record not sent", "call", rec.ID)
		return
	}
	l.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), SubmitTimeout)
		defer cancel()
		st, _, err := l.opts.Sink.Submit(ctx, data)
		if err != nil {
			l.opts.Logger.Error("call not handed to the sync engine", "call", rec.ID, "err", err)
		} else {
			l.opts.Logger.Info("call handed to the sync engine", "call", rec.ID, "state", st.State)
		}
		if l.opts.OnSubmitted != nil {
			l.opts.OnSubmitted(data, st, err)
		}
	})
}

// Close waits for the records being handed over.
func (l *Log) Close() { l.wg.Wait() }

// ErrCallbackNeedsWindow is returned for a Bitrix24 callback request: it
// rings the operator first with a callback card, which a phone without a
// window cannot show.
var ErrCallbackNeedsWindow = errors.New("a callback request rings the operator first; the headless phone has no window to ring")

// Dialer places Bitrix24's click-to-call requests on a phone and links
// each call to the Bitrix24 call (CALL_ID), so that the sync engine
// finishes that call instead of registering another (C4). It implements
// events.Target.
type Dialer struct {
	Phone interface {
		Dial(target string, opts ...sip.DialOption) (*sip.Call, error)
	}
	Log *Log
}

var _ events.Target = Dialer{}

// Dial implements events.Target.
func (d Dialer) Dial(ctx context.Context, req events.DialRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if req.RingFirst {
		return ErrCallbackNeedsWindow
	}
	// C3: the client sees the overriding caller ID, if any.
	c, err := d.Phone.Dial(req.Number, sip.WithCallerID(req.CallerID))
	if err != nil {
		return fmt.Errorf("call %s: %w", req.Number, err)
	}
	d.Log.Link(c.ID(), Link{Bitrix24CallID: req.CallID, VirtualNumber: req.CallerID})
	return nil
}
