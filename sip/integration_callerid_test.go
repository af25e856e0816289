package sip

import (
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

func TestC3_CallerIDUser(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"", "", ""},
		{"+7 (495) 111-22-33", "+74951112233", ""},
		{"8.495.111.22.33", "84951112233", ""},
		{"sales", "sales", ""},
		{"Отдел продаж", "", "use a telephone number or a SIP user name"},
		{"1<2>", "", "use a telephone number or a SIP user name"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := callerIDUser(tc.in)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestC3_InviteHeadersPresentTheCallerID checks where each caller ID mode
// puts the number and that From stays authenticatable in identity mode.
func TestC3_InviteHeadersPresentTheCallerID(t *testing.T) {
	for _, tc := range []struct {
		name               string
		mode               CallerIDMode
		callerID           string
		fromUser, fromName string
		identity           string // P-Asserted-Identity and P-Preferred-Identity, "" = absent
	}{
		{"none", CallerIDFrom, "", "101", "Anna", ""},
		{"same as the user", CallerIDIdentity, "101", "101", "Anna", ""},
		{"from", CallerIDFrom, "+74951112233", "+74951112233", "Anna", ""},
		{"identity", CallerIDIdentity, "+74951112233", "101", "+74951112233", "<sip:+74951112233@pbx.example.com>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Phone{cfg: Config{UserAgent: "test", Account: Account{
				User: "101", Domain: "pbx.example.com", DisplayName: "Anna", CallerIDMode: tc.mode,
			}}}
			req := gosip.NewRequest(gosip.INVITE, gosip.Uri{User: "2", Host: "pbx.example.com"})
			for _, h := range p.inviteHeaders(tc.callerID) {
				req.AppendHeader(h)
			}
			from := req.From()
			require.NotNil(t, from)
			require.Equal(t, tc.fromUser, from.Address.User)
			require.Equal(t, tc.fromName, from.DisplayName)
			for _, name := range []string{"P-Asserted-Identity", "P-Preferred-Identity"} {
				h := req.GetHeader(name)
				if tc.identity == "" {
					require.Nil(t, h, name)
					continue
				}
				require.NotNil(t, h, name)
				require.Equal(t, tc.identity, h.Value(), name)
			}
		})
	}
}

// TestIntegrationC3_CallerIDOverride dials with a per-call caller ID in
// both modes and checks what the called phone receives: through Kamailio,
// which refuses a From user other than the authenticated one, in identity
// mode; straight to the callee in From mode.
func TestIntegrationC3_CallerIDOverride(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	callee := startPhone(t, k, "bob", "bob123", baresipHz, func(c *Config) {
		c.AttributeHeaders = map[string]string{"P-Asserted-Identity": "asserted"}
		// The From-mode call below goes straight to this phone, not
		// through Kamailio: ghost-call protection would answer it 403.
		c.Hardening.AllowAnySource = true
	})
	identity := startPhone(t, k, "gouac", "go123", phoneHz, func(c *Config) { c.Account.CallerIDMode = CallerIDIdentity })
	from := startPhone(t, k, "carol", "carol123", phoneHz, nil)
	callee.ev.waitReg(t, RegRegistered, 0)
	identity.ev.waitReg(t, RegRegistered, 0)
	from.ev.waitReg(t, RegRegistered, 0)

	_, err := identity.Dial("bob", WithCallerID("+7 (495) 111-22-33 x"))
	require.ErrorContains(t, err, "caller ID")

	c, err := identity.Dial("bob", WithCallerID("+7 (495) 111-22-33"))
	require.NoError(t, err)
	require.Equal(t, "+74951112233", c.Attribute(AttrVirtualNumber), "the record's virtual number is the number shown")
	in := callee.ev.waitIncoming(t, 1)
	require.Equal(t, "gouac", in.Info().Remote, "From stays the authenticated user")
	require.Equal(t, "+74951112233", in.Info().RemoteName)
	require.Equal(t, "<sip:+74951112233@"+k.Addr()+">", in.Attribute("asserted"))
	require.NoError(t, in.Reject(486))
	identity.ev.waitCall(t, c, CallEnded, 20*time.Second)

	// From mode, sent to the callee's contact: its From carries the number.
	c, err = from.Dial("sip:bob@"+callee.LocalAddr(), WithCallerID("+74951112244"))
	require.NoError(t, err)
	in = callee.ev.waitIncoming(t, 2)
	require.Equal(t, "+74951112244", in.Info().Remote)
	require.NoError(t, in.Reject(486))
	from.ev.waitCall(t, c, CallEnded, 20*time.Second)
}
