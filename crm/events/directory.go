package events

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/rules"
)

// Directory is what the Router reads from the portal: employees with their
// extensions (UF_PHONE_INNER), and who is responsible for a CRM entity.
type Directory interface {
	// User returns one employee; ok is false when the portal has no such
	// user.
	User(ctx context.Context, id int) (u rules.User, ok bool, err error)
	// Users returns every employee, inactive ones included.
	Users(ctx context.Context) ([]rules.User, error)
	// Responsible returns the entity's ASSIGNED_BY_ID; 0 without error when
	// the entity does not exist.
	Responsible(ctx context.Context, ref EntityRef) (int, error)
}

// DirectoryOptions configure a PortalDirectory.
type DirectoryOptions struct {
	// TTL is how long the user list is trusted (default 10 min).
	TTL time.Duration
	// MissRefresh is the least time between reloads caused by an unknown
	// user ID, a new employee (default 30 s).
	MissRefresh time.Duration
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// PortalDirectory is a Directory over the REST client: users from user.get,
// cached; responsibles from crm.<type>.get, not cached.
type PortalDirectory struct {
	client *b24.Client
	opts   DirectoryOptions

	mu     sync.Mutex
	users  []rules.User
	byID   map[int]rules.User
	loaded time.Time
}

var _ Directory = (*PortalDirectory)(nil)

// NewPortalDirectory returns a Directory reading the portal through client.
func NewPortalDirectory(client *b24.Client, opts DirectoryOptions) *PortalDirectory {
	if opts.TTL <= 0 {
		opts.TTL = 10 * time.Minute
	}
	if opts.MissRefresh <= 0 {
		opts.MissRefresh = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &PortalDirectory{client: client, opts: opts}
}

// Refresh reloads the users now (SPEC P5 "Sync employees"; call it at
// start so the first click does not wait for user.get).
func (d *PortalDirectory) Refresh(ctx context.Context) error {
	list, err := d.client.Users(ctx, b24.Params{})
	if err != nil {
		return fmt.Errorf("load employees: %w", err)
	}
	users := make([]rules.User, 0, len(list))
	byID := make(map[int]rules.User, len(list))
	for _, u := range list {
		ru := rules.User{ID: int(u.ID), Name: u.FullName(), InnerPhone: strings.TrimSpace(string(u.PhoneInner)), Active: bool(u.Active)}
		users = append(users, ru)
		byID[ru.ID] = ru
	}
	d.mu.Lock()
	d.users, d.byID, d.loaded = users, byID, d.opts.Now()
	d.mu.Unlock()
	return nil
}

// age returns how old the cached list is; ok is false before the first load.
func (d *PortalDirectory) age() (time.Duration, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loaded.IsZero() {
		return 0, false
	}
	return d.opts.Now().Sub(d.loaded), true
}

// Users implements Directory.
func (d *PortalDirectory) Users(ctx context.Context) ([]rules.User, error) {
	if age, ok := d.age(); !ok || age > d.opts.TTL {
		if err := d.Refresh(ctx); err != nil {
			return nil, err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.users, nil
}

// User implements Directory. An unknown ID reloads the list, at most once
// per MissRefresh.
func (d *PortalDirectory) User(ctx context.Context, id int) (rules.User, bool, error) {
	if _, err := d.Users(ctx); err != nil {
		return rules.User{}, false, err
	}
	d.mu.Lock()
	u, ok := d.byID[id]
	d.mu.Unlock()
	if ok {
		return u, true, nil
	}
	if age, _ := d.age(); age >= d.opts.MissRefresh {
		if err := d.Refresh(ctx); err != nil {
			return rules.User{}, false, err
		}
		d.mu.Lock()
		u, ok = d.byID[id]
		d.mu.Unlock()
	}
	return u, ok, nil
}

// Responsible implements Directory.
func (d *PortalDirectory) Responsible(ctx context.Context, ref EntityRef) (int, error) {
	t := b24.EntityType(strings.ToLower(ref.Type))
	if t.TypeID() == 0 || ref.ID <= 0 {
		return 0, nil
	}
	e, err := d.client.GetEntity(ctx, t, ref.ID)
	if b24.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s %d: %w", ref.Type, ref.ID, err)
	}
	return int(e.AssignedByID), nil
}
