package settings

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	idPattern        = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	userFieldPattern = regexp.MustCompile(`^UF_CRM_[A-Z0-9_]+$`)
	phonePattern     = regexp.MustCompile(`^\+?[0-9][0-9 ()\-]*$`)
)

// Limits of numeric settings.
const (
	MaxResponsibleDelayMinutes = 7 * 24 * 60
	MinExpirySeconds           = 60
	MaxExpirySeconds           = 86400
)

// Validate checks every section and returns all problems at once as
// Problems, or nil when the settings can be saved.
func (s Settings) Validate() error {
	var c problems
	if s.Version != CurrentVersion {
		c.add("version", "must be %d (this build's settings version), not %d", CurrentVersion, s.Version)
	}
	s.validatePortals(&c)
	s.validateCallProcessing(&c)
	if s.ClickToCall.Enabled {
		validateNumber(&c, "click_to_call.number", s.ClickToCall.Number, "is required when click-to-call is on (C2)")
	}
	if s.Callback.Enabled {
		validateNumber(&c, "callback.number", s.Callback.Number, "is required when callback is on (CB1)")
	}
	s.Templates.validate(&c)
	s.Pipelines.validate(&c)
	s.validateResponsibles(&c)
	s.ExtraFields.validate(&c)
	s.SIP.validate(&c)
	s.Sync.validate(&c)
	if s.App.Language != LanguageRU && s.App.Language != LanguageEN {
		c.add("app.language", "must be \"ru\" or \"en\", not %q", s.App.Language)
	}
	return c.err()
}

func (s Settings) validatePortals(c *problems) {
	ids := map[string]bool{}
	mains := 0
	for i, p := range s.Portals {
		path := index("portals", i)
		validateID(c, path+".id", p.ID, ids)
		if strings.TrimSpace(p.Name) == "" {
			c.add(path+".name", "is required: give the portal a name to tell it apart")
		}
		if format, args := portalDomainProblem(p.Domain); format != "" {
			c.add(path+".domain", format, args...)
		}
		if p.Main {
			mains++
		}
		switch p.Auth.Kind {
		case AuthOAuth:
			if strings.TrimSpace(p.Auth.ClientID) == "" {
				c.add(path+".auth.client_id", "is required for an OAuth application: copy it from the application's page in Bitrix24")
			}
		case AuthWebhook:
			if p.Auth.WebhookUserID <= 0 {
				c.add(path+".auth.webhook_user_id", "is required for an incoming webhook: paste the webhook URL https://portal/rest/USER/CODE/")
			}
		default:
			c.add(path+".auth.kind", "must be \"oauth\" or \"webhook\", not %q", p.Auth.Kind)
		}
	}
	if len(s.Portals) > 0 && mains != 1 {
		c.add("portals", "exactly one portal must be main, but %d are: switch \"main\" on for one portal only", mains)
	}
	if s.TelephonyPortal != "" && !ids[s.TelephonyPortal] {
		c.add("telephony_portal", "names portal %q, which does not exist: pick one of the portals or leave it empty for the main one", s.TelephonyPortal)
	}
}

// CheckPortalDomain returns why domain cannot be a portal address (P1), or
// "" when it can: https://host[:port][/], or http on a loopback address.
func CheckPortalDomain(domain string) string {
	format, args := portalDomainProblem(domain)
	if format == "" {
		return ""
	}
	return fmt.Sprintf(format, args...)
}

func portalDomainProblem(domain string) (string, []any) {
	if strings.TrimSpace(domain) == "" {
		return "is required: the portal address, like %s", []any{"https://company.bitrix24.ru"}
	}
	return httpsProblem(domain, false, "https://company.bitrix24.ru")
}

