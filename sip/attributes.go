package sip

import (
	"maps"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Attribute names of [Call.Attributes] used by the rules engine (SPEC §3
// CP7, the "params" of the call record). Header attributes may use any
// name; these are the ones the application knows.
const (
	// AttrVirtualNumber is the company number the client called (inbound)
	// or the caller ID we used (outbound).
	AttrVirtualNumber = "virtual_number"
	// AttrScenario is the PBX scenario that handled the call.
	AttrScenario = "scenario"
	// AttrLastOperation is the last scenario operation before the call reached us.
	AttrLastOperation = "last_operation"
	// AttrGroup is the group the visitor selected (IVR choice).
	AttrGroup = "group"
	// AttrCampaign is the advertising campaign of this call.
	AttrCampaign = "campaign"
	// AttrFirstCampaign is the campaign of the client's first communication.
	AttrFirstCampaign = "first_campaign"
	// AttrSite is the site the visitor came from.
	AttrSite = "site"
	// AttrSource is the traffic source.
	AttrSource = "source"
	// AttrFirstCommunicationID is the PBX id of the client's first communication.
	AttrFirstCommunicationID = "first_communication_id"
)

// DefaultVirtualNumberHeaders is the order used when
// [Config.VirtualNumberHeaders] is empty.
func DefaultVirtualNumberHeaders() []string {
	return []string{"P-Called-Party-ID", "Diversion", "To"}
}

// validHeaderName reports whether s is an RFC 3261 token usable as a header name.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-.!%*_+`'~", r):
		default:
			return false
		}
	}
	return true
}

// callAttributes computes the attributes of an incoming INVITE from its
// headers (lower-case name → values in order of appearance).
func callAttributes(cfg Config, hdrs map[string][]string) map[string]string {
	attrs := make(map[string]string)
	for _, name := range cfg.VirtualNumberHeaders {
		vals := splitHeaderValues(hdrs[strings.ToLower(name)])
		if len(vals) == 0 {
			continue
		}
		v := vals[0]
		if strings.EqualFold(name, "Diversion") {
			// RFC 5806 §3: the most recent diversion comes first; the
			// number originally called is the last entry.
			v = vals[len(vals)-1]
		}
		if n := uriNumber(v); n != "" {
			attrs[AttrVirtualNumber] = n
			break
		}
	}
	for h, attr := range cfg.AttributeHeaders {
		vals := hdrs[strings.ToLower(h)]
		if len(vals) == 0 {
			continue
		}
		if v := headerText(vals[0]); v != "" {
			attrs[attr] = v
		}
	}
	return attrs
}

// splitHeaderValues splits comma-separated name-addr values (commas inside
// quotes or angle brackets do not split).
func splitHeaderValues(vals []string) []string {
	var out []string
	for _, v := range vals {
		depth, quoted, start := 0, false, 0
		for i := 0; i < len(v); i++ {
			switch c := v[i]; {
			case c == '"' && (i == 0 || v[i-1] != '\\'):
				quoted = !quoted
			case quoted:
			case c == '<':
				depth++
			case c == '>':
				depth--
			case c == ',' && depth == 0:
				if s := strings.TrimSpace(v[start:i]); s != "" {
					out = append(out, s)
				}
				start = i + 1
			}
		}
		if s := strings.TrimSpace(v[start:]); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// uriNumber returns the user part of the SIP URI (or the number of the tel
// URI) in a name-addr or addr-spec, without parameters.
func uriNumber(v string) string {
	if i := strings.IndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := strings.IndexByte(v, '>'); j >= 0 {
			v = v[:j]
		}
	} else if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i] // header parameters of an addr-spec (RFC 3261 §20)
	}
	v = strings.TrimSpace(v)
	scheme, rest, ok := strings.Cut(v, ":")
	if !ok {
		return ""
	}
	switch strings.ToLower(scheme) {
	case "sip", "sips":
		user, _, ok := strings.Cut(rest, "@")
		if !ok {
			return ""
		}
		rest = user
	case "tel":
	default:
		return ""
	}
	if i := strings.IndexAny(rest, ";?"); i >= 0 {
		rest = rest[:i]
	}
	if strings.ContainsAny(rest, "<>\" ") {
		return "" // not a user part or telephone-subscriber (RFC 3261 §25.1, RFC 3966)
	}
	if u, err := url.PathUnescape(rest); err == nil {
		rest = u
	}
	return rest
}

// headerText returns a call-tracking header value: trimmed, with
// percent-encoding decoded when that yields valid UTF-8 (PBXs send
// non-ASCII names such as Cyrillic campaign titles that way).
func headerText(v string) string {
	v = strings.TrimSpace(v)
	if strings.Contains(v, "%") {
		if u, err := url.PathUnescape(v); err == nil && utf8.ValidString(u) {
			v = u
		}
	}
	return v
}

// Attributes returns the call's attributes for the rules engine: for an
// incoming call [AttrVirtualNumber] (from [Config.VirtualNumberHeaders])
// and the headers mapped by [Config.AttributeHeaders]; for an outgoing
// call [AttrVirtualNumber] is the caller ID used. Absent attributes are
// not in the map. The map is a copy.
func (c *Call) Attributes() map[string]string {
	return maps.Clone(c.attrs)
}

// Attribute returns one attribute, "" when absent.
func (c *Call) Attribute(name string) string { return c.attrs[name] }
