package lookup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/sync/singleflight"

	"github.com/omniphone/omniphone/crm/b24"
)

// Card is what the CRM knows about a number.
type Card struct {
	// Number is the normalised number; Formatted is for display.
	Number    string
	Formatted string
	// Matches lists every entity the number belongs to, contacts first;
	// empty when the number is unknown to the CRM.
	Matches []Match
	// Detailed is set once Details filled in deals and the last call.
	Detailed bool
	// LastCall is the most recent call activity with this client, if any.
	LastCall *Call
	// Cached says the card came from the cache.
	Cached bool
}

// Match is one CRM entity of the number.
type Match struct {
	Type b24.EntityType
	ID   int
	Name string
	// Responsible is the manager: ID, name and whether they are at work
	// now (Bitrix24 time tracking; unknown when not used).
	ResponsibleID     int
	ResponsibleName   string
	ResponsibleStatus WorkStatus
	// URL opens the entity in Bitrix24.
	URL string
	// OpenDeals are the contact's or company's deals not yet closed.
	OpenDeals []Deal
}

// Deal is an open deal on the card.
type Deal struct {
	ID        int
	Title     string
	StageID   string
	StageName string
	URL       string
}

// Call is the last call activity.
type Call struct {
	Subject   string
	Start     time.Time
	Completed bool
	Incoming  bool
}

// WorkStatus is a manager's time-tracking state.
type WorkStatus string

// Work states (TIMEMAN_STATUS).
const (
	AtWork      WorkStatus = "at_work"
	OnBreak     WorkStatus = "on_break"
	OffWork     WorkStatus = "off_work"
	UnknownWork WorkStatus = "unknown"
)

func workStatus(timeman string) WorkStatus {
	switch timeman {
	case "OPENED":
		return AtWork
	case "PAUSED":
		return OnBreak
	case "CLOSED", "EXPIRED":
		return OffWork
	default:
		return UnknownWork
	}
}

// Options configure a Lookup.
type Options struct {
	Client *b24.Client
	// Portal is the portal's address, for the entity links.
	Portal string
	// TTL is how long a card stays fresh (default 2 minutes); Size bounds
	// the cache (default 500 numbers).
	TTL  time.Duration
	Size int
	// Timeout bounds one lookup (default 3 s): past it the card says the
	// CRM is unavailable rather than waiting.
	Timeout time.Duration
	// DirectoryTTL is how long employee names and stage names are reused
	// (default 10 minutes).
	DirectoryTTL time.Duration
}

// Lookup finds callers in the CRM. It is safe for concurrent use.
type Lookup struct {
	opts   Options
	cache  *expirable.LRU[string, Card]
	flight singleflight.Group

	mu       sync.Mutex
	dirUntil time.Time
	users    map[int]b24.User
	stages   map[string]string
}

// New returns a Lookup.
func New(opts Options) (*Lookup, error) {
	if opts.Client == nil {
		return nil, errors.New("lookup: no Bitrix24 client")
	}
	if opts.TTL <= 0 {
		opts.TTL = 2 * time.Minute
	}
	if opts.Size <= 0 {
		opts.Size = 500
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 3 * time.Second
	}
	if opts.DirectoryTTL <= 0 {
		opts.DirectoryTTL = 10 * time.Minute
	}
	opts.Portal = strings.TrimRight(opts.Portal, "/")
	return &Lookup{opts: opts, cache: expirable.NewLRU[string, Card](opts.Size, nil, opts.TTL)}, nil
}

// ErrNoNumber means there were no digits to look up (a hidden number).
var ErrNoNumber = errors.New("lookup: no number")

// Lookup returns the entities that own number: from the cache, or with one
// request. Concurrent lookups of one number share that request.
func (l *Lookup) Lookup(ctx context.Context, number string) (Card, error) {
	n := Normalize(number)
	if n == "" {
		return Card{}, ErrNoNumber
	}
	if c, ok := l.cache.Get(n); ok {
		c.Cached = true
		return c, nil
	}
	v, err, _ := l.flight.Do(n, func() (any, error) {
		ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
		defer cancel()
		found, err := l.opts.Client.SearchCRM(ctx, n)
		if err != nil {
			return Card{}, fmt.Errorf("look up %s: %w", n, err)
		}
		c := Card{Number: n, Formatted: Format(n), Matches: make([]Match, 0, len(found))}
		names := l.userNames() // never loaded here: ringing waits for one request only
		for _, f := range found {
			t := b24.EntityType(strings.ToLower(string(f.EntityType)))
			c.Matches = append(c.Matches, Match{
				Type: t, ID: int(f.EntityID), Name: string(f.Name),
				ResponsibleID: int(f.AssignedByID), ResponsibleName: names[int(f.AssignedByID)],
				ResponsibleStatus: workStatus(string(f.AssignedBy.TimemanStatus)),
				URL:               l.entityURL(t, int(f.EntityID)),
			})
		}
		l.cache.Add(n, c)
		return c, nil
	})
	if err != nil {
		return Card{}, err
	}
	return v.(Card), nil
}

