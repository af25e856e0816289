package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/omniphone/omniphone/crm/rules"
	"github.com/omniphone/omniphone/settings"
)

// UserFilter limits a Router to some employees' events: a desktop passes
// its own user (or extension). Empty means every event.
type UserFilter struct {
	UserIDs    []int
	Extensions []string
	// Unmapped also takes callbacks with no employee mapped (CB1's
	// configured number); exactly one filtered Router per portal should.
	Unmapped bool
}

func (f UserFilter) empty() bool { return len(f.UserIDs) == 0 && len(f.Extensions) == 0 }

func (f UserFilter) match(id int, ext string) bool {
	if f.empty() {
		return true
	}
	return (id > 0 && slices.Contains(f.UserIDs, id)) || (ext != "" && slices.Contains(f.Extensions, ext))
}

// RouterOptions configure a Router.
type RouterOptions struct {
	// Settings returns the current settings (C1–C3, CB1); required. It is
	// called for every event, so a saved change applies to the next click.
	Settings func() settings.Settings
	// Directory maps users to extensions and entities to responsibles
	// (required; NewPortalDirectory).
	Directory Directory
	// Target places the calls (required).
	Target Target
	// Filter keeps only some employees' events.
	Filter UserFilter
	// Normalize rewrites the client's number for the PBX, e.g. the phone's
	// dial plan. The default only strips spaces and punctuation
	// (CleanNumber).
	Normalize func(number string) (string, error)
	// ClickMaxAge drops clicks older than this (default 2 min): a click
	// that waited in the offline queue while the desktop was off must not
	// dial an hour later. Negative disables the check.
	ClickMaxAge time.Duration
	// CallbackMaxAge is the same for callbacks (default 1 h).
	CallbackMaxAge time.Duration
	// DedupWindow is how long a CALL_ID (or a callback's number and entity)
	// is remembered so that the same event delivered twice — an online and
	// an offline binding both active, or a double click — dials once
	// (default 20 s). Keep it short: Bitrix24 hands out the same CALL_ID
	// again for a new click on the same number while the first call is not
	// finished, and that second click must dial.
	DedupWindow time.Duration
	// Logger receives ignored events (default: discard).
	Logger *slog.Logger
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Router decides what to dial for an event and hands it to the Target. It
// implements Dispatcher and is safe for concurrent use.
type Router struct {
	opts RouterOptions
	log  *slog.Logger

	mu   sync.Mutex
	seen map[string]time.Time
}

var _ Dispatcher = (*Router)(nil)

// NewRouter returns a Router.
func NewRouter(opts RouterOptions) (*Router, error) {
	switch {
	case opts.Settings == nil:
		return nil, errors.New("events: router needs settings")
	case opts.Directory == nil:
		return nil, errors.New("events: router needs a directory")
	case opts.Target == nil:
		return nil, errors.New("events: router needs a target")
	}
	if opts.Normalize == nil {
		opts.Normalize = CleanNumber
	}
	if opts.ClickMaxAge == 0 {
		opts.ClickMaxAge = 2 * time.Minute
	}
	if opts.CallbackMaxAge == 0 {
		opts.CallbackMaxAge = time.Hour
	}
	if opts.DedupWindow <= 0 {
		opts.DedupWindow = 20 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Router{opts: opts, log: opts.Logger, seen: map[string]time.Time{}}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// Decision is what the Router makes of an event: a call to place, or why
// the event is acknowledged and ignored.
type Decision struct {
	// Dial is nil when the event is ignored.
	Dial *DialRequest
	// Ignored says why Dial is nil.
	Ignored string
	Trace   rules.Trace
}

func ignore(tr rules.Trace, format string, args ...any) (Decision, error) {
	return Decision{Ignored: fmt.Sprintf(format, args...), Trace: tr}, nil
}

// Dispatch implements Dispatcher: it decides and dials. Ignored events
// (C1 or CB1 off, another employee's, stale, repeated) return nil; a
// failed lookup or dial returns the error.
func (r *Router) Dispatch(ctx context.Context, ev Event) error {
	d, err := r.Decide(ctx, ev)
	if err != nil {
		return fmt.Errorf("route %s %s: %w", ev.Kind, ev.CallID, err)
	}
	if d.Dial == nil {
		r.log.Info("bitrix24 event acknowledged and ignored", "event", ev.Name, "call_id", ev.CallID,
			"user_id", ev.UserID, "why", d.Ignored)
		return nil
	}
	if !r.firstTime(dedupKey(ev)) {
		r.log.Info("bitrix24 event ignored: already dialled", "event", ev.Name, "call_id", ev.CallID)
		return nil
	}
	err = r.opts.Target.Dial(ctx, *d.Dial)
	if errors.Is(err, ErrNotConnected) {
		r.log.Warn("bitrix24 event acknowledged: the employee's desktop is not connected", "event", ev.Name,
			"call_id", ev.CallID, "user_id", d.Dial.UserID, "extension", d.Dial.Extension)
		return nil
	}
	if err != nil {
		return fmt.Errorf("dial %s for %s %s: %w", d.Dial.Number, ev.Kind, ev.CallID, err)
	}
	return nil
}

// Decide makes the decision without dialling.
func (r *Router) Decide(ctx context.Context, ev Event) (Decision, error) {
	switch ev.Kind {
	case KindClickToCall:
		return r.clickToCall(ctx, ev)
	case KindCallback:
		return r.callback(ctx, ev)
	}
	return ignore(nil, "%s: %s", ev.Name, ErrUnsupported)
}

func (r *Router) stale(ev Event, maxAge time.Duration) (time.Duration, bool) {
	if maxAge < 0 || ev.Time.IsZero() {
		return 0, false
	}
	age := r.opts.Now().Sub(ev.Time)
	return age, age > maxAge
}

func (r *Router) clickToCall(ctx context.Context, ev Event) (Decision, error) {
	plan, tr := rules.ClickToCall(r.opts.Settings())
	if plan.Ignore {
		return ignore(tr, "C1: click-to-call is off")
	}
	if age, old := r.stale(ev, r.opts.ClickMaxAge); old {
		return ignore(tr, "C4: the click is %s old, too late to dial", age.Round(time.Second))
	}
	if ev.LineNumber == "" {
		r.log.Warn("click-to-call on the application's default line, whose CRM_AUTO_CREATE is Y: choose the Omniphone line as the default outgoing number (D2)",
			"call_id", ev.CallID)
	}
	u, known, err := r.opts.Directory.User(ctx, ev.UserID)
	if err != nil {
		if len(r.opts.Filter.Extensions) > 0 {
			return Decision{Trace: tr}, fmt.Errorf("employee %d: %w", ev.UserID, err)
		}
		r.log.Warn("employee lookup failed; dialling without the extension", "user_id", ev.UserID, "err", err)
	}
	if !known {
		u = rules.User{ID: ev.UserID}
	}
	if !r.opts.Filter.match(ev.UserID, u.InnerPhone) {
		return ignore(tr, "another employee's click (user %d)", ev.UserID)
	}
	number, err := r.opts.Normalize(ev.PhoneNumber)
	if err != nil {
		return Decision{Trace: tr}, fmt.Errorf("number for the PBX: %w", err)
	}
	return Decision{Trace: tr, Dial: &DialRequest{
		Kind: KindClickToCall, Portal: ev.Domain, UserID: ev.UserID, Extension: u.InnerPhone,
		Number: number, RawNumber: ev.PhoneNumber, PhoneInternational: ev.PhoneInternational,
		CallerID: plan.CallerID, CallID: ev.CallID, Entity: ev.Entity, LineNumber: ev.LineNumber,
		EventTime: ev.Time, Trace: tr,
	}}, nil
}

func (r *Router) callback(ctx context.Context, ev Event) (Decision, error) {
	s := r.opts.Settings()
	if !s.Effective().Callback.Enabled {
		_, tr := rules.Callback(s, rules.Snapshot{})
		return ignore(tr, "CB1: callback is off")
	}
	snap, err := r.snapshot(ctx, ev.Entity)
	if err != nil {
		return Decision{}, err
	}
	plan, tr := rules.Callback(s, snap)
	if age, old := r.stale(ev, r.opts.CallbackMaxAge); old {
		return ignore(tr, "CB1: the callback request is %s old", age.Round(time.Second))
	}
	number, err := r.opts.Normalize(ev.PhoneNumber)
	if err != nil {
		return Decision{Trace: tr}, fmt.Errorf("number for the PBX: %w", err)
	}
	req := &DialRequest{
		Kind: KindCallback, Portal: ev.Domain, Number: number, RawNumber: ev.PhoneNumber,
		Entity: ev.Entity, LineNumber: ev.LineNumber, RingFirst: true, Text: ev.Text, Voice: ev.Voice,
		EventTime: ev.Time, Trace: tr,
	}
	switch {
	case plan.Employee != nil:
		if !r.opts.Filter.match(plan.Employee.UserID, plan.Employee.Extension) {
			return ignore(tr, "another employee's callback (user %d)", plan.Employee.UserID)
		}
		req.UserID, req.Extension = plan.Employee.UserID, plan.Employee.Extension
	default:
		if !r.opts.Filter.empty() && !r.opts.Filter.Unmapped {
			return ignore(tr, "a callback with no mapped employee, left to the router that takes them")
		}
		if plan.Number == "" {
			return Decision{Trace: tr}, errors.New("CB1: no employee is mapped and no callback number is configured")
		}
		req.FallbackNumber = plan.Number
	}
	return Decision{Trace: tr, Dial: req}, nil
}

// snapshot is what rules.Callback needs: the employees and the entity the
// event names with its responsible.
func (r *Router) snapshot(ctx context.Context, ref EntityRef) (rules.Snapshot, error) {
	snap := rules.Snapshot{Mode: rules.ModeClassic}
	if ref.IsZero() {
		return snap, nil
	}
	resp, err := r.opts.Directory.Responsible(ctx, ref)
	if err != nil {
		return snap, fmt.Errorf("CB1: %w", err)
	}
	if resp <= 0 {
		return snap, nil
	}
	if snap.Users, err = r.opts.Directory.Users(ctx); err != nil {
		return snap, fmt.Errorf("CB1: %w", err)
	}
	e := rules.Entity{ID: ref.ID, Responsible: resp}
	switch ref.Type {
	case "CONTACT":
		snap.Contacts = []rules.Entity{e}
	case "COMPANY":
		snap.Companies = []rules.Entity{e}
	case "DEAL":
		snap.Deals = []rules.Entity{e}
	default:
		snap.Leads = []rules.Entity{e}
	}
	return snap, nil
}

// dedupKey identifies a call across deliveries.
func dedupKey(ev Event) string {
	if ev.CallID != "" {
		return "call:" + ev.CallID
	}
	return fmt.Sprintf("callback:%s|%s|%s:%d", ev.Domain, ev.PhoneNumber, ev.Entity.Type, ev.Entity.ID)
}

// firstTime records key and reports whether it was not seen within the
// dedup window.
func (r *Router) firstTime(key string) bool {
	now := r.opts.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.seen[key]; ok && now.Sub(t) < r.opts.DedupWindow {
		return false
	}
	if len(r.seen) > 1024 {
		for k, t := range r.seen {
			if now.Sub(t) >= r.opts.DedupWindow {
				delete(r.seen, k)
			}
		}
	}
	r.seen[key] = now
	return true
}

// CleanNumber is the default Normalize: it keeps digits, '*', '#' and a
// leading '+', drops spaces and punctuation, cuts an extension after ';'
// or ',', and refuses letters (a PBX would reject them anyway).
func CleanNumber(number string) (string, error) {
	raw := strings.TrimSpace(number)
	if i := strings.IndexAny(raw, ";,"); i >= 0 {
		raw = raw[:i]
	}
	var b strings.Builder
	for i, c := range raw {
		switch {
		case c >= '0' && c <= '9', c == '*', c == '#':
			b.WriteRune(c)
		case c == '+' && i == 0:
			b.WriteRune(c)
		case strings.ContainsRune(" -.()/\u00a0\t", c):
		default:
			return "", fmt.Errorf("number %q: unexpected character %q", number, c)
		}
	}
	n := b.String()
	if n == "" || n == "+" {
		return "", fmt.Errorf("number %q has no digits", number)
	}
	return n, nil
}
