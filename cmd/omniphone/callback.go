package main

import (
	"context"
	"log/slog"

	"github.com/omniphone/omniphone/calllog"
	"github.com/omniphone/omniphone/crm/events"
)

// headlessTarget places Bitrix24's calls on the headless phone. A
// click-to-call goes to calllog.Dialer. A callback (CB1) would ring the
// operator's window with a callback card first; without a window nobody
// could accept it, so the headless phone accepts at once and dials what
// the window dials on accept: the client, or — no employee mapped — the
// configured callback number.
type headlessTarget struct {
	calllog.Dialer
	log *slog.Logger
}

var _ events.Target = headlessTarget{}

// Dial implements events.Target.
func (t headlessTarget) Dial(ctx context.Context, req events.DialRequest) error {
	if req.RingFirst {
		req.RingFirst = false
		if req.FallbackNumber != "" {
			req.Number = req.FallbackNumber
		}
		t.log.Info("callback request accepted without asking (headless)", "number", req.Number,
			"employee", req.Extension, "text", req.Text)
	}
	return t.Dialer.Dial(ctx, req)
}
