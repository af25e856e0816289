package settings

// CurrentVersion is the version of the settings document this build writes.
// Older documents are migrated on load (see migrate.go).
const CurrentVersion = 1

// Settings is the whole settings document: one JSON file, saved all at once
// (SPEC P4). It never holds a secret; those live in a SecretStore.
type Settings struct {
	Version int `json:"version"`

	// Portals are the connected Bitrix24 portals (P1–P3).
	Portals []Portal `json:"portals"`
	// TelephonyPortal is the ID of the portal telephony works with (P2);
	// empty means the main portal.
	TelephonyPortal string `json:"telephony_portal,omitempty"`

	CallProcessing CallProcessing `json:"call_processing"`
	ClickToCall    ClickToCall    `json:"click_to_call"`
	Callback       Callback       `json:"callback"`
	Recordings     Recordings     `json:"recordings"`
	OpenLines      OpenLines      `json:"open_lines"`
	Templates      Templates      `json:"templates"`
	Pipelines      Pipelines      `json:"pipelines"`
	Responsibles   Responsibles   `json:"responsibles"`
	ExtraFields    ExtraFields    `json:"extra_fields"`

	// SIP holds the phone's accounts.
	SIP SIP `json:"sip"`
	// Sync says where finished calls go: the embedded engine or a team service.
	Sync Sync `json:"sync"`
	// App holds the operator's preferences.
	App Preferences `json:"app"`
}

// AuthKind is how Omniphone authenticates to a portal (P3).
type AuthKind string

// Portal authentication kinds.
const (
	AuthOAuth   AuthKind = "oauth"
	AuthWebhook AuthKind = "webhook"
)

// Portal is one Bitrix24 portal (P1, P3).
type Portal struct {
	// ID is a short stable key (lowercase letters, digits, '-', '_'); secrets
	// and other sections refer to the portal by it.
	ID string `json:"id"`
	// Name is a free-text name to tell portals apart.
	Name string `json:"name"`
	// Domain is the portal address, https://… (P1).
	Domain string `json:"domain"`
	// Main marks the one main portal.
	Main bool `json:"main"`
	// CACertFile optionally names a PEM file with a private CA to trust
	// (on-premise portals).
	CACertFile string `json:"ca_cert_file,omitempty"`
	Auth       Auth   `json:"auth"`
}

// Auth describes a portal's credentials without their secret parts.
type Auth struct {
	Kind AuthKind `json:"kind"`
	// ClientID is the OAuth application's client id (Kind oauth). The client
	// secret and the tokens are in the SecretStore.
	ClientID string `json:"client_id,omitempty"`
	// WebhookUserID is the user of an incoming webhook URL
	// https://portal/rest/{user}/{code}/ (Kind webhook). The code is secret.
	WebhookUserID int `json:"webhook_user_id,omitempty"`
}

// CallProcessing is «Обработка звонков» (CP1–CP8).
type CallProcessing struct {
	// UseOtherTelephony is CP1: another telephony owns the CRM integration;
	// we only update extra fields of entities changed during the call.
	UseOtherTelephony bool `json:"use_other_telephony"`
	// FirstCommunicationField is the text user field (UF_CRM_*) CP1 fills
	// with the call's first communication id when it is empty.
	FirstCommunicationField string `json:"first_communication_field,omitempty"`
	// ForwardToPersonalManager is CP2: answer the PBX's routing queries.
	ForwardToPersonalManager bool `json:"forward_to_personal_manager"`
	// CreateForIncoming is CP3; CreateForOutgoing is CP4.
	CreateForIncoming bool `json:"create_for_incoming"`
	CreateForOutgoing bool `json:"create_for_outgoing"`
	// UpdateResponsibleAfterMinutes is CP5; 0 means immediately.
	UpdateResponsibleAfterMinutes int `json:"update_responsible_after_minutes"`
	// VirtualNumberAsSource is CP6.
	VirtualNumberAsSource bool `json:"virtual_number_as_source"`
	// Filters is CP7.
	Filters CallFilters `json:"filters"`
}

