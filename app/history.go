package app

import (
	"fmt"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/crm/lookup"
	"github.com/omniphone/omniphone/crm/rules"
	"github.com/omniphone/omniphone/settings"
)

// historyEntry is one finished call and its CRM sync state (SPEC D1).
type historyEntry struct {
	Record crm.Call
	// Name is the caller's CRM name when the card found one.
	Name string
	// State is queued, done or failed (the sync engine's words), or
	// "not sent" when there is no sync engine.
	State  string
	Reason string
	Trace  rules.Trace
	// Elsewhere: another device of the operator answered the call; it is
	// neither missed nor sent to the sync engine.
	Elsewhere bool
}

// historyView lists finished calls, newest first, with their sync state;
// tapping one shows its decision trace.
type historyView struct {
	mu      sync.Mutex
	entries []historyEntry
	list    *widget.List
	empty   *widget.Label
	win     func() fyne.Window
	root    fyne.CanvasObject
	// retry re-queues a failed call (nil: the sync engine cannot).
	retry func(id string)
	// traceDialog is the open trace, if any (tests press its buttons).
	traceDialog dialog.Dialog
}

func newHistoryView(win func() fyne.Window) *historyView {
	v := &historyView{win: win}
	v.empty = widget.NewLabel(lang.L("No calls yet. Every finished call appears here with its CRM sync state."))
	v.empty.Wrapping = fyne.TextWrapWord
	v.empty.Alignment = fyne.TextAlignCenter
	v.list = widget.NewList(v.count, func() fyne.CanvasObject {
		l := widget.NewLabel("")
		l.Wrapping = fyne.TextWrapWord
		return l
	}, v.render)
	v.list.OnSelected = func(id widget.ListItemID) {
		v.list.UnselectAll()
		v.showTrace(id)
	}
	v.root = container.NewStack(v.list, container.NewVBox(v.empty))
	v.list.Hide()
	return v
}

func (v *historyView) count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.entries)
}

func (v *historyView) entry(i int) (historyEntry, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if i < 0 || i >= len(v.entries) {
		return historyEntry{}, false
	}
	return v.entries[i], true
}

func (v *historyView) render(id widget.ListItemID, o fyne.CanvasObject) {
	if e, ok := v.entry(id); ok {
		o.(*widget.Label).SetText(historyLine(e))
	}
}

// add puts a call at the top; update changes its sync state. Both run on
// the UI goroutine.
func (v *historyView) add(e historyEntry) {
	v.mu.Lock()
	v.entries = append([]historyEntry{e}, v.entries...)
	v.mu.Unlock()
	v.empty.Hide()
	v.list.Show()
	v.list.Refresh()
}

func (v *historyView) update(id, state, reason string, trace rules.Trace) {
	v.mu.Lock()
	for i := range v.entries {
		if v.entries[i].Record.ID == id {
			v.entries[i].State, v.entries[i].Reason = state, reason
			if trace != nil {
				v.entries[i].Trace = trace
			}
		}
	}
	v.mu.Unlock()
	v.list.Refresh()
}

// historyLine is one row: direction, number, outcome, talk time, start
// time and the sync state.
func historyLine(e historyEntry) string {
	r := e.Record
	arrow := "↙"
	if r.Direction == settings.DirectionOut {
		arrow = "↗"
	}
	who := lookup.Format(lookup.Normalize(r.ContactNumber))
	if e.Name != "" {
		who = e.Name + " · " + who
	}
	word := outcomeWord(r.Outcome)
	if e.Elsewhere {
		word = lang.L("answered on another device")
	}
	parts := []string{arrow + " " + who, word}
	if r.Answered() {
		parts = append(parts, clock(talkDuration(r)))
	}
	parts = append(parts, r.StartedAt.Local().Format("02.01 15:04"))
	return strings.Join(parts, " · ") + "\n" + syncWord(e)
}

func outcomeWord(o crm.Outcome) string {
	switch o {
	case crm.OutcomeAnswered:
		return lang.L("answered")
	case crm.OutcomeMissed:
		return lang.L("missed")
	case crm.OutcomeBusy:
		return lang.L("busy")
	default:
		return lang.L("failed")
	}
}

func syncWord(e historyEntry) string {
	switch e.State {
	case "done":
		return lang.L("CRM: synced")
	case "failed":
		return lang.L("CRM: failed") + " — " + e.Reason
	case "queued":
		return lang.L("CRM: queued")
	case stateChecking:
		return lang.L("CRM: checking…")
	default:
		return lang.L("CRM: not sent") + nonEmptyPrefix(" — ", e.Reason)
	}
}

// showTrace opens the decision trace of a call (SPEC D1).
func (v *historyView) showTrace(id int) {
	e, ok := v.entry(id)
	if !ok {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n\n", historyLine(e), e.Record.ID)
	if len(e.Trace) == 0 {
		b.WriteString(lang.L("The decision trace appears once the sync engine has processed the call."))
	}
	for _, s := range e.Trace {
		mark := "·"
		if s.Fired {
			mark = "✓"
		}
		fmt.Fprintf(&b, "%s %s: %s\n", mark, s.Rule, s.Why)
	}
	text := widget.NewLabel(b.String())
	text.Wrapping = fyne.TextWrapWord
	title, body := lang.L("Why the CRM got what it got"), container.NewVScroll(text)
	var d dialog.Dialog
	if e.State == "failed" && v.retry != nil {
		// Retry once the cause is fixed (e.g. the portal reconnected); the
		// sync engine keeps its exactly-once guarantees (crm/sync Retry).
		id := e.Record.ID
		d = dialog.NewCustomConfirm(title, lang.L("Retry"), lang.L("Close"), body, func(ok bool) {
			if ok {
				v.retry(id)
			}
		}, v.win())
	} else {
		d = dialog.NewCustom(title, lang.L("Close"), body, v.win())
	}
	d.Resize(fyne.NewSize(560, 520))
	v.traceDialog = d
	d.Show()
}
