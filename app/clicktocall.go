package app

import (
	"context"
	"errors"
	"fmt"

	"fyne.io/fyne/v2/lang"

	"github.com/omniphone/omniphone/crm/events"
	"github.com/omniphone/omniphone/sip"
)

// errNoPhone means a click arrived but the phone cannot call.
var errNoPhone = errors.New("the phone is not registered")

// Dial places a call Bitrix24 asked for (click-to-call, C4; callback,
// CB1); the app is the events Router's Target. It returns once the call is
// started — or, for a callback, once the operator's card rings.
func (a *App) Dial(ctx context.Context, req events.DialRequest) error {
	if a.opts.Phone == nil {
		return errNoPhone
	}
	link := callLink{Bitrix24CallID: req.CallID, VirtualNumber: req.CallerID}
	if req.RingFirst {
		number := req.Number
		if req.FallbackNumber != "" {
			number = req.FallbackNumber
		}
		a.do(func() { a.ringCallback(number, req, link) })
		return ctx.Err()
	}
	a.opts.Logger.Info("dialling for Bitrix24", "kind", req.Kind.String(), "number", req.Number, "call_id", req.CallID)
	errc := make(chan error, 1)
	// A call in progress waits on hold, as when the operator dials.
	if _, err := a.holdActive(ctx); err != nil {
		return err
	}
	a.do(func() {
		_, err := a.dialLinked(req.Number, link)
		errc <- err
	})
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// dialLinked dials number and remembers what Bitrix24 knows of the call,
// for its record. It runs on the UI goroutine.
func (a *App) dialLinked(number string, link callLink) (callHandle, error) {
	if !a.registered {
		return nil, errNoPhone
	}
	// C3: the client sees the overriding caller ID, if any.
	c, err := a.opts.Phone.Dial(number, sip.WithCallerID(link.VirtualNumber))
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", number, err)
	}
	a.calls.mu.Lock()
	a.calls.links[c.Info().ID] = link
	a.calls.mu.Unlock()
	a.calls.addLine(c)
	a.showCall(c)
	a.lookupForCard(c.Info().ID, number, "")
	return c, nil
}

// ringCallback shows the callback card: the operator accepts and the
// client is dialled (CB1).
func (a *App) ringCallback(number string, req events.DialRequest, link callLink) {
	a.calls.mu.Lock()
	a.calls.callback = func() {
		if _, err := a.dialLinked(number, link); err != nil {
			a.showError(err)
		}
	}
	a.calls.mu.Unlock()
	st := buildCardState(number, "", lookupState{Pending: a.opts.Cards != nil})
	st.Title = lang.L("Callback request") + ": " + st.Number
	if req.Text != "" {
		st.Status = req.Text
	}
	a.card.show(st)
}

// lookupForCard shows the CRM card for a number the operator calls (C4:
// the card of the clicked client).
func (a *App) lookupForCard(callID, number, name string) {
	if a.opts.Cards == nil || !a.opts.Settings.App.Card.Show {
		return
	}
	show := func(l lookupState) {
		st := buildCardState(number, name, l)
		st.Outgoing = true
		a.card.show(st)
	}
	show(lookupState{Pending: true})
	a.goAsync(func(ctx context.Context) {
		card, err := a.opts.Cards.Lookup(ctx, number)
		a.calls.rememberName(callID, card)
		a.do(func() {
			if a.card.root.Visible() {
				show(lookupState{Card: card, Err: err})
			}
		})
	})
}