// httpsProblem says why raw is not an https address (http is allowed on
// loopback only), as a format and its arguments, or "" when it is one.
// example is quoted in the messages.
func httpsProblem(raw string, allowPath bool, example string) (string, []any) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return "must be a full address starting with https://, like %s", []any{example}
	}
	if u.User != nil || (!allowPath && u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "must be only the address, like %s, without a path, query or user name", []any{example}
	}
	switch u.Scheme {
	case "https":
		return "", nil
	case "http":
		if isLoopback(u.Hostname()) {
			return "", nil
		}
		return "must start with https:// — plain http is allowed only on this computer (127.0.0.1)", nil
	default:
		return "must start with https://, like %s", []any{example}
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validateID(c *problems, path, id string, seen map[string]bool) {
	switch {
	case !idPattern.MatchString(id):
		c.add(path, "must be 1–32 lowercase letters, digits, '-' or '_', starting with a letter or digit, not %q", id)
	case seen[id]:
		c.add(path, "%q is used twice: each ID must be unique", id)
	}
	seen[id] = true
}

func validateNumber(c *problems, path, number, required string) {
	switch {
	case strings.TrimSpace(number) == "":
		c.addText(path, required)
	case !isPhoneNumber(number):
		c.add(path, "%q is not a phone number: use digits, optionally with a leading + (like +74951234567)", number)
	}
}

func isPhoneNumber(s string) bool {
	if !phonePattern.MatchString(s) {
		return false
	}
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	return digits >= 3 && digits <= 15
}

func (s Settings) validateCallProcessing(c *problems) {
	cp := s.CallProcessing
	if f := cp.FirstCommunicationField; f != "" && !userFieldPattern.MatchString(f) {
		c.add("call_processing.first_communication_field", "%q is not a CRM user field: pick a text field named UF_CRM_…", f)
	}
	if cp.UseOtherTelephony {
		return // CP1: the rest is disabled and not checked.
	}
	if m := cp.UpdateResponsibleAfterMinutes; m < 0 || m > MaxResponsibleDelayMinutes {
		c.add("call_processing.update_responsible_after_minutes", "must be between 0 (immediately) and %d minutes (a week), not %d", MaxResponsibleDelayMinutes, m)
	}
	validateFilter(c, "call_processing.filters.incoming", cp.Filters.Incoming, DirectionIn, false)
	validateFilter(c, "call_processing.filters.outgoing", cp.Filters.Outgoing, DirectionOut, false)
}

// validateFilter checks a §9 filter for a direction. required means an empty
// filter is itself a problem (a rule with no condition).
func validateFilter(c *problems, path string, f Filter, d Direction, required bool) {
	if required && f.IsEmpty() {
		c.add(path, "needs at least one condition: a rule without one would catch every call")
	}
	allowed := FilterParams[d]
	for gi, g := range f.Groups {
		gpath := index(path+".groups", gi)
		if len(g.Conditions) == 0 {
			c.add(gpath, "is an empty group: add a condition to it or remove it")
		}
		for ci, cond := range g.Conditions {
			cpath := index(gpath+".conditions", ci)
			switch {
			case !slices.Contains(FilterParams[DirectionIn], cond.Param):
				c.add(cpath+".param", "unknown parameter %q: use one of %s", cond.Param, joinParams(allowed))
			case !slices.Contains(allowed, cond.Param) && d == DirectionOut:
				c.add(cpath+".param", "%q cannot filter outgoing calls: use one of %s", cond.Param, joinParams(allowed))
			case !slices.Contains(allowed, cond.Param):
				c.add(cpath+".param", "%q cannot filter incoming calls: use one of %s", cond.Param, joinParams(allowed))
			}
			if cond.Mode != ModeInclude && cond.Mode != ModeExclude {
				c.add(cpath+".mode", "must be \"include\" or \"exclude\", not %q", cond.Mode)
			}
			if len(cond.Values) == 0 {
				c.add(cpath+".values", "needs at least one value")
			}
			for vi, v := range cond.Values {
				if strings.TrimSpace(v) == "" {
					c.add(index(cpath+".values", vi), "is empty: fill it in or remove it")
				}
			}
		}
	}
}

func validateDirection(c *problems, path string, d Direction) bool {
	if d != DirectionIn && d != DirectionOut {
		c.add(path, "must be \"in\" or \"out\", not %q", d)
		return false
	}
	return true
}

func (t Templates) validate(c *problems) {
	for i, r := range t.Rules {
		path := index("templates.rules", i)
		dirOK := validateDirection(c, path+".direction", r.Direction)
		switch r.Entity {
		case EntityLead, EntityDeal, EntityContact, EntityCompany:
		default:
			c.add(path+".entity", "must be lead, deal, contact or company, not %q", r.Entity)
		}
		if strings.TrimSpace(r.Template) == "" {
			c.add(path+".template", "is empty: write a title or remove the template")
		} else if _, err := ParseTemplate(r.Template); err != nil {
			var te *TemplateError
			if errors.As(err, &te) {
				c.add(path+".template", te.Format+" (T2)", te.Args...)
			}
		}
		if dirOK {
			validateFilter(c, path+".filter", r.Filter, r.Direction, false)
		}
	}
}

func (p Pipelines) validate(c *problems) {
	validateStage(c, "pipelines.default_incoming", p.DefaultIncoming, false)
	validateStage(c, "pipelines.default_outgoing", p.DefaultOutgoing, false)
	for i, r := range p.Rules {
		path := index("pipelines.rules", i)
		if validateDirection(c, path+".direction", r.Direction) {
			validateFilter(c, path+".filter", r.Filter, r.Direction, true)
		}
		validateStage(c, path+".stage", r.Stage, true)
	}
}

func validateStage(c *problems, path string, st Stage, required bool) {
	if st.CategoryID < 0 {
		c.add(path+".category_id", "must not be negative (0 is the general pipeline)")
	}
	if required && strings.TrimSpace(st.StageID) == "" {
		c.add(path+".stage_id", "is required once a pipeline rule is added (F2): pick a pipeline and a stage, or press refresh if the list is empty")
	}
}

func (s Settings) validateResponsibles(c *problems) {
	r := s.Responsibles
	if r.Talker != TalkerFirst && r.Talker != TalkerLast {
		c.add("responsibles.talker", "must be \"first\" or \"last\", not %q (RS3)", r.Talker)
	}
	if len(s.Portals) > 0 && !s.CallProcessing.UseOtherTelephony {
		const hint = "is required (RS1): pick an employee, or press \"Sync employees\" if the list is empty"
		if r.DefaultIncoming <= 0 {
			c.add("responsibles.default_incoming", hint)
		}
		if r.DefaultOutgoing <= 0 {
			c.add("responsibles.default_outgoing", hint)
		}
	}
	for i, rule := range r.Rules {
		path := index("responsibles.rules", i)
		validateFilter(c, path+".filter", rule.Filter, DirectionIn, true)
		if rule.UserID <= 0 {
			c.add(path+".user_id", "is required: pick the employee this rule assigns (RS2)")
		}
	}
}

func (e ExtraFields) validate(c *problems) {
	seen := map[string]bool{}
	for i, m := range e.Mappings {
		path := index("extra_fields.mappings", i)
		switch {
		case !userFieldPattern.MatchString(m.Field):
			c.add(path+".field", "%q is not a CRM text user field: pick one named UF_CRM_… (EF1)", m.Field)
		case seen[m.Field]:
			c.add(path+".field", "%s is mapped twice: keep one mapping per field", m.Field)
		}
		seen[m.Field] = true
		if !slices.Contains(ExtraFieldParams, m.Param) {
			c.add(path+".param", "unknown parameter %q: use one of %s", m.Param, joinParams(ExtraFieldParams))
		}
	}
}

func (s SIP) validate(c *problems) {
	ids := map[string]bool{}
	defaults := 0
	for i, a := range s.Accounts {
		path := index("sip.accounts", i)
		validateID(c, path+".id", a.ID, ids)
		if strings.TrimSpace(a.User) == "" || strings.ContainsAny(a.User, " @:") {
			c.add(path+".user", "is required: the SIP user name or extension, without spaces, '@' or ':'")
		}
		if !isHost(a.Domain, true) {
			c.add(path+".domain", "%q is not a SIP domain: use a host name or IP address, like pbx.example.com", a.Domain)
		}
		for _, hp := range []struct{ name, v string }{{"registrar", a.Registrar}, {"proxy", a.Proxy}} {
			if hp.v != "" && !isHost(hp.v, true) {
				c.add(path+"."+hp.name, "%q is not host[:port]: use a host name or IP address, optionally with :port", hp.v)
			}
		}
		for _, list := range []struct {
			name string
			vs   []string
		}{{"failover_registrars", a.FailoverRegistrars}, {"trusted_sources", a.TrustedSources}} {
			for _, v := range list.vs {
				if !isHost(v, true) {
					c.add(path+"."+list.name, "%q is not host[:port]: use a host name or IP address, optionally with :port", v)
				}
			}
		}
		if k := a.KeepAliveSeconds; k != 0 && (k < MinKeepAliveSeconds || k > MaxKeepAliveSeconds) {
			c.add(path+".keepalive_seconds", "must be between %d and %d seconds, or empty for the default (25 s)",
				MinKeepAliveSeconds, MaxKeepAliveSeconds)
		}
		switch a.Transport {
		case TransportUDP, TransportTCP, TransportTLS, TransportWS, TransportWSS:
		default:
			c.add(path+".transport", "must be udp, tcp, tls, ws or wss, not %q", a.Transport)
		}
		if a.ExpirySeconds < MinExpirySeconds || a.ExpirySeconds > MaxExpirySeconds {
			c.add(path+".expiry_seconds", "must be between %d and %d seconds, not %d", MinExpirySeconds, MaxExpirySeconds, a.ExpirySeconds)
		}
		validateCodecs(c, path+".codecs", a.Codecs)
		if a.DTMF != DTMFRFC4733 && a.DTMF != DTMFInfo {
			c.add(path+".dtmf", "must be \"rfc4733\" or \"info\", not %q", a.DTMF)
		}
		switch a.DialPlan {
		case "", DialPlanNone, DialPlanRuE164, DialPlanRu8, DialPlanRu7:
		default:
			c.add(path+".dial_plan", "must be none, ru-e164, ru-8 or ru-7, not %q", a.DialPlan)
		}
		for _, h := range sortedMapKeys(a.CallHeaders) {
			switch {
			case strings.TrimSpace(h) == "" || strings.ContainsAny(h, " :\t"):
				c.add(path+".call_headers", "%q is not a header name", h)
			case !slices.Contains(CallHeaderParams, a.CallHeaders[h]):
				c.add(path+".call_headers", "header %s maps to %q: use one of %s", h, a.CallHeaders[h], strings.Join(CallHeaderParams, ", "))
			}
		}
		switch a.CallerIDMode {
		case "", CallerIDFrom, CallerIDIdentity:
		default:
			c.add(path+".caller_id_mode", "must be \"from\" or \"identity\", not %q", a.CallerIDMode)
		}
		switch a.SRTP {
		case "", SRTPOff, SRTPOptional, SRTPRequired:
		default:
			c.add(path+".srtp", "must be \"off\", \"optional\" or \"required\", not %q", a.SRTP)
		}
		if a.CACertFile != "" && a.Transport != TransportTLS && a.Transport != TransportWSS {
			c.add(path+".ca_cert_file", "is only used with the tls and wss transports")
		}
		switch {
		case a.WSPath == "":
		case a.Transport != TransportWS && a.Transport != TransportWSS:
			c.add(path+".ws_path", "is only used with the ws and wss transports")
		case !strings.HasPrefix(a.WSPath, "/") || strings.ContainsAny(a.WSPath, " #\t\r\n"):
			c.add(path+".ws_path", "%q is not a URL path: start it with / and leave out spaces and #, like /ws", a.WSPath)
		}
		if a.SRTP != "" && a.SRTP != SRTPOff && (a.Transport == TransportWS || a.Transport == TransportWSS) {
			c.add(path+".srtp", "must be off with %s: WebRTC audio is always encrypted (DTLS-SRTP)", a.Transport)
		}
		if a.CallerID != "" && !isPhoneNumber(a.CallerID) {
			c.add(path+".caller_id", "%q is not a phone number: use digits, optionally with a leading +", a.CallerID)
		}
		if a.Default {
			defaults++
		}
	}
	if len(s.Accounts) > 0 && defaults != 1 {
		c.add("sip.accounts", "exactly one account must be the default, but %d are", defaults)
	}
}

func validateCodecs(c *problems, path string, codecs []string) {
	if len(codecs) == 0 {
		c.add(path, "needs at least one codec, like PCMU")
	}
	seen := map[string]bool{}
	for i, name := range codecs {
		k := strings.ToLower(name)
		if !slices.ContainsFunc(KnownCodecs, func(known string) bool { return strings.EqualFold(known, name) }) {
			c.add(index(path, i), "unknown codec %q: use %s", name, strings.Join(KnownCodecs, ", "))
		} else if seen[k] {
			c.add(index(path, i), "%s is listed twice", name)
		}
		seen[k] = true
	}
}

// isHost reports whether s is a host name or IP literal, with an optional
// port when withPort is set.
func isHost(s string, withPort bool) bool {
	host := s
	if withPort {
		if h, p, err := net.SplitHostPort(s); err == nil {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return false
			}
			host = h
		}
	}
	if host == "" || strings.ContainsAny(host, " /@:?#") && net.ParseIP(host) == nil {
		return false
	}
	return true
}

func (s Sync) validate(c *problems) {
	switch s.Mode {
	case SyncEmbedded:
	case SyncTeam:
		const example = "https://omnisync.example.com"
		if strings.TrimSpace(s.TeamURL) == "" {
			c.add("sync.team_url", "is required in team mode: the address of the omnisync service, like %s", example)
		} else if format, args := httpsProblem(s.TeamURL, true, example); format != "" {
			c.add("sync.team_url", format, args...)
		}
	default:
		c.add("sync.mode", "must be \"embedded\" or \"team\", not %q", s.Mode)
	}
}

func sortedMapKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func joinParams(ps []Param) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}
