package app

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// linkRetry is how often OpenLink tries again while the phone registers.
const linkRetry = 200 * time.Millisecond

// OpenLink dials a tel:, callto: or sip: link's target (SPEC C5; the
// caller parses the link) and brings the window to the front. A link that
// started the app waits for the registration until ctx ends.
func (a *App) OpenLink(ctx context.Context, target string) error {
	if a.opts.Phone == nil {
		return errNoPhone
	}
	a.Raise()
	// A call in progress waits on hold, as when the operator dials.
	if _, err := a.holdActive(ctx); err != nil {
		return err
	}
	for {
		errc := make(chan error, 1)
		a.do(func() {
			_, err := a.dialLinked(target, callLink{})
			errc <- err
		})
		var err error
		select {
		case err = <-errc:
		case <-ctx.Done():
			return fmt.Errorf("call %s: %w", target, ctx.Err())
		}
		if !errors.Is(err, errNoPhone) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("call %s: %w", target, err)
		case <-time.After(linkRetry):
		}
	}
}

// Raise shows the main window (also from the tray) and asks for the focus:
// a second launch of the app brings this one to the front.
func (a *App) Raise() {
	a.do(func() {
		a.win.Show()
		a.win.RequestFocus()
	})
}
