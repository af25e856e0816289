package calllog

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/settings"
	"github.com/omniphone/omniphone/sip"
)

func TestRecord_SPEC11(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	acc := settings.SIPAccount{User: "102", CallerID: "+74951234567"}
	tests := []struct {
		name    string
		info    sip.Info
		ev      sip.CallEvent
		link    Link
		dir     settings.Direction
		outcome crm.Outcome
		talked  []string
		virtual string
	}{
		{"incoming answered", sip.Info{ID: "a", Direction: sip.Inbound, Remote: "+79161234567", Created: t0, Answered: t0.Add(9 * time.Second), Ended: t0.Add(190 * time.Second)},
			sip.CallEvent{Cause: sip.CauseRemoteHangup}, Link{VirtualNumber: "+74950000000"}, settings.DirectionIn, crm.OutcomeAnswered, []string{"102"}, "+74950000000"},
		{"incoming missed (caller gave up)", sip.Info{ID: "b", Direction: sip.Inbound, Remote: "+79161234567", Created: t0, Ended: t0.Add(20 * time.Second)},
			sip.CallEvent{Cause: sip.CauseCancelled}, Link{}, settings.DirectionIn, crm.OutcomeMissed, nil, ""},
		{"incoming declined by the operator counts as missed", sip.Info{ID: "c", Direction: sip.Inbound, Remote: "+79161234567", Created: t0, Ended: t0.Add(3 * time.Second)},
			sip.CallEvent{Cause: sip.CauseRejected}, Link{}, settings.DirectionIn, crm.OutcomeMissed, nil, ""},
		{"outgoing busy", sip.Info{ID: "d", Direction: sip.Outbound, Remote: "89161234567", Created: t0, Ended: t0.Add(2 * time.Second)},
			sip.CallEvent{Cause: sip.CauseBusy, SIPCode: 486}, Link{}, settings.DirectionOut, crm.OutcomeBusy, nil, "+74951234567"},
		{"outgoing to nowhere failed", sip.Info{ID: "e", Direction: sip.Outbound, Remote: "999", Created: t0, Ended: t0.Add(time.Second)},
			sip.CallEvent{Cause: sip.CauseNotFound, SIPCode: 404}, Link{}, settings.DirectionOut, crm.OutcomeFailed, nil, "+74951234567"},
		{"outgoing not answered is missed", sip.Info{ID: "f", Direction: sip.Outbound, Remote: "89161234567", Created: t0, Ended: t0.Add(30 * time.Second)},
			sip.CallEvent{Cause: sip.CauseCancelled}, Link{}, settings.DirectionOut, crm.OutcomeMissed, nil, "+74951234567"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Record(tt.info, tt.ev, acc, tt.link)
			require.NoError(t, c.Validate(), "the record is one the sync engine accepts")
			require.Equal(t, "omniphone-"+tt.info.ID, c.ID)
			require.Equal(t, tt.dir, c.Direction)
			require.Equal(t, tt.outcome, c.Outcome)
			require.Equal(t, tt.talked, c.Talked)
			require.Equal(t, []string{"102"}, c.Rung)
			require.Equal(t, tt.virtual, c.VirtualNumber)
		})
	}
}

func TestRecord_C4LinksTheBitrixCallAndKeepsTheRecording(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	info := sip.Info{ID: "x", Direction: sip.Outbound, Remote: "+79161234567", Created: t0, Answered: t0.Add(5 * time.Second),
		Ended: t0.Add(65 * time.Second), Recording: "/tmp/rec/x.wav"}
	c := Record(info, sip.CallEvent{Cause: sip.CauseLocalHangup}, settings.SIPAccount{User: "101"},
		Link{Bitrix24CallID: "externalCall.abc", VirtualNumber: "+74951112233"})
	require.NoError(t, c.Validate())
	require.Equal(t, "externalCall.abc", *c.Bitrix24CallID)
	require.Equal(t, "+74951112233", c.VirtualNumber, "C3: the overriding number is what the client saw")
	require.Equal(t, "/tmp/rec/x.wav", c.Recording.File)
	require.Equal(t, time.Minute, c.Duration())
}

func TestWithAttributes_FillsWhatTheINVITECarried(t *testing.T) {
	attrs := map[string]string{sip.AttrVirtualNumber: "+74950000001", sip.AttrSite: "shop.ru", sip.AttrCampaign: "Контекст",
		sip.AttrFirstCommunicationID: "fc-7"}
	l := WithAttributes(Link{}, attrs)
	require.Equal(t, "+74950000001", l.VirtualNumber)
	require.Equal(t, "shop.ru", l.Params.Site)
	require.Equal(t, "Контекст", l.Params.Campaign)
	require.Equal(t, "fc-7", l.Params.FirstCommunicationID)
	kept := WithAttributes(Link{VirtualNumber: "+74951234567"}, attrs)
	require.Equal(t, "+74951234567", kept.VirtualNumber, "the number the app knows the client saw wins (C3)")
}
