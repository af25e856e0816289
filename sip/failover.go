package sip

import (
	"context"
	"time"
)

// outboundProxy is where calls go: the account's Proxy, or, when the proxy
// is the registrar (the default), the registrar in use, so that calls
// follow a failover.
func (p *Phone) outboundProxy() string {
	acc := p.cfg.Account
	if reg := p.reg.Load(); reg != nil && acc.Proxy == acc.Registrar {
		return reg.current()
	}
	return acc.Proxy
}

// current is the registrar in use: the account's Registrar, or a failover
// registrar after it failed.
func (r *registration) current() string {
	return r.registrars[r.target.Load()]
}

// failover moves to the next registrar when err says the current one is
// down: no answer at all, 408 or 5xx (a 4xx is about us, not the server).
// It reports whether there is another registrar to try now; after the last
// one the loop backs off and starts again with the primary.
func (r *registration) failover(err error, re *RegisterError) bool {
	if err == nil || len(r.registrars) < 2 {
		return false
	}
	if re != nil && re.StatusCode != 408 && re.StatusCode < 500 {
		return false
	}
	from := r.current()
	next := (int(r.target.Load()) + 1) % len(r.registrars)
	r.target.Store(int32(next))
	r.p.log.Warn("registrar failed; trying the next one", "registrar", from, "next", r.current(), "error", err)
	return next != 0
}

// startFailback switches back to the primary registrar when the keep-alive
// found it answering again, and returns the index of the registrar left
// (-1 when nothing changed).
func (r *registration) startFailback() int {
	if !r.failback.Swap(false) || r.target.Load() == 0 {
		return -1
	}
	left := int(r.target.Load())
	r.target.Store(0)
	r.p.log.Info("primary registrar answers again; registering there", "registrar", r.current())
	return left
}

// finishFailback removes our binding from the failover registrar we left,
// so that calls no longer arrive through both.
func (r *registration) finishFailback(left int) {
	if left < 0 {
		return
	}
	cur := r.target.Load()
	r.target.Store(int32(left))
	defer r.target.Store(cur)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := r.register(ctx, 0); err != nil {
		r.p.log.Warn("unregister from the failover registrar failed", "registrar", r.registrars[left], "error", err)
	}
}
