package settings

// DefaultCodecs is the codec preference order of a new SIP account.
var DefaultCodecs = []string{"PCMU", "PCMA"}

// KnownCodecs are the codec names an account may list: those the phone
// negotiates (opus only in builds with libopus, which make builds).
var KnownCodecs = []string{"opus", "PCMU", "PCMA"}

// Default returns the settings of a fresh install. They validate: nothing is
// connected yet, so nothing is required yet.
func Default() Settings {
	return Settings{
		Version:   CurrentVersion,
		Portals:   []Portal{},
		Templates: Templates{Rules: []TitleTemplate{}},
		Pipelines: Pipelines{Rules: []PipelineRule{}},
		Responsibles: Responsibles{
			Talker: TalkerLast,
			Rules:  []ResponsibleRule{},
		},
		ExtraFields: ExtraFields{Mappings: []FieldMapping{}},
		SIP:         SIP{Accounts: []SIPAccount{}},
		Sync:        Sync{Mode: SyncEmbedded},
		App: Preferences{
			Language: LanguageRU,
			Card:     CallCard{Show: true},
		},
	}
}

// NewSIPAccount returns an account with the defaults filled in.
func NewSIPAccount(id string) SIPAccount {
	return SIPAccount{
		ID:            id,
		Transport:     TransportUDP,
		ExpirySeconds: 600,
		Codecs:        append([]string(nil), DefaultCodecs...),
		DTMF:          DTMFRFC4733,
	}
}