// CallFilters is CP7: which calls are processed at all.
type CallFilters struct {
	Enabled  bool   `json:"enabled"`
	Incoming Filter `json:"incoming"`
	Outgoing Filter `json:"outgoing"`
}

// ClickToCall is «Звонки по клику из CRM» (C1–C3).
type ClickToCall struct {
	Enabled bool `json:"enabled"`
	// Number is the number used for click-to-call calls (C2).
	Number string `json:"number,omitempty"`
	// OverrideCallerID shows the client only Number (C3).
	OverrideCallerID bool `json:"override_caller_id"`
}

// Callback is «Обратный звонок» (CB1).
type Callback struct {
	Enabled bool `json:"enabled"`
	// Number is called when no employee is mapped or has no SIP account.
	Number string `json:"number,omitempty"`
}

// Recordings is «Запись разговора» (RC1–RC2).
type Recordings struct {
	// Send is RC1.
	Send bool `json:"send"`
	// WithFilters is RC2: create the activity and send the recording when a
	// filter on last scenario operation or employee is set.
	WithFilters bool `json:"with_filters"`
}

// OpenLines is «Открытые линии» (OL1).
type OpenLines struct {
	// NotifyEmployee posts a message about each incoming call to the
	// responsible employee's chat.
	NotifyEmployee bool `json:"notify_employee"`
}

// Templates holds title templates (T1–T2). The first matching template for
// a direction and entity type wins; without one the default (T2) is used.
type Templates struct {
	Rules []TitleTemplate `json:"rules"`
}

// EntityType is a CRM entity type.
type EntityType string

// CRM entity types.
const (
	EntityLead    EntityType = "lead"
	EntityDeal    EntityType = "deal"
	EntityContact EntityType = "contact"
	EntityCompany EntityType = "company"
)

// TitleTemplate is one template rule (T1).
type TitleTemplate struct {
	Direction Direction  `json:"direction"`
	Entity    EntityType `json:"entity"`
	// Template is the title text with {{variable}} placeholders.
	Template string `json:"template"`
	// Filter guards the template; empty matches every call.
	Filter Filter `json:"filter"`
}

// Pipelines holds where created leads and deals go (F1–F2).
type Pipelines struct {
	DefaultIncoming Stage          `json:"default_incoming"`
	DefaultOutgoing Stage          `json:"default_outgoing"`
	Rules           []PipelineRule `json:"rules"`
}

// Stage is a pipeline (deal category) and a stage in it. For leads (classic
// mode) StageID is the lead STATUS_ID and CategoryID is unused. An empty
// StageID means the portal's default.
type Stage struct {
	CategoryID int    `json:"category_id"`
	StageID    string `json:"stage_id,omitempty"`
}

// PipelineRule is F2: calls of Direction that match Filter go to Stage; the
// rest go to the default. An "exclude" condition makes the matching calls
// the ones whose parameter is none of the values (SPEC §9).
type PipelineRule struct {
	Direction Direction `json:"direction"`
	Filter    Filter    `json:"filter"`
	Stage     Stage     `json:"stage"`
}

// Talker says who counts as "who answered" in a transferred call (RS3).
type Talker string

// Talker choices.
const (
	TalkerFirst Talker = "first"
	TalkerLast  Talker = "last"
)

// Responsibles is «Ответственные» (RS1–RS3). User IDs are Bitrix24 user IDs;
// 0 means not chosen.
type Responsibles struct {
	DefaultIncoming int               `json:"default_incoming"`
	DefaultOutgoing int               `json:"default_outgoing"`
	Talker          Talker            `json:"talker"`
	Rules           []ResponsibleRule `json:"rules"`
}

// ResponsibleRule is RS2: incoming calls matching Filter go to UserID.
type ResponsibleRule struct {
	Filter Filter `json:"filter"`
	UserID int    `json:"user_id"`
}

