package settings

// Warnings returns what the settings screen must point out even though the
// settings are valid: options switched off by another option, and the
// consequences SPEC asks the UI to explain (CP8, D2).
func (s Settings) Warnings() Problems {
	var c problems
	cp := s.CallProcessing
	if cp.UseOtherTelephony {
		if cp.ForwardToPersonalManager || cp.CreateForIncoming || cp.CreateForOutgoing ||
			cp.UpdateResponsibleAfterMinutes != 0 || cp.VirtualNumberAsSource || cp.Filters.Enabled {
			c.add("call_processing.use_other_telephony", "is on, so the other call-processing options are off and ignored (CP1)")
		}
	} else {
		if cp.Filters.Enabled && cp.Filters.Incoming.Uses(AnswerOnlyParams...) {
			c.add("call_processing.filters.incoming", "filters on employee, visitor-selected group or last scenario operation: "+
				"such a call can be registered only after an employee answers, so missed calls will not be registered (CP8)")
		}
		if cp.CreateForIncoming || cp.CreateForOutgoing {
			c.add("call_processing", "switch off Bitrix24's own telephony option \"create a lead for unknown calls\", "+
				"or each call will create a second lead (D2)")
		}
	}
	if s.Recordings.WithFilters && !s.Recordings.Send {
		c.add("recordings.with_filters", "is ignored while \"send recordings\" is off (RC1)")
	}
	return c.list
}

// Effective returns the settings the engine acts on: options disabled by
// another option (CP1, C1, RC1, CP7 off) are cleared. The stored settings
// keep them so that switching back restores them.
func (s Settings) Effective() Settings {
	e := s.Clone()
	if e.CallProcessing.UseOtherTelephony {
		e.CallProcessing = CallProcessing{
			UseOtherTelephony:       true,
			FirstCommunicationField: e.CallProcessing.FirstCommunicationField,
		}
	}
	if !e.CallProcessing.Filters.Enabled {
		e.CallProcessing.Filters = CallFilters{}
	}
	if !e.ClickToCall.Enabled {
		e.ClickToCall = ClickToCall{}
	}
	if !e.Callback.Enabled {
		e.Callback = Callback{}
	}
	if !e.Recordings.Send {
		e.Recordings.WithFilters = false
	}
	return e
}

// MainPortal returns the main portal, if any.
func (s Settings) MainPortal() (Portal, bool) {
	for _, p := range s.Portals {
		if p.Main {
			return p, true
		}
	}
	return Portal{}, false
}

// Portal returns the portal with the given ID.
func (s Settings) Portal(id string) (Portal, bool) {
	for _, p := range s.Portals {
		if p.ID == id {
			return p, true
		}
	}
	return Portal{}, false
}

// TelephonyPortalOrMain returns the portal telephony works with (P2).
func (s Settings) TelephonyPortalOrMain() (Portal, bool) {
	if s.TelephonyPortal != "" {
		return s.Portal(s.TelephonyPortal)
	}
	return s.MainPortal()
}

// DefaultSIPAccount returns the default SIP account, if any.
func (s Settings) DefaultSIPAccount() (SIPAccount, bool) {
	for _, a := range s.SIP.Accounts {
		if a.Default {
			return a, true
		}
	}
	return SIPAccount{}, false
}
