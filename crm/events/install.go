package events

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/omniphone/omniphone/crm/b24"
)

// Events the package binds.
var boundEvents = []string{b24.EventExternalCallStart, b24.EventExternalCallBackStart}

// InstallOptions say how to connect a portal's events.
type InstallOptions struct {
	// HandlerURL is the online handler, reachable from the portal (an
	// omnisync behind a public address). Empty binds offline events, which
	// the Poller reads.
	HandlerURL string
	// Connector names the offline queue (AUTH_CONNECTOR): give each desktop
	// that polls on its own a connector of its own, e.g. "omniphone-102",
	// so desktops do not take each other's events. Empty is the default
	// queue. Ignored with HandlerURL.
	Connector string
	// LineNumber is the external line that click-to-call uses (default
	// "omniphone"); LineName its name in the portal (default "Omniphone").
	LineNumber string
	LineName   string
}

// InstallResult says what Install did and found.
type InstallResult struct {
	// Bound are the bindings created now; AlreadyBound the ones that were
	// there.
	Bound        []string
	AlreadyBound []string
	// LineCreated and LineUpdated say whether the external line was added,
	// or switched to CRM_AUTO_CREATE=N.
	LineCreated bool
	LineUpdated bool
	// Others are other bindings of the same events (another handler URL,
	// offline next to online, another connector). Install leaves them: an
	// event bound both ways arrives twice, and only the Router's dedup keeps
	// it from dialling twice; remove stale ones with UnbindEvent.
	Others []b24.Binding
}

// Install binds OnExternalCallStart and OnExternalCallBackStart — online to
// opts.HandlerURL, or offline — and makes sure the external line exists
// with CRM_AUTO_CREATE=N, so that Bitrix24 registers clicks without
// creating a lead of its own (SPEC D2). It is idempotent: it reads
// event.get and the lines first and only adds what is missing. The client
// must be an OAuth application token of an administrator (event.* and
// offline binding require it).
func Install(ctx context.Context, client *b24.Client, opts InstallOptions) (InstallResult, error) {
	if opts.LineNumber == "" {
		opts.LineNumber = "omniphone"
	}
	if opts.LineName == "" {
		opts.LineName = "Omniphone"
	}
	var res InstallResult
	have, err := client.Bindings(ctx)
	if err != nil {
		return res, fmt.Errorf("install: read bindings: %w", err)
	}
	offline := opts.HandlerURL == ""
	for _, ev := range boundEvents {
		found := false
		for _, b := range have {
			if !strings.EqualFold(string(b.Event), ev) {
				continue
			}
			mine := (b.Offline != 0) == offline &&
				(offline && string(b.Connector) == opts.Connector || !offline && string(b.Handler) == opts.HandlerURL)
			if mine {
				found = true
			} else {
				res.Others = append(res.Others, b)
			}
		}
		if found {
			res.AlreadyBound = append(res.AlreadyBound, ev)
			continue
		}
		if offline {
			err = client.BindOfflineEvent(ctx, ev, opts.Connector)
		} else {
			err = client.BindEvent(ctx, ev, opts.HandlerURL, false)
		}
		if isAlreadyBound(err) { // bound by a concurrent install
			res.AlreadyBound = append(res.AlreadyBound, ev)
			continue
		}
		if err != nil {
			return res, fmt.Errorf("install: bind %s: %w", ev, err)
		}
		res.Bound = append(res.Bound, ev)
	}
	if err := ensureLine(ctx, client, opts, &res, true); err != nil {
		return res, err
	}
	return res, nil
}

// ensureLine adds the external line, or turns its CRM_AUTO_CREATE off.
func ensureLine(ctx context.Context, client *b24.Client, opts InstallOptions, res *InstallResult, retry bool) error {
	lines, err := client.ExternalLines(ctx)
	if err != nil {
		return fmt.Errorf("install: read external lines: %w", err)
	}
	for _, l := range lines {
		if string(l.Number) != opts.LineNumber {
			continue
		}
		if !l.CRMAutoCreate {
			return nil
		}
		if err := client.UpdateExternalLine(ctx, opts.LineNumber, "", false); err != nil {
			return fmt.Errorf("install: set CRM_AUTO_CREATE=N on line %s: %w", opts.LineNumber, err)
		}
		res.LineUpdated = true
		return nil
	}
	err = client.AddExternalLine(ctx, opts.LineNumber, opts.LineName, false)
	var apiErr *b24.Error
	if retry && errors.As(err, &apiErr) && strings.Contains(apiErr.Description, "already exists") {
		// Added by a concurrent install (or a retried add that did run).
		return ensureLine(ctx, client, opts, res, false)
	}
	if err != nil {
		return fmt.Errorf("install: add external line %s: %w", opts.LineNumber, err)
	}
	res.LineCreated = true
	return nil
}

// isAlreadyBound reports event.bind's answer to a duplicate binding.
func isAlreadyBound(err error) bool {
	var apiErr *b24.Error
	return errors.As(err, &apiErr) && strings.Contains(apiErr.Description, "already binded")
}
