package settings

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Webhook is an incoming-webhook URL split into what the settings keep
// (Domain, UserID) and what goes to the SecretStore (Code).
type Webhook struct {
	Domain string
	UserID int
	Code   string
}

// ParseWebhookURL splits https://portal/rest/USER/CODE/ (as Bitrix24 shows
// it, with or without a method name after the code).
func ParseWebhookURL(raw string) (Webhook, error) {
	const shape = "expected https://company.bitrix24.ru/rest/USER/CODE/ as Bitrix24 shows it"
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return Webhook{}, fmt.Errorf("webhook URL: %s", shape)
	}
	domain := u.Scheme + "://" + u.Host
	if msg := CheckPortalDomain(domain); msg != "" {
		return Webhook{}, fmt.Errorf("webhook URL: address %s", msg)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 3 || parts[0] != "rest" {
		return Webhook{}, fmt.Errorf("webhook URL: %s", shape)
	}
	user, err := strconv.Atoi(parts[1])
	if err != nil || user <= 0 {
		return Webhook{}, fmt.Errorf("webhook URL: %q is not a user ID; %s", parts[1], shape)
	}
	if parts[2] == "" {
		return Webhook{}, fmt.Errorf("webhook URL: the code is missing; %s", shape)
	}
	return Webhook{Domain: domain, UserID: user, Code: parts[2]}, nil
}
