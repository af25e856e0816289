package settings

// configured returns a complete, valid configuration that uses every
// section, for tests to break one piece at a time.
func configured() Settings {
	s := Default()
	s.Portals = []Portal{
		{ID: "main", Name: "Company", Domain: "https://company.bitrix24.ru", Main: true,
			Auth: Auth{Kind: AuthOAuth, ClientID: "local.abc123"}},
		{ID: "branch", Name: "Branch (webhook)", Domain: "https://branch.example.com/", CACertFile: "/etc/ssl/branch-ca.pem",
			Auth: Auth{Kind: AuthWebhook, WebhookUserID: 1}},
	}
	s.TelephonyPortal = "main"
	s.CallProcessing = CallProcessing{
		FirstCommunicationField:       "UF_CRM_FIRST_COMM",
		ForwardToPersonalManager:      true,
		CreateForIncoming:             true,
		CreateForOutgoing:             true,
		UpdateResponsibleAfterMinutes: 5,
		VirtualNumberAsSource:         true,
		Filters: CallFilters{
			Enabled: true,
			Incoming: Filter{Groups: []Group{
				{Conditions: []Condition{
					{Param: ParamVirtualNumber, Mode: ModeInclude, Values: []string{"+74951234567"}},
					{Param: ParamSite, Mode: ModeExclude, Values: []string{"example.com"}},
				}},
				{Conditions: []Condition{{Param: ParamSource, Mode: ModeInclude, Values: []string{"yandex", "google"}}}},
			}},
			Outgoing: Filter{Groups: []Group{{Conditions: []Condition{
				{Param: ParamEmployee, Mode: ModeExclude, Values: []string{"199"}},
			}}}},
		},
	}
	s.ClickToCall = ClickToCall{Enabled: true, Number: "+7 (495) 123-45-67", OverrideCallerID: true}
	s.Callback = Callback{Enabled: true, Number: "+74957654321"}
	s.Recordings = Recordings{Send: true, WithFilters: true}
	s.OpenLines = OpenLines{NotifyEmployee: true}
	s.Templates.Rules = []TitleTemplate{
		{Direction: DirectionIn, Entity: EntityLead, Template: "Звонок с {{ contact_phone_number }} на {{virtual_number}}",
			Filter: Filter{Groups: []Group{{Conditions: []Condition{{Param: ParamCampaign, Mode: ModeInclude, Values: []string{"Контекст"}}}}}}},
		{Direction: DirectionOut, Entity: EntityDeal, Template: "Исходящий {{contact_phone_number}} ({{employee_name}})"},
	}
	s.Pipelines = Pipelines{
		DefaultIncoming: Stage{CategoryID: 0, StageID: "NEW"},
		DefaultOutgoing: Stage{CategoryID: 2, StageID: "C2:NEW"},
		Rules: []PipelineRule{{
			Direction: DirectionIn,
			Filter:    Filter{Groups: []Group{{Conditions: []Condition{{Param: ParamSite, Mode: ModeExclude, Values: []string{"shop.ru"}}}}}},
			Stage:     Stage{CategoryID: 3, StageID: "C3:NEW"},
		}},
	}
	s.Responsibles = Responsibles{
		DefaultIncoming: 1, DefaultOutgoing: 7, Talker: TalkerFirst,
		Rules: []ResponsibleRule{{
			Filter: Filter{Groups: []Group{{Conditions: []Condition{{Param: ParamVirtualNumber, Mode: ModeInclude, Values: []string{"+74950000001"}}}}}},
			UserID: 5,
		}},
	}
	s.ExtraFields = ExtraFields{AlwaysUpdate: true, Mappings: []FieldMapping{
		{Field: "UF_CRM_SOURCE", Param: ParamSource},
		{Field: "UF_CRM_CAMPAIGN", Param: ParamCampaign},
	}}
	acc := NewSIPAccount("office")
	acc.DisplayName, acc.User, acc.Domain, acc.Registrar, acc.Default = "Irina", "101", "pbx.example.com", "pbx.example.com:5060", true
	acc.CallerID = "+74951234567"
	acc.CallHeaders = map[string]string{"X-Scenario": "scenario", "X-Site": "site"}
	second := NewSIPAccount("backup")
	second.User, second.Domain, second.Transport, second.Codecs = "101", "10.0.0.5", TransportTCP, []string{"PCMA", "opus"}
	s.SIP.Accounts = []SIPAccount{acc, second}
	s.Sync = Sync{Mode: SyncTeam, TeamURL: "https://omnisync.example.com:8443/"}
	s.App = Preferences{Language: LanguageEN, InputDevice: "USB Headset", OutputDevice: "USB Headset",
		RingDevice: "Speakers", StartMinimised: true, Card: CallCard{Show: true, OpenEntityOnAnswer: true}}
	return s
}
