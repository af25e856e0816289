package settings

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDefault_FreshInstallValidates(t *testing.T) {
	require.NoError(t, Default().Validate())
	require.NoError(t, configured().Validate())
}

func cond(p Param, m Mode, values ...string) Filter {
	return Filter{Groups: []Group{{Conditions: []Condition{{Param: p, Mode: m, Values: values}}}}}
}

// TestValidate_Rules breaks one thing at a time and checks the problem's
// path and wording.
func TestValidate_Rules(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(s *Settings)
		path    string
		message string
	}{
		{"version", func(s *Settings) { s.Version = 7 }, "version", "must be 1"},
		// P1
		{"P1 domain required", func(s *Settings) { s.Portals[0].Domain = "" }, "portals[0].domain", "is required"},
		{"P1 http rejected", func(s *Settings) { s.Portals[0].Domain = "http://company.bitrix24.ru" }, "portals[0].domain", "https://"},
		{"P1 bare host rejected", func(s *Settings) { s.Portals[0].Domain = "company.bitrix24.ru" }, "portals[0].domain", "starting with https://"},
		{"P1 ftp rejected", func(s *Settings) { s.Portals[0].Domain = "ftp://company.bitrix24.ru" }, "portals[0].domain", "must start with https://"},
		{"P1 path rejected", func(s *Settings) { s.Portals[0].Domain = "https://company.bitrix24.ru/rest/1/x/" }, "portals[0].domain", "without a path"},
		{"P1 user info rejected", func(s *Settings) { s.Portals[0].Domain = "https://admin:pw@company.bitrix24.ru" }, "portals[0].domain", "user name"},
		{"P1 name required", func(s *Settings) { s.Portals[1].Name = " " }, "portals[1].name", "is required"},
		{"P1 id shape", func(s *Settings) { s.Portals[1].ID = "Branch Portal" }, "portals[1].id", "lowercase"},
		{"P1 id unique", func(s *Settings) { s.Portals[1].ID = "main" }, "portals[1].id", "used twice"},
		{"P1 exactly one main, none", func(s *Settings) { s.Portals[0].Main = false }, "portals", "exactly one portal must be main, but 0"},
		{"P1 exactly one main, two", func(s *Settings) { s.Portals[1].Main = true }, "portals", "but 2 are"},
		{"P2 telephony portal exists", func(s *Settings) { s.TelephonyPortal = "gone" }, "telephony_portal", `"gone"`},
		{"P3 auth kind", func(s *Settings) { s.Portals[0].Auth.Kind = "password" }, "portals[0].auth.kind", `"oauth" or "webhook"`},
		{"P3 oauth client id", func(s *Settings) { s.Portals[0].Auth.ClientID = "" }, "portals[0].auth.client_id", "is required"},
		{"P3 webhook user", func(s *Settings) { s.Portals[1].Auth.WebhookUserID = 0 }, "portals[1].auth.webhook_user_id", "webhook URL"},
		// CP
		{"CP1 first communication field", func(s *Settings) { s.CallProcessing.FirstCommunicationField = "FIRST" }, "call_processing.first_communication_field", "UF_CRM_"},
		{"CP5 negative delay", func(s *Settings) { s.CallProcessing.UpdateResponsibleAfterMinutes = -1 }, "call_processing.update_responsible_after_minutes", "between 0"},
		{"CP5 delay too long", func(s *Settings) { s.CallProcessing.UpdateResponsibleAfterMinutes = MaxResponsibleDelayMinutes + 1 }, "call_processing.update_responsible_after_minutes", "a week"},
		// §9
		{"§9 unknown parameter", func(s *Settings) {
			s.CallProcessing.Filters.Incoming.Groups[0].Conditions[1].Param = "city"
		}, "call_processing.filters.incoming.groups[0].conditions[1].param", `unknown parameter "city"`},
		{"§9 parameter not allowed outgoing", func(s *Settings) {
			s.CallProcessing.Filters.Outgoing = cond(ParamSite, ModeInclude, "a.ru")
		}, "call_processing.filters.outgoing.groups[0].conditions[0].param", `"site" cannot filter outgoing calls: use one of virtual_number, employee`},
		{"§9 mode", func(s *Settings) {
			s.CallProcessing.Filters.Incoming.Groups[1].Conditions[0].Mode = "equals"
		}, "call_processing.filters.incoming.groups[1].conditions[0].mode", `"include" or "exclude"`},
		{"§9 values required", func(s *Settings) {
			s.CallProcessing.Filters.Incoming.Groups[1].Conditions[0].Values = nil
		}, "call_processing.filters.incoming.groups[1].conditions[0].values", "at least one value"},
		{"§9 blank value", func(s *Settings) {
			s.CallProcessing.Filters.Incoming.Groups[1].Conditions[0].Values = []string{"yandex", " "}
		}, "call_processing.filters.incoming.groups[1].conditions[0].values[1]", "is empty"},
		{"§9 empty group", func(s *Settings) {
			s.CallProcessing.Filters.Incoming.Groups = append(s.CallProcessing.Filters.Incoming.Groups, Group{})
		}, "call_processing.filters.incoming.groups[2]", "empty group"},
		// C2, CB1
		{"C2 number required", func(s *Settings) { s.ClickToCall.Number = "" }, "click_to_call.number", "required when click-to-call is on (C2)"},
		{"C2 number shape", func(s *Settings) { s.ClickToCall.Number = "call me" }, "click_to_call.number", "not a phone number"},
		{"CB1 number required", func(s *Settings) { s.Callback.Number = "" }, "callback.number", "required when callback is on (CB1)"},
		{"CB1 number too short", func(s *Settings) { s.Callback.Number = "+7" }, "callback.number", "not a phone number"},
		// T1, T2
		{"T2 unknown variable", func(s *Settings) { s.Templates.Rules[0].Template = "Call {{client_name}}" }, "templates.rules[0].template", "unknown variable {{client_name}}"},
		{"T2 unclosed variable", func(s *Settings) { s.Templates.Rules[0].Template = "Call {{contact_phone_number" }, "templates.rules[0].template", "not closed"},
		{"T1 empty template", func(s *Settings) { s.Templates.Rules[1].Template = "" }, "templates.rules[1].template", "is empty"},
		{"T1 entity", func(s *Settings) { s.Templates.Rules[1].Entity = "invoice" }, "templates.rules[1].entity", "lead, deal, contact or company"},
		{"T1 direction", func(s *Settings) { s.Templates.Rules[1].Direction = "both" }, "templates.rules[1].direction", `"in" or "out"`},
		{"T1 filter checked per direction", func(s *Settings) {
			s.Templates.Rules[1].Filter = cond(ParamCampaign, ModeInclude, "x")
		}, "templates.rules[1].filter.groups[0].conditions[0].param", "cannot filter outgoing calls"},
		// F1, F2
		{"F1 negative category", func(s *Settings) { s.Pipelines.DefaultIncoming.CategoryID = -1 }, "pipelines.default_incoming.category_id", "negative"},
		{"F2 stage required", func(s *Settings) { s.Pipelines.Rules[0].Stage.StageID = "" }, "pipelines.rules[0].stage.stage_id", "required once a pipeline rule is added (F2)"},
		{"F2 filter required", func(s *Settings) { s.Pipelines.Rules[0].Filter = Filter{} }, "pipelines.rules[0].filter", "at least one condition"},
		{"F2 direction", func(s *Settings) { s.Pipelines.Rules[0].Direction = "" }, "pipelines.rules[0].direction", `"in" or "out"`},
		// RS
		{"RS1 default incoming required", func(s *Settings) { s.Responsibles.DefaultIncoming = 0 }, "responsibles.default_incoming", "Sync employees"},
		{"RS1 default outgoing required", func(s *Settings) { s.Responsibles.DefaultOutgoing = 0 }, "responsibles.default_outgoing", "is required (RS1)"},
		{"RS2 rule user required", func(s *Settings) { s.Responsibles.Rules[0].UserID = 0 }, "responsibles.rules[0].user_id", "RS2"},
		{"RS2 rule filter required", func(s *Settings) { s.Responsibles.Rules[0].Filter = Filter{} }, "responsibles.rules[0].filter", "at least one condition"},
		{"RS3 talker", func(s *Settings) { s.Responsibles.Talker = "middle" }, "responsibles.talker", "RS3"},
		// EF1
		{"EF1 field must be UF_CRM", func(s *Settings) { s.ExtraFields.Mappings[0].Field = "TITLE" }, "extra_fields.mappings[0].field", "UF_CRM_"},
		{"EF1 field mapped twice", func(s *Settings) { s.ExtraFields.Mappings[1].Field = "UF_CRM_SOURCE" }, "extra_fields.mappings[1].field", "mapped twice"},
		{"EF1 param known", func(s *Settings) { s.ExtraFields.Mappings[1].Param = "weather" }, "extra_fields.mappings[1].param", `unknown parameter "weather"`},
		// SIP
		{"SIP user required", func(s *Settings) { s.SIP.Accounts[0].User = "" }, "sip.accounts[0].user", "is required"},
		{"SIP user no at", func(s *Settings) { s.SIP.Accounts[0].User = "101@pbx" }, "sip.accounts[0].user", "'@'"},
		{"SIP domain", func(s *Settings) { s.SIP.Accounts[0].Domain = "" }, "sip.accounts[0].domain", "SIP domain"},
		{"SIP registrar port", func(s *Settings) { s.SIP.Accounts[0].Registrar = "pbx:99999" }, "sip.accounts[0].registrar", "host[:port]"},
		{"SIP proxy shape", func(s *Settings) { s.SIP.Accounts[0].Proxy = "sip://pbx" }, "sip.accounts[0].proxy", "host[:port]"},
		{"SIP transport", func(s *Settings) { s.SIP.Accounts[0].Transport = "sctp" }, "sip.accounts[0].transport", "udp, tcp, tls, ws or wss"},
		{"SIP expiry", func(s *Settings) { s.SIP.Accounts[0].ExpirySeconds = 10 }, "sip.accounts[0].expiry_seconds", "between 60"},
		{"SIP codecs required", func(s *Settings) { s.SIP.Accounts[0].Codecs = nil }, "sip.accounts[0].codecs", "at least one codec"},
		{"SIP codec unknown", func(s *Settings) { s.SIP.Accounts[0].Codecs = []string{"PCMU", "G729"} }, "sip.accounts[0].codecs[1]", `unknown codec "G729"`},
		{"SIP codec the phone lacks (issue 10)", func(s *Settings) { s.SIP.Accounts[0].Codecs = []string{"opus", "G722"} }, "sip.accounts[0].codecs[1]", `unknown codec "G722": use opus, PCMU, PCMA`},
		{"SIP codec twice", func(s *Settings) { s.SIP.Accounts[0].Codecs = []string{"PCMU", "pcmu"} }, "sip.accounts[0].codecs[1]", "listed twice"},
		{"SIP dtmf", func(s *Settings) { s.SIP.Accounts[0].DTMF = "inband" }, "sip.accounts[0].dtmf", `"rfc4733" or "info"`},
		{"SIP call header param", func(s *Settings) { s.SIP.Accounts[0].CallHeaders = map[string]string{"X-City": "city"} }, "sip.accounts[0].call_headers", "use one of scenario"},
		{"SIP call header name", func(s *Settings) { s.SIP.Accounts[0].CallHeaders = map[string]string{"X Site": "site"} }, "sip.accounts[0].call_headers", "not a header name"},
		{"SIP dial plan", func(s *Settings) { s.SIP.Accounts[0].DialPlan = "us" }, "sip.accounts[0].dial_plan", "ru-e164"},
		{"SRTP policy", func(s *Settings) { s.SIP.Accounts[0].SRTP = "best-effort" }, "sip.accounts[0].srtp", `"off", "optional" or "required"`},
		{"CA file without TLS", func(s *Settings) { s.SIP.Accounts[0].CACertFile = "/ca.pem" }, "sip.accounts[0].ca_cert_file", "tls and wss transports"},
		{"CA file with ws", func(s *Settings) { s.SIP.Accounts[0].Transport, s.SIP.Accounts[0].CACertFile = TransportWS, "/ca.pem" }, "sip.accounts[0].ca_cert_file", "tls and wss transports"},
		{"WS path without ws", func(s *Settings) { s.SIP.Accounts[0].WSPath = "/ws" }, "sip.accounts[0].ws_path", "ws and wss transports"},
		{"WS path shape", func(s *Settings) { s.SIP.Accounts[0].Transport, s.SIP.Accounts[0].WSPath = TransportWSS, "ws" }, "sip.accounts[0].ws_path", "start it with /"},
		{"SDES with wss", func(s *Settings) { s.SIP.Accounts[0].Transport, s.SIP.Accounts[0].SRTP = TransportWSS, SRTPRequired }, "sip.accounts[0].srtp", "always encrypted (DTLS-SRTP)"},
		{"optional SDES with ws", func(s *Settings) { s.SIP.Accounts[0].Transport, s.SIP.Accounts[0].SRTP = TransportWS, SRTPOptional }, "sip.accounts[0].srtp", "always encrypted (DTLS-SRTP)"},
		{"C3 caller ID mode", func(s *Settings) { s.SIP.Accounts[0].CallerIDMode = "pai" }, "sip.accounts[0].caller_id_mode", "identity"},
		{"SIP failover registrar", func(s *Settings) { s.SIP.Accounts[0].FailoverRegistrars = []string{"pbx2.example.com", "pbx 3"} }, "sip.accounts[0].failover_registrars", `"pbx 3" is not host[:port]`},
		{"SIP trusted source", func(s *Settings) { s.SIP.Accounts[0].TrustedSources = []string{"10.0.0.5:notaport"} }, "sip.accounts[0].trusted_sources", "is not host[:port]"},
		{"SIP keep-alive too short", func(s *Settings) { s.SIP.Accounts[0].KeepAliveSeconds = 2 }, "sip.accounts[0].keepalive_seconds", "between 5 and 3600 seconds"},
		{"SIP keep-alive not a number", func(s *Settings) { s.SIP.Accounts[0].KeepAliveSeconds = -1 }, "sip.accounts[0].keepalive_seconds", "or empty for the default (25 s)"},
		{"SIP caller id", func(s *Settings) { s.SIP.Accounts[0].CallerID = "Irina" }, "sip.accounts[0].caller_id", "not a phone number"},
		{"SIP id unique", func(s *Settings) { s.SIP.Accounts[1].ID = "office" }, "sip.accounts[1].id", "used twice"},
		{"SIP one default", func(s *Settings) { s.SIP.Accounts[1].Default = true }, "sip.accounts", "exactly one account must be the default, but 2"},
		// Sync, app
		{"sync mode", func(s *Settings) { s.Sync.Mode = "cloud" }, "sync.mode", `"embedded" or "team"`},
		{"sync team url required", func(s *Settings) { s.Sync.TeamURL = "" }, "sync.team_url", "is required in team mode"},
		{"sync team url https", func(s *Settings) { s.Sync.TeamURL = "http://omnisync.example.com" }, "sync.team_url", "plain http is allowed only"},
		{"app language", func(s *Settings) { s.App.Language = "de" }, "app.language", `"ru" or "en"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := configured()
			tt.mutate(&s)
			err := s.Validate()
			require.Error(t, err)
			var ps Problems
			require.True(t, errors.As(err, &ps))
			require.Len(t, ps, 1, "one break gives one problem: %v", ps)
			require.Equal(t, tt.path, ps[0].Path)
			require.Contains(t, ps[0].Message, tt.message)
		})
	}
}

func TestValidate_Accepts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(s *Settings)
	}{
		{"P1 loopback http for the simulator", func(s *Settings) { s.Portals[0].Domain = "http://127.0.0.1:8024" }},
		{"P1 localhost", func(s *Settings) { s.Portals[0].Domain = "http://localhost:8024/" }},
		{"P1 IPv6 loopback", func(s *Settings) { s.Portals[0].Domain = "http://[::1]:8024" }},
		{"P1 https with port", func(s *Settings) { s.Portals[0].Domain = "https://crm.example.com:8443" }},
		{"P2 empty telephony portal means main", func(s *Settings) { s.TelephonyPortal = "" }},
		{"CP1 on switches off RS1 and the rest", func(s *Settings) {
			s.CallProcessing.UseOtherTelephony = true
			s.CallProcessing.UpdateResponsibleAfterMinutes = -5
			s.Responsibles.DefaultIncoming, s.Responsibles.DefaultOutgoing = 0, 0
		}},
		{"C1 off needs no number", func(s *Settings) { s.ClickToCall = ClickToCall{} }},
		{"CB1 off needs no number", func(s *Settings) { s.Callback = Callback{} }},
		{"CP7 empty filter matches all", func(s *Settings) { s.CallProcessing.Filters.Incoming = Filter{} }},
		{"F1 empty defaults mean portal default", func(s *Settings) { s.Pipelines.DefaultIncoming = Stage{} }},
		{"SIP IPv6 registrar", func(s *Settings) { s.SIP.Accounts[0].Registrar = "[::1]:5060" }},
		{"SIP domain with a port", func(s *Settings) { s.SIP.Accounts[0].Domain = "127.0.0.1:5070" }},
		{"WSS account with its gateway's CA", func(s *Settings) {
			s.SIP.Accounts[0].Transport, s.SIP.Accounts[0].CACertFile = TransportWSS, "/etc/ssl/gw-ca.pem"
			s.SIP.Accounts[0].WSPath = "/ws"
		}},
		{"no portals, no RS1", func(s *Settings) {
			s.Portals, s.TelephonyPortal = nil, ""
			s.Responsibles.DefaultIncoming, s.Responsibles.DefaultOutgoing = 0, 0
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := configured()
			tt.mutate(&s)
			require.NoError(t, s.Validate())
		})
	}
}

func TestValidate_ReportsEveryProblemAtOnce(t *testing.T) {
	s := configured()
	s.Portals[0].Domain = "http://company.bitrix24.ru"
	s.ClickToCall.Number = ""
	s.Templates.Rules[0].Template = "{{nope}}"
	s.Responsibles.DefaultIncoming = 0
	s.SIP.Accounts[0].Transport = "x"
	err := s.Validate()
	var ps Problems
	require.True(t, errors.As(err, &ps))
	paths := make([]string, len(ps))
	for i, p := range ps {
		paths[i] = p.Path
	}
	require.Equal(t, []string{
		"portals[0].domain", "click_to_call.number", "templates.rules[0].template",
		"responsibles.default_incoming", "sip.accounts[0].transport",
	}, paths)
	require.Len(t, strings.Split(err.Error(), "\n"), 5, "one line per problem")
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(s *Settings)
		want   []string
	}{
		{"D2 with CP3/CP4", func(s *Settings) {}, []string{"call_processing: switch off Bitrix24's own"}},
		{"CP8 employee filter", func(s *Settings) {
			s.CallProcessing.Filters.Incoming = cond(ParamEmployee, ModeInclude, "101")
		}, []string{"call_processing.filters.incoming: filters on employee", "(D2)"}},
		{"CP8 not when filters off", func(s *Settings) {
			s.CallProcessing.Filters.Incoming = cond(ParamGroup, ModeInclude, "sales")
			s.CallProcessing.Filters.Enabled = false
		}, []string{"(D2)"}},
		{"CP1 disables the rest", func(s *Settings) { s.CallProcessing.UseOtherTelephony = true }, []string{"ignored (CP1)"}},
		{"RC2 without RC1", func(s *Settings) {
			s.Recordings.Send = false
			s.CallProcessing.CreateForIncoming, s.CallProcessing.CreateForOutgoing = false, false
		}, []string{"recordings.with_filters: is ignored"}},
		{"nothing to say", func(s *Settings) { *s = Default() }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := configured()
			tt.mutate(&s)
			ws := s.Warnings()
			require.Len(t, ws, len(tt.want), "%v", ws)
			for i, w := range tt.want {
				require.Contains(t, ws[i].String(), w)
			}
		})
	}
}

func TestEffective_ClearsDisabledOptions(t *testing.T) {
	s := configured()
	s.CallProcessing.UseOtherTelephony = true
	s.ClickToCall.Enabled = false
	s.Recordings.Send = false
	e := s.Effective()
	require.Equal(t, CallProcessing{UseOtherTelephony: true, FirstCommunicationField: "UF_CRM_FIRST_COMM"}, e.CallProcessing, "CP1")
	require.Equal(t, ClickToCall{}, e.ClickToCall, "C1")
	require.False(t, e.Recordings.WithFilters, "RC1 off disables RC2")
	require.True(t, s.CallProcessing.CreateForIncoming, "the stored settings keep the values")
	require.Equal(t, "+7 (495) 123-45-67", s.ClickToCall.Number)

	s = configured()
	s.CallProcessing.Filters.Enabled = false
	require.True(t, s.Effective().CallProcessing.Filters.Incoming.IsEmpty(), "CP7 off: every call is processed")
}

func TestLookups(t *testing.T) {
	s := configured()
	p, ok := s.MainPortal()
	require.True(t, ok)
	require.Equal(t, "main", p.ID)
	s.TelephonyPortal = "branch"
	p, ok = s.TelephonyPortalOrMain()
	require.True(t, ok)
	require.Equal(t, "branch", p.ID)
	a, ok := s.DefaultSIPAccount()
	require.True(t, ok)
	require.Equal(t, "office", a.ID)
	_, ok = Default().DefaultSIPAccount()
	require.False(t, ok)
}
