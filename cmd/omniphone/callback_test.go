package main

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/calllog"
	"github.com/omniphone/omniphone/crm/events"
	"github.com/omniphone/omniphone/sip"
)

// dialRecorder is a phone that records what it is asked to dial.
type dialRecorder struct{ dialed []string }

func (d *dialRecorder) Dial(target string, _ ...sip.DialOption) (*sip.Call, error) {
	d.dialed = append(d.dialed, target)
	return nil, errors.New("recorded only")
}

func TestCB1_HeadlessAcceptsCallbacksAtOnce(t *testing.T) {
	tests := []struct {
		name string
		req  events.DialRequest
		want string
	}{
		{"click-to-call", events.DialRequest{Kind: events.KindClickToCall, Number: "79035550011", CallID: "c1"}, "79035550011"},
		{"callback of a mapped employee: the client", events.DialRequest{Kind: events.KindCallback, Number: "79035550011",
			RingFirst: true, Extension: "102"}, "79035550011"},
		{"callback with no employee: the configured number", events.DialRequest{Kind: events.KindCallback, Number: "79035550011",
			RingFirst: true, FallbackNumber: "74951234500"}, "74951234500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phone := &dialRecorder{}
			target := headlessTarget{Dialer: calllog.Dialer{Phone: phone}, log: slog.New(slog.DiscardHandler)}
			err := target.Dial(context.Background(), tt.req)
			require.ErrorContains(t, err, "recorded only")
			require.NotErrorIs(t, err, calllog.ErrCallbackNeedsWindow)
			require.Equal(t, []string{tt.want}, phone.dialed)
		})
	}
}