// ExtraFields is «Доп. поля» (EF1–EF2).
type ExtraFields struct {
	// AlwaysUpdate is EF2.
	AlwaysUpdate bool           `json:"always_update"`
	Mappings     []FieldMapping `json:"mappings"`
}

// FieldMapping maps a Bitrix24 text user field to a call parameter (EF1).
type FieldMapping struct {
	Field string `json:"field"`
	Param Param  `json:"param"`
}

// Transport is a SIP transport.
type Transport string

// SIP transports.
const (
	TransportUDP Transport = "udp"
	TransportTCP Transport = "tcp"
	TransportTLS Transport = "tls"
	TransportWS  Transport = "ws"
	TransportWSS Transport = "wss"
)

// DTMFMode is how key presses are sent.
type DTMFMode string

// DTMF modes.
const (
	DTMFRFC4733 DTMFMode = "rfc4733"
	DTMFInfo    DTMFMode = "info"
)

// SIP holds the phone's accounts; exactly one is the default when any exist.
type SIP struct {
	Accounts []SIPAccount `json:"accounts"`
}

// SIPAccount is one SIP registration. The password is in the SecretStore.
type SIPAccount struct {
	// ID is a short stable key, like Portal.ID.
	ID          string `json:"id"`
	DisplayName string `json:"display_name,omitempty"`
	// User is the SIP user part (usually the extension).
	User string `json:"user"`
	// AuthUser is the digest user name when it differs from User.
	AuthUser string `json:"auth_user,omitempty"`
	// Domain is the SIP domain of the address of record, host[:port].
	Domain string `json:"domain"`
	// Registrar and Proxy are host[:port]; empty means Domain.
	Registrar string    `json:"registrar,omitempty"`
	Proxy     string    `json:"proxy,omitempty"`
	Transport Transport `json:"transport"`
	// CACertFile optionally names a PEM file with the CA that signs the
	// PBX's TLS certificate (transport tls or wss); empty trusts the system's.
	CACertFile string `json:"ca_cert_file,omitempty"`
	// WSPath is the path of the WebRTC gateway's WebSocket URL (transport
	// ws or wss), e.g. "/ws" for Asterisk; empty means "/".
	WSPath string `json:"ws_path,omitempty"`
	// SRTP is the media encryption: "off" (the default), "optional"
	// (offer SRTP, fall back to plain RTP when the peer refuses it, accept
	// both) or "required" (SDES; use it with TLS, which hides the keys in
	// the SDP).
	SRTP SRTPPolicy `json:"srtp,omitempty"`
	// ExpirySeconds is the requested registration lifetime.
	ExpirySeconds int `json:"expiry_seconds"`
	// Codecs in order of preference.
	Codecs []string `json:"codecs"`
	DTMF   DTMFMode `json:"dtmf"`
	// CallerID is the number presented on outgoing calls, if any.
	CallerID string `json:"caller_id,omitempty"`
	// CallerIDMode is where the PBX expects a caller ID (C3 and CallerID):
	// "from" (the user part of From, the default) or "identity"
	// (P-Asserted-Identity/P-Preferred-Identity, From left as User).
	CallerIDMode CallerIDMode `json:"caller_id_mode,omitempty"`
	// DialPlan rewrites dialled numbers for the PBX; empty is DialPlanNone.
	DialPlan DialPlan `json:"dial_plan,omitempty"`
	// CallHeaders maps INVITE headers of the PBX's call tracking to the
	// call parameters they carry (e.g. "X-Scenario": "scenario"); see
	// CallHeaderParams.
	CallHeaders map[string]string `json:"call_headers,omitempty"`
	// FailoverRegistrars are host[:port] registrars tried in order when the
	// registrar does not answer or answers 5xx; the phone goes back to the
	// registrar once it answers again.
	FailoverRegistrars []string `json:"failover_registrars,omitempty"`
	// TrustedSources are more host[:port] addresses allowed to send calls
	// (a PBX whose other nodes send INVITEs); by default only the
	// registrars and the proxy may (ghost-call protection).
	TrustedSources []string `json:"trusted_sources,omitempty"`
	// AcceptAnySource turns ghost-call protection off: calls are accepted
	// from any address, as from a PBX that reaches the phone directly.
	AcceptAnySource bool `json:"accept_any_source,omitempty"`
	// KeepAliveSeconds is how often the registrar is pinged to keep NAT
	// bindings open (OPTIONS on UDP, CRLF on TCP/TLS); 0 means 25 s.
	KeepAliveSeconds int `json:"keepalive_seconds,omitempty"`
	// KeepAliveOff turns the keep-alive off (a PBX on the same network).
	KeepAliveOff bool `json:"keepalive_off,omitempty"`
	Default      bool `json:"default"`
}

