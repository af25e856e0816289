package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2/lang"

	"github.com/omniphone/omniphone/crm/lookup"
	"github.com/omniphone/omniphone/sip"
)

// The operator's lines: every call the UI knows that has not ended. One is
// on screen (callBook.active); the others wait on hold, or ring, and are
// listed under it with a Switch button. The phone keeps the audio on the
// call activated last and holds the other when one is answered or resumed
// (sip: call waiting); the app holds the current call itself before it
// dials another.

// holdTimeout bounds one hold or resume re-INVITE.
const holdTimeout = 10 * time.Second

// addLine remembers a call the UI now knows.
func (b *callBook) addLine(c callHandle) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !slices.Contains(b.lines, c) {
		b.lines = append(b.lines, c)
	}
}

// dropLine forgets an ended call and the consultation it was part of, and
// returns the line to show next (the most recent other one), if any.
func (b *callBook) dropLine(c callHandle) callHandle {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = slices.DeleteFunc(b.lines, func(l callHandle) bool { return l == c })
	id := c.Info().ID
	delete(b.consults, id)
	for k, held := range b.consults {
		if held == c {
			delete(b.consults, k)
		}
	}
	if len(b.lines) == 0 {
		return nil
	}
	return b.lines[len(b.lines)-1]
}

// others are the lines not on screen, oldest first.
func (b *callBook) others() []callHandle {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]callHandle, 0, len(b.lines))
	for _, l := range b.lines {
		if l != b.active {
			out = append(out, l)
		}
	}
	return out
}

// line finds a line by call ID.
func (b *callBook) line(id string) callHandle {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.lines {
		if l.Info().ID == id {
			return l
		}
	}
	return nil
}

// consultFor returns the held call a consult call was dialled for.
func (b *callBook) consultFor(c callHandle) callHandle {
	if c == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.consults[c.Info().ID]
}

// linesShown describes the other lines for the call view.
func (a *App) linesShown() []lineShown {
	others := a.calls.others()
	out := make([]lineShown, 0, len(others))
	for _, c := range others {
		info := c.Info()
		out = append(out, lineShown{ID: info.ID, Peer: a.peerText(info), State: stateText(info.State)})
	}
	return out
}

// peerText names the other party of a call: the CRM name the card found,
// else the SIP display name, then the number.
func (a *App) peerText(info sip.Info) string {
	s := lookup.Format(lookup.Normalize(info.Remote))
	if s == "" {
		s = info.Remote
	}
	a.calls.mu.Lock()
	name := a.calls.names[info.ID]
	a.calls.mu.Unlock()
	if name == "" {
		name = info.RemoteName
	}
	if name != "" {
		s = name + " · " + s
	}
	return s
}

// rememberName keeps the caller's CRM name (the first match) for the call
// view and History.
func (b *callBook) rememberName(id string, card lookup.Card) {
	if len(card.Matches) == 0 || card.Matches[0].Name == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.names[id] = card.Matches[0].Name
}

func stateText(st sip.CallState) string {
	switch st {
	case sip.CallActive:
		return lang.L("Talking")
	case sip.CallHeld:
		return lang.L("On hold")
	case sip.CallIncoming:
		return lang.L("Incoming call")
	default:
		return lang.L("Calling…")
	}
}

// holdActive puts the call on screen on hold before another call takes the
// operator's attention (dialling a second call or a consultation). It
// returns that call, or nil when there was none to hold.
func (a *App) holdActive(ctx context.Context) (callHandle, error) {
	c := a.activeCall()
	if c == nil || c.Info().State != sip.CallActive {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, holdTimeout)
	defer cancel()
	if err := c.Hold(ctx); err != nil {
		return c, fmt.Errorf("hold %s: %w", a.peerText(c.Info()), err)
	}
	return c, nil
}

// onSwitch shows another line and takes it off hold; the phone holds the
// call that had the audio.
func (a *App) onSwitch(id string) {
	c := a.calls.line(id)
	if c == nil {
		return
	}
	a.showCall(c)
	if c.Info().State != sip.CallHeld {
		return
	}
	a.goAsync(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, holdTimeout)
		defer cancel()
		if err := c.Resume(ctx); err != nil {
			a.do(func() { a.showError(fmt.Errorf("switch to %s: %w", a.peerText(c.Info()), err)) })
		}
	})
}

// onConsult starts an attended transfer: the current call goes on hold and
// target is dialled; "Complete transfer" then joins the two (RFC 5589 §7).
func (a *App) onConsult(target string) {
	target = strings.TrimSpace(target)
	c := a.activeCall()
	if c == nil || target == "" || a.opts.Phone == nil {
		return
	}
	a.goAsync(func(ctx context.Context) {
		held, err := a.holdActive(ctx)
		if err != nil {
			a.do(func() { a.showError(err) })
			return
		}
		a.do(func() {
			consult, err := a.dialLinked(target, callLink{})
			if err != nil {
				a.showError(fmt.Errorf("consult %s: %w", target, err))
				return
			}
			if held != nil {
				a.calls.mu.Lock()
				a.calls.consults[consult.Info().ID] = held
				a.calls.mu.Unlock()
				a.renderCall(consult)
			}
		})
	})
}

// onCompleteTransfer hands the held caller to the consulted colleague; both
// calls then end as transferred.
func (a *App) onCompleteTransfer() {
	consult := a.activeCall()
	held := a.calls.consultFor(consult)
	if held == nil {
		return
	}
	sc, _ := consult.(*sip.Call)
	a.goAsync(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		if err := held.AttendedTransfer(ctx, sc); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				err = errors.New(lang.L("the colleague's phone did not confirm the transfer"))
			}
			a.do(func() { a.showError(fmt.Errorf("transfer to %s: %w", a.peerText(consult.Info()), err)) })
		}
	})
}

// loadColleagues fills the transfer picker from the portal's employees
// once per run (they change rarely; "Sync employees" is in the settings).
func (a *App) loadColleagues() {
	if a.colleaguesLoaded || a.opts.DirectoryFor == nil {
		return
	}
	a.colleaguesLoaded = true
	a.goAsync(func(ctx context.Context) {
		dir, err := a.opts.DirectoryFor(a.opts.Settings)
		if err != nil {
			a.opts.Logger.Info("no colleagues for the transfer picker", "err", err)
			return
		}
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		list, err := dir.Employees(ctx)
		if err != nil {
			a.opts.Logger.Warn("colleagues for the transfer picker", "err", err)
			a.do(func() { a.colleaguesLoaded = false })
			return
		}
		a.do(func() { a.call.setColleagues(list) })
	})
}
