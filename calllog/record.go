package calllog

import (
	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/settings"
	"github.com/omniphone/omniphone/sip"
)

// Link is what the phone knows about a call beyond SIP: the Bitrix24 call
// it was started for (click-to-call, C4) and the number the client called
// or saw.
type Link struct {
	Bitrix24CallID string
	VirtualNumber  string
	Params         crm.CallParams
}

// Record turns a finished call into the SPEC §11 record for the sync
// engine. The operator's extension is both who rang and who talked: a
// desktop sees only its own leg; a PBX that transferred the call reports
// the whole chain itself.
func Record(info sip.Info, ev sip.CallEvent, acc settings.SIPAccount, link Link) crm.Call {
	c := crm.Call{
		ID:            "omniphone-" + info.ID,
		ContactNumber: info.Remote,
		VirtualNumber: link.VirtualNumber,
		Rung:          []string{acc.User},
		StartedAt:     info.Created,
		EndedAt:       info.Ended,
		Params:        link.Params,
	}
	if c.EndedAt.IsZero() || c.EndedAt.Before(c.StartedAt) {
		c.EndedAt = c.StartedAt
	}
	if info.Direction == sip.Outbound {
		c.Direction = settings.DirectionOut
		if c.VirtualNumber == "" {
			c.VirtualNumber = acc.CallerID
		}
	} else {
		c.Direction = settings.DirectionIn
	}
	if !info.Answered.IsZero() {
		answered := info.Answered
		c.AnsweredAt = &answered
		c.Outcome = crm.OutcomeAnswered
		c.Talked = []string{acc.User}
	} else {
		c.Outcome = unansweredOutcome(info, ev)
	}
	if info.Recording != "" {
		c.Recording = &crm.Recording{File: info.Recording}
	}
	if link.Bitrix24CallID != "" {
		id := link.Bitrix24CallID
		c.Bitrix24CallID = &id
	}
	return c
}

// AnsweredElsewhere reports a ringing call that another device of the
// operator answered (the proxy's CANCEL said so). It is not a missed call,
// and the phone that did not take it has nothing true to tell the CRM:
// the device that answered (or the PBX) reports the call.
func AnsweredElsewhere(ev sip.CallEvent) bool {
	return ev.Cause == sip.CauseAnsweredElsewhere
}

// unansweredOutcome is missed, busy or failed for a call nobody answered.
func unansweredOutcome(info sip.Info, ev sip.CallEvent) crm.Outcome {
	cause := ev.Cause
	if cause == sip.CauseUnknown {
		cause = info.Cause
	}
	switch cause {
	case sip.CauseBusy:
		return crm.OutcomeBusy
	case sip.CauseNotFound, sip.CauseFailed:
		if info.Direction == sip.Outbound {
			return crm.OutcomeFailed
		}
	}
	return crm.OutcomeMissed
}

// WithAttributes completes link with what the PBX put in the INVITE (sip
// Call.Attributes): the virtual number, unless the app already knows the
// number the client saw (C3), and the call-tracking parameters the rules
// engine filters on (CP7, EF1).
func WithAttributes(link Link, attrs map[string]string) Link {
	if link.VirtualNumber == "" {
		link.VirtualNumber = attrs[sip.AttrVirtualNumber]
	}
	set := func(dst *string, name string) {
		if *dst == "" {
			*dst = attrs[name]
		}
	}
	p := &link.Params
	set(&p.Scenario, sip.AttrScenario)
	set(&p.LastOperation, sip.AttrLastOperation)
	set(&p.Group, sip.AttrGroup)
	set(&p.Campaign, sip.AttrCampaign)
	set(&p.FirstCampaign, sip.AttrFirstCampaign)
	set(&p.Site, sip.AttrSite)
	set(&p.Source, sip.AttrSource)
	set(&p.FirstCommunicationID, sip.AttrFirstCommunicationID)
	return link
}