// Keep-alive interval bounds (SIPAccount.KeepAliveSeconds).
const (
	MinKeepAliveSeconds = 5
	MaxKeepAliveSeconds = 3600
)

// SRTPPolicy is whether calls encrypt their audio.
type SRTPPolicy string

// SRTP policies.
const (
	SRTPOff      SRTPPolicy = "off"
	SRTPOptional SRTPPolicy = "optional"
	SRTPRequired SRTPPolicy = "required"
)

// CallerIDMode is how an outgoing call presents a caller ID.
type CallerIDMode string

// Caller ID modes.
const (
	// CallerIDFrom writes it as the user part of From.
	CallerIDFrom CallerIDMode = "from"
	// CallerIDIdentity writes it in P-Asserted-Identity and
	// P-Preferred-Identity and keeps From as the account's user.
	CallerIDIdentity CallerIDMode = "identity"
)

// CallHeaderParams are the call parameters an INVITE header may carry.
var CallHeaderParams = []string{"scenario", "last_operation", "group", "campaign", "first_campaign", "site", "source", "first_communication_id"}

// DialPlan is how dialled Russian numbers are written for the PBX.
type DialPlan string

// Dial plans.
const (
	// DialPlanNone sends numbers as typed (punctuation removed).
	DialPlanNone DialPlan = "none"
	// DialPlanRuE164 writes Russian numbers as +7XXXXXXXXXX.
	DialPlanRuE164 DialPlan = "ru-e164"
	// DialPlanRu8 writes them as 8XXXXXXXXXX.
	DialPlanRu8 DialPlan = "ru-8"
	// DialPlanRu7 writes them as 7XXXXXXXXXX.
	DialPlanRu7 DialPlan = "ru-7"
)

// SyncMode says where the sync engine runs.
type SyncMode string

// Sync modes.
const (
	SyncEmbedded SyncMode = "embedded"
	SyncTeam     SyncMode = "team"
)

// Sync says where finished calls are sent. In team mode the bearer token
// for TeamURL is in the SecretStore.
type Sync struct {
	Mode    SyncMode `json:"mode"`
	TeamURL string   `json:"team_url,omitempty"`
}

// Language is a UI language.
type Language string

// UI languages.
const (
	LanguageRU Language = "ru"
	LanguageEN Language = "en"
)

// Preferences are the operator's app preferences.
type Preferences struct {
	Language Language `json:"language"`
	// Audio devices are remembered by name; empty means the system default.
	InputDevice  string `json:"input_device,omitempty"`
	OutputDevice string `json:"output_device,omitempty"`
	RingDevice   string `json:"ring_device,omitempty"`
	// StartMinimised starts the app in the tray.
	StartMinimised bool     `json:"start_minimised"`
	Card           CallCard `json:"card"`
}

// CallCard is how the incoming-call card behaves.
type CallCard struct {
	// Show shows the card on incoming calls.
	Show bool `json:"show"`
	// OpenEntityOnAnswer opens the matched CRM entity in the browser when
	// the operator answers.
	OpenEntityOnAnswer bool `json:"open_entity_on_answer"`
	// HideOnAnswer closes the card once the call is answered.
	HideOnAnswer bool `json:"hide_on_answer"`
}
