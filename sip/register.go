package sip

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
)

// registration is the REGISTER client of RFC 3261 §10.2. It is written on
// sipgo's Client rather than diago's RegisterTransaction because the latter
// unregisters with "Contact: *" (removing every device of the user, §10.2.2)
// and reads the granted expiry only from the Expires header, ignoring the
// Contact ";expires" parameter that Kamailio and most registrars return.
type registration struct {
	p      *Phone
	callID gosip.CallIDHeader
	tag    string
	cseq   uint32
	// registered is true while we believe the registrar holds our binding.
	registered bool

	// registrars are the account's Registrar then its failover registrars;
	// target is the index of the one in use (failover.go).
	registrars []string
	target     atomic.Int32
	// failback asks the loop to register with the primary again.
	failback atomic.Bool
	// unanswered is true while the last attempt failed without an answer
	// (timeout, transport error): then keep-alive probes may trigger a retry.
	unanswered atomic.Bool
}

func newRegistration(p *Phone) *registration {
	return &registration{
		p: p,
		// §10.2: a UA SHOULD use the same Call-ID for all registrations
		// during one boot cycle, with an increasing CSeq.
		callID:     gosip.CallIDHeader(gosip.GenerateTagN(24) + "@omniphone"),
		tag:        gosip.GenerateTagN(16),
		cseq:       1,
		registrars: append([]string{p.cfg.Account.Registrar}, p.cfg.Hardening.FailoverRegistrars...),
	}
}

// loop registers, refreshes before expiry and retries with backoff until ctx ends.
func (r *registration) loop(ctx context.Context) {
	cfg := r.p.cfg
	backoff := cfg.RetryMin
	for {
		r.p.setRegState(RegEvent{State: RegRegistering})
		r.p.gate.resolve(ctx, cfg.Account, cfg.Account.Transport)
		left := r.startFailback()
		granted, err := r.register(ctx, cfg.Account.Expiry)
		if ctx.Err() != nil {
			return
		}
		var wait time.Duration
		var re *RegisterError
		errors.As(err, &re)
		r.unanswered.Store(err != nil && re == nil)
		switch {
		case err == nil:
			r.registered = true
			backoff = cfg.RetryMin
			r.finishFailback(left)
			r.p.setRegState(RegEvent{State: RegRegistered, Expires: granted})
			wait = refreshAfter(granted)
		case re != nil && re.AuthFailed():
			// Wrong credentials: retrying would only lock the account.
			// Wait for Reregister (e.g. a new password).
			r.registered = false
			r.p.setRegState(RegEvent{State: RegFailed, Err: err})
			select {
			case <-ctx.Done():
				return
			case <-r.p.reregister:
				continue
			}
		case r.failover(err, re):
			// The next registrar is tried at once.
			r.registered = false
			r.p.setRegState(RegEvent{State: RegFailed, Err: err})
			continue
		default:
			r.registered = false
			wait = backoff
			if re != nil && re.RetryAfter > 0 {
				// §20.33: honour Retry-After (503, 500, 480, ...).
				wait = time.Duration(re.RetryAfter) * time.Second
			}
			backoff = min(backoff*2, cfg.RetryMax)
			r.p.setRegState(RegEvent{State: RegFailed, Err: err})
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-r.p.reregister:
			t.Stop()
		case <-t.C:
		}
	}
}

// refreshAfter returns when to refresh a binding granted for d: at 3/4 of
// the lifetime, but at least 5 s before it runs out when that is later.
func refreshAfter(d time.Duration) time.Duration {
	w := d * 3 / 4
	if alt := d - 30*time.Second; alt > w {
		w = alt
	}
	return max(w, time.Second)
}

// unregister removes our own binding (RFC 3261 §10.2.2: our Contact with
// expires=0, never "Contact: *").
func (r *registration) unregister() {
	if !r.registered {
		r.p.setRegState(RegEvent{State: RegUnregistered})
		return
	}
	err := r.removeBinding(5 * time.Second)
	if err != nil {
		r.p.log.Warn("unregister failed", "error", err)
	}
	r.p.setRegState(RegEvent{State: RegUnregistered, Err: err})
}

// removeOldBinding removes the binding of a Contact address the machine
// no longer has, before the stack is rebuilt for the new one (move.go).
// It changes no state the user sees: the phone registers again at once.
// Without it the registrar would fork calls to the dead address until the
// binding expired. Quick: on a network that just changed, an answer may
// never come.
func (r *registration) removeOldBinding() {
	if !r.registered {
		return
	}
	if err := r.removeBinding(2 * time.Second); err != nil {
		r.p.log.Info("the binding of the previous address was not removed; it expires by itself", "error", err)
	}
}

// removeBinding sends our Contact with expires=0.
func (r *registration) removeBinding(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, err := r.register(ctx, 0)
	r.registered = false
	return err
}