// Details adds the open deals of the card's contacts and companies and the
// last call, in one batch request, and caches the fuller card.
func (l *Lookup) Details(ctx context.Context, c Card) (Card, error) {
	if c.Detailed || len(c.Matches) == 0 {
		return c, nil
	}
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	batch := b24.NewBatch()
	for i, m := range c.Matches {
		switch m.Type {
		case b24.Contact, b24.Company:
			batch.Add(fmt.Sprintf("deals%d", i), "crm.deal.list", b24.Params{
				"filter": b24.Params{strings.ToUpper(string(m.Type)) + "_ID": m.ID, "CLOSED": "N"},
				"select": []string{"ID", "TITLE", "STAGE_ID"}, "order": b24.Params{"ID": "DESC"},
			})
		}
	}
	first := c.Matches[0]
	batch.Add("last", "crm.activity.list", b24.Params{
		"filter": b24.Params{"TYPE_ID": b24.ActivityTypeCall, "OWNER_TYPE_ID": first.Type.TypeID(), "OWNER_ID": first.ID},
		"select": []string{"ID", "SUBJECT", "START_TIME", "COMPLETED", "DIRECTION"}, "order": b24.Params{"ID": "DESC"},
	})
	res, err := l.opts.Client.Batch(ctx, batch)
	if err != nil {
		return c, fmt.Errorf("card details for %s: %w", c.Number, err)
	}
	if err := l.Warm(ctx); err != nil {
		return c, fmt.Errorf("card details for %s: %w", c.Number, err)
	}
	names, stages := l.userNames(), l.stageNames()
	out := c
	out.Matches = append([]Match(nil), c.Matches...)
	for i := range out.Matches {
		if out.Matches[i].ResponsibleName == "" {
			out.Matches[i].ResponsibleName = names[out.Matches[i].ResponsibleID]
		}
		var deals []b24.Entity
		if err := res.Decode(fmt.Sprintf("deals%d", i), &deals); err != nil {
			continue // not a contact or company, or that list failed: the card keeps the rest
		}
		for _, d := range deals {
			out.Matches[i].OpenDeals = append(out.Matches[i].OpenDeals, Deal{
				ID: int(d.ID), Title: string(d.Title), StageID: string(d.StageID),
				StageName: stages[string(d.StageID)], URL: l.entityURL(b24.Deal, int(d.ID)),
			})
		}
	}
	var acts []b24.Activity
	if err := res.Decode("last", &acts); err == nil && len(acts) > 0 {
		a := acts[0]
		out.LastCall = &Call{Subject: string(a.Subject), Start: a.StartTime.Time, Completed: bool(a.Completed),
			Incoming: a.Direction == b24.DirectionIncoming}
	}
	out.Detailed = true
	l.cache.Add(c.Number, out)
	return out, nil
}

// Invalidate forgets what is cached for number, after the engine wrote to
// the CRM about it.
func (l *Lookup) Invalidate(number string) {
	l.cache.Remove(Normalize(number))
}

func (l *Lookup) entityURL(t b24.EntityType, id int) string {
	if l.opts.Portal == "" || t == "" || id <= 0 {
		return ""
	}
	return fmt.Sprintf("%s/crm/%s/details/%d/", l.opts.Portal, t, id)
}

// userNames returns the employee names loaded by Warm, by user ID.
func (l *Lookup) userNames() map[int]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	names := make(map[int]string, len(l.users))
	for id, u := range l.users {
		names[id] = u.FullName()
	}
	return names
}

func (l *Lookup) stageNames() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stages
}

// Warm loads the employee and stage names the cards show, unless they were
// loaded less than DirectoryTTL ago. The app calls it at start and on
// "Sync employees" (P5), so that a ringing card needs no extra request.
func (l *Lookup) Warm(ctx context.Context) error {
	l.mu.Lock()
	fresh := time.Now().Before(l.dirUntil)
	l.mu.Unlock()
	if fresh {
		return nil
	}
	users, err := l.opts.Client.Users(ctx, b24.Params{"ACTIVE": true})
	if err != nil {
		return fmt.Errorf("load employees: %w", err)
	}
	stages, err := b24.ListAll[b24.Stage](ctx, l.opts.Client, "crm.status.list", b24.Params{"order": b24.Params{"SORT": "ASC"}})
	if err != nil {
		return fmt.Errorf("load stages: %w", err)
	}
	byID := make(map[int]b24.User, len(users))
	for _, u := range users {
		byID[int(u.ID)] = u
	}
	names := make(map[string]string, len(stages))
	for _, s := range stages {
		names[string(s.StatusID)] = string(s.Name)
	}
	l.mu.Lock()
	l.users, l.stages, l.dirUntil = byID, names, time.Now().Add(l.opts.DirectoryTTL)
	l.mu.Unlock()
	return nil
}
