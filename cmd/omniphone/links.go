package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/omniphone/omniphone/sip"
)

// linkSchemes are the URL schemes omniphone handles (SPEC C5); the
// .desktop file registers the same ones.
var linkSchemes = []string{"tel", "callto", "sip"}

// errNotALink means a command-line argument is not a tel:, callto: or sip:
// link.
var errNotALink = errors.New("not a tel:, callto: or sip: link")

// looksLikeLink reports whether a command-line argument is meant as a link
// (it has a URL scheme) rather than a command name.
func looksLikeLink(arg string) bool {
	scheme, _, ok := strings.Cut(arg, ":")
	if !ok || scheme == "" {
		return false
	}
	for _, r := range scheme {
		if !isAlnum(r) && !strings.ContainsRune("+-.", r) {
			return false
		}
	}
	return true
}

// parseLink turns a tel:, callto: or sip: link into what the phone dials:
// a number as written (the phone applies the account's dial plan), a SIP
// user name, or a sip: URI.
//
//   - tel: (RFC 3966): visual separators and spaces are dropped;
//     parameters (;phone-context=…, ;ext=…, ;isub=…) are ignored — a local
//     number is dialled as the PBX's dial plan reads it.
//   - callto: (callto:N, callto://N/): a number, a user@host or a user name.
//   - sip: user@host[:port][;params]: dialled as written, without URI
//     headers (?…), which a web page could use to inject INVITE headers;
//     sip:user (no host) is the user on the account's domain.
func parseLink(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return "", fmt.Errorf("%q: %w", raw, errNotALink)
	}
	rest, err := url.PathUnescape(rest)
	if err != nil {
		return "", fmt.Errorf("%q: bad %%-escape: %w", raw, err)
	}
	var target string
	switch strings.ToLower(scheme) {
	case "tel":
		target, err = telNumber(rest)
	case "callto":
		target, err = callto(rest)
	case "sip":
		target, err = sipTarget(rest)
	default:
		return "", fmt.Errorf("%q: %w", raw, errNotALink)
	}
	if err != nil {
		return "", fmt.Errorf("%q: %w", raw, err)
	}
	return target, nil
}

// telNumber is the number of a tel: link's body, cleaned as the phone
// cleans a typed number (digits, a leading +, * and #); parameters are
// ignored.
func telNumber(body string) (string, error) {
	number, _, _ := strings.Cut(body, ";")
	number = strings.TrimPrefix(number, "//") // tel://… as some pages write it
	n, err := sip.NormalizeNumber(number, sip.DialPlanNone)
	if err != nil {
		return "", fmt.Errorf("not a phone number: %w", err)
	}
	return n, nil
}

// callto is the target of a callto: link's body.
func callto(body string) (string, error) {
	body = strings.TrimSuffix(strings.TrimPrefix(body, "//"), "/")
	if n, err := telNumber(body); err == nil {
		return n, nil
	}
	if strings.Contains(body, "@") {
		return sipTarget(body)
	}
	if !isUserName(body) {
		return "", errors.New("not a phone number, user@host or user name")
	}
	return body, nil
}

// sipTarget is the target of a sip: link's body: sip:user@host… without
// URI headers, or a bare user name.
func sipTarget(body string) (string, error) {
	body, _, _ = strings.Cut(body, "?")
	user, host, hasHost := strings.Cut(body, "@")
	if !hasHost {
		user, _, _ = strings.Cut(user, ";")
		if n, err := telNumber(user); err == nil {
			return n, nil
		}
		if !isUserName(user) {
			return "", errors.New("no user in the sip: link")
		}
		return user, nil
	}
	hostPart, _, _ := strings.Cut(host, ";")
	if user == "" || hostPart == "" || strings.ContainsAny(user+host, " <>\"") {
		return "", errors.New("expected sip:user@host")
	}
	return "sip:" + user + "@" + host, nil
}

// isUserName reports whether s is a plain SIP user name (letters, digits
// and - _ . ! ~ * ' ( ) + , as RFC 3261 allows unescaped).
func isUserName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !isAlnum(r) && !strings.ContainsRune("-_.!~*'()+,", r) {
			return false
		}
	}
	return true
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// linkOpener carries out what a later launch hands to the running
// instance: dial a link, or raise the window.
type linkOpener struct {
	// dial places a call to a parsed link's target.
	dial func(ctx context.Context, target string) error
	// raise brings the window to the front and says what it did.
	raise func() string
	// act answers or hangs up (actionAnswer, actionHangup) and says what
	// it did.
	act func(action string) (string, error)
	log *slog.Logger
}

// handle implements instanceHandler.
func (o linkOpener) handle(ctx context.Context, req instanceRequest) (string, error) {
	if req.Action != "" {
		if req.Action != actionAnswer && req.Action != actionHangup {
			return "", fmt.Errorf("unknown call action %q (answer, hangup)", req.Action)
		}
		note, err := o.act(req.Action)
		o.log.Info("call action from the command line", "action", req.Action, "note", note, "err", err)
		return note, err
	}
	if req.Link == "" {
		return o.raise(), nil
	}
	target, err := parseLink(req.Link)
	if err != nil {
		return "", err
	}
	o.log.Info("dialling a link", "link", req.Link, "target", target)
	if err := o.dial(ctx, target); err != nil {
		o.log.Warn("link not dialled", "link", req.Link, "err", err)
		return "", err
	}
	return "dialling " + target, nil
}

// openAtStart dials the link the first launch was given, once the phone
// can; the returned func stops waiting for that and returns when done.
func (o linkOpener) openAtStart(ctx context.Context, link string) (stop func()) {
	if link == "" {
		return func() {}
	}
	ctx, cancel := context.WithTimeout(ctx, linkStartWait)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := o.handle(ctx, instanceRequest{Link: link}); err != nil {
			o.log.Error("the link given at start was not dialled", "link", link, "err", err)
		}
	}()
	return func() { cancel(); <-done }
}

// linkStartWait bounds how long a link given at start waits for the
// phone to register.
const linkStartWait = 30 * time.Second
