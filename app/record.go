package app

import (
	"time"

	"github.com/omniphone/omniphone/calllog"
	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/settings"
	"github.com/omniphone/omniphone/sip"
)

// callLink is what the app knows about a call beyond SIP (calllog.Link).
type callLink = calllog.Link

// callRecord turns a finished call into the SPEC §11 record for the sync
// engine; the headless phone builds it the same way (calllog.Record).
func callRecord(info sip.Info, ev sip.CallEvent, acc settings.SIPAccount, link callLink) crm.Call {
	return calllog.Record(info, ev, acc, link)
}

// talkDuration is the talk time for the history list.
func talkDuration(c crm.Call) time.Duration { return c.Duration().Round(time.Second) }