// register sends one REGISTER (with digest authentication when challenged)
// and returns the lifetime the registrar granted to our contact.
func (r *registration) register(ctx context.Context, expiry time.Duration) (time.Duration, error) {
	p := r.p
	acc := p.cfg.Account
	ctx, cancel := context.WithTimeout(ctx, p.cfg.RequestTimeout)
	defer cancel()

	req := r.newRequest(expiry)
	// The next REGISTER takes the CSeq after this one's (after the
	// authenticated retry's, which sipgo numbers one up) however this one
	// ends: a registrar ignores a REGISTER of the same Call-ID whose CSeq
	// is not higher than the last it saw (RFC 3261 §10.3 step 7), and a
	// REGISTER cut short by a network change may have reached it.
	defer r.advanceCSeq(req)
	res, err := p.client.Do(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("register %s: %w", r.aorString(), explainTLS(err, acc))
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		// §22.2 / §22.3 digest challenge; sipgo answers qop=auth via icholy/digest.
		res, err = p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{
			Username: acc.AuthUser,
			Password: acc.Password,
		})
		if err != nil {
			return 0, fmt.Errorf("register %s (auth): %w", r.aorString(), err)
		}
	}
	r.advanceCSeq(req)
	if res.StatusCode == 423 && expiry > 0 {
		// §10.3 step 7: Interval Too Brief, retry with Min-Expires.
		if h := res.GetHeader("Min-Expires"); h != nil {
			if s, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && time.Duration(s)*time.Second > expiry {
				return r.register(ctx, time.Duration(s)*time.Second)
			}
		}
	}
	if !res.IsSuccess() {
		re := &RegisterError{StatusCode: res.StatusCode, Reason: res.Reason}
		if h := res.GetHeader("Retry-After"); h != nil {
			v, _, _ := strings.Cut(strings.TrimSpace(h.Value()), " ")
			re.RetryAfter, _ = strconv.Atoi(v)
		}
		return 0, re
	}
	return r.granted(res, expiry), nil
}

// advanceCSeq makes the next REGISTER's CSeq follow req's.
func (r *registration) advanceCSeq(req *gosip.Request) {
	if cs := req.CSeq(); cs != nil && cs.SeqNo+1 > r.cseq {
		r.cseq = cs.SeqNo + 1
	}
}

// granted finds our binding's lifetime in a 200 OK: the ";expires" parameter
// of our Contact, else the Expires header, else what we asked for (§10.2.4).
func (r *registration) granted(res *gosip.Response, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		for _, c := range splitContacts(h.Value()) {
			var ch gosip.ContactHeader
			if _, err := gosip.ParseAddressValue(c, &ch.Address, &ch.Params); err != nil {
				continue
			}
			if ch.Address.Host != r.p.contact.Host || ch.Address.Port != r.p.contact.Port || ch.Address.User != r.p.contact.User {
				continue
			}
			if v, ok := ch.Params.Get("expires"); ok {
				if s, err := strconv.Atoi(v); err == nil {
					return time.Duration(s) * time.Second
				}
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if s, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil {
			return time.Duration(s) * time.Second
		}
	}
	return asked
}

// splitContacts splits a Contact header value on commas outside <> and quotes.
func splitContacts(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i, r := range v {
		switch {
		case r == '"':
			quoted = !quoted
		case quoted:
		case r == '<':
			depth++
		case r == '>':
			depth--
		case r == ',' && depth == 0:
			out = append(out, strings.TrimSpace(v[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(v[start:]))
}

func (r *registration) aorString() string {
	u := r.aor()
	return u.String()
}

func (r *registration) aor() gosip.Uri {
	acc := r.p.cfg.Account
	host, port, _ := splitHostPort(acc.Domain)
	return gosip.Uri{Scheme: "sip", User: acc.User, Host: host, Port: port}
}

// newRequest builds a fresh REGISTER (new Via branch) for the next CSeq.
func (r *registration) newRequest(expiry time.Duration) *gosip.Request {
	p := r.p
	acc := p.cfg.Account
	host, port, _ := splitHostPort(acc.Domain)
	// §10.2: the Request-URI names the domain of the registrar, no user part.
	req := gosip.NewRequest(gosip.REGISTER, gosip.Uri{Scheme: "sip", Host: host, Port: port})
	req.SetTransport(strings.ToUpper(string(acc.Transport)))
	req.SetDestination(hostPortWithDefault(r.current(), defaultPort(acc.Transport)))

	aor := r.aor()
	from := &gosip.FromHeader{DisplayName: acc.DisplayName, Address: aor, Params: gosip.NewParams()}
	from.Params.Add("tag", r.tag)
	req.AppendHeader(from)
	req.AppendHeader(&gosip.ToHeader{DisplayName: acc.DisplayName, Address: aor, Params: gosip.NewParams()})
	callID := r.callID
	req.AppendHeader(&callID)
	req.AppendHeader(&gosip.CSeqHeader{SeqNo: r.cseq, MethodName: gosip.REGISTER})
	maxFwd := gosip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)

	contact := &gosip.ContactHeader{Address: *p.contact.Clone(), Params: gosip.NewParams()}
	secs := strconv.Itoa(int(expiry / time.Second))
	contact.Params.Add("expires", secs)
	req.AppendHeader(contact)
	req.AppendHeader(gosip.NewHeader("Expires", secs))
	req.AppendHeader(gosip.NewHeader("User-Agent", p.cfg.UserAgent))
	req.AppendHeader(gosip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY"))
	return req
}
