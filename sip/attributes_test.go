package sip

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// pbxHeaders maps the call-tracking headers of testdata/uac-headers.xml.
var pbxHeaders = map[string]string{
	"X-Scenario":               AttrScenario,
	"x-last-operation":         AttrLastOperation,
	"X-Visitor-Group":          AttrGroup,
	"X-Campaign":               AttrCampaign,
	"X-First-Campaign":         AttrFirstCampaign,
	"X-Site":                   AttrSite,
	"X-Source":                 AttrSource,
	"X-First-Communication-ID": AttrFirstCommunicationID,
}

func TestCallAttributes(t *testing.T) {
	hdrs := map[string][]string{
		"to":                {"<sip:gouac@127.0.0.1:5060>"},
		"p-called-party-id": {`"Sales" <sip:+74951230001@pbx.example;user=phone>`},
		"diversion": {
			"<sip:101@pbx.example>;reason=no-answer;counter=1",
			`"Main, office" <tel:+74957770000;phone-context=ru>;reason=unconditional`,
		},
		"x-scenario": {" Sales%20line "},
		"x-campaign": {"%D0%92%D0%B5%D1%81%D0%BD%D0%B0"},
		"x-site":     {"50%off"},
	}
	tests := []struct {
		name    string
		order   []string
		virtual string
	}{
		{"Default", nil, "+74951230001"},
		{"DiversionFirst", []string{"Diversion", "To"}, "+74957770000"},
		{"ToFirst", []string{"to", "P-Called-Party-ID"}, "gouac"},
		{"MissingHeaderSkipped", []string{"X-Nothing", "Diversion"}, "+74957770000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Config{Account: Account{User: "gouac", Domain: "127.0.0.1"}, VirtualNumberHeaders: tt.order,
				AttributeHeaders: map[string]string{"X-Scenario": AttrScenario, "X-CAMPAIGN": AttrCampaign, "x-site": AttrSite, "X-Absent": AttrSource}}.withDefaults()
			require.NoError(t, err)
			got := callAttributes(cfg, hdrs)
			require.Equal(t, map[string]string{
				AttrVirtualNumber: tt.virtual,
				AttrScenario:      "Sales line",
				AttrCampaign:      "Весна",
				AttrSite:          "50%off", // not valid percent-encoding: kept as sent
			}, got)
		})
	}
	// A Diversion header with both entries in one value.
	got := callAttributes(Config{VirtualNumberHeaders: []string{"Diversion"}},
		map[string][]string{"diversion": {`<sip:101@pbx>;reason=no-answer, "A, B" <sip:+74957770000@pbx>;reason=unconditional`}})
	require.Equal(t, "+74957770000", got[AttrVirtualNumber])
}

func TestAttributeConfigValidation(t *testing.T) {
	base := Config{Account: Account{User: "gouac", Domain: "127.0.0.1"}}
	bad := base
	bad.VirtualNumberHeaders = []string{"P-Called-Party-ID", "Bad Header"}
	_, err := bad.withDefaults()
	require.ErrorContains(t, err, "virtual number header")
	bad = base
	bad.AttributeHeaders = map[string]string{"X-Scenario": ""}
	_, err = bad.withDefaults()
	require.ErrorContains(t, err, "no attribute name")
	cfg, err := base.withDefaults()
	require.NoError(t, err)
	require.Equal(t, DefaultVirtualNumberHeaders(), cfg.VirtualNumberHeaders)
}

// TestIntegrationCallAttributes: SIPp calls the phone through Kamailio with
// a PBX's headers; the call exposes the virtual number and the mapped
// call-tracking attributes before it is answered.
func TestIntegrationCallAttributes(t *testing.T) {
	k := siptest.StartKamailio(t, callUsers)
	p := startPhone(t, k, "gouac", "go123", phoneHz, func(c *Config) {
		c.AttributeHeaders = pbxHeaders
		c.VirtualNumberHeaders = []string{"Diversion", "P-Called-Party-ID", "To"}
	})
	p.ev.waitReg(t, RegRegistered, 0)

	sipp := startSIPpUAC(t, k, "uac-headers.xml", "gouac")

	c := p.ev.waitIncoming(t, 1)
	want := map[string]string{
		AttrVirtualNumber:        "+74957770000", // the last Diversion entry: the number first called
		AttrScenario:             "Sales line",
		AttrLastOperation:        "ivr-menu",
		AttrGroup:                "2",
		AttrCampaign:             "Весна",
		AttrFirstCampaign:        "Autumn",
		AttrSite:                 "shop.example",
		AttrSource:               "yandex",
		AttrFirstCommunicationID: "987654",
	}
	require.Equal(t, want, c.Attributes())
	require.Equal(t, "bob", c.Remote())
	require.Equal(t, []string{"<sip:+74951230001@pbx.example>"}, c.Header("p-called-party-id"))
	require.NoError(t, c.Answer())
	p.ev.waitCall(t, c, CallActive, 20*time.Second)
	ended := p.ev.waitCall(t, c, CallEnded, 30*time.Second)
	require.Equal(t, CauseRemoteHangup, ended.Cause)
	sipp.wait(t)

	// Outgoing calls carry the caller ID as their virtual number.
	out := startPhone(t, k, "carol", "carol123", phoneHz, func(c *Config) { c.Account.CallerID = "74951230002" })
	out.ev.waitReg(t, RegRegistered, 0)
	oc, err := out.Dial("gouac")
	require.NoError(t, err)
	require.Equal(t, map[string]string{AttrVirtualNumber: "74951230002"}, oc.Attributes())
	_ = oc.Hangup() // Kamailio may already have refused the unknown From user
	out.ev.waitCall(t, oc, CallEnded, 20*time.Second)
}

func TestSameSDP(t *testing.T) {
	a := []byte("v=0\r\no=sipp 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nm=audio 6000 RTP/AVP 0\r\n")
	b := []byte("v=0\no=sipp 1 2 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nm=audio 6000 RTP/AVP 0\n")
	c := []byte("v=0\r\no=sipp 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nm=audio 6002 RTP/AVP 0\r\n")
	require.True(t, sameSDP(a, b))
	require.False(t, sameSDP(a, c))
}
