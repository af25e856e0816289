package b24

import (
	"fmt"

	"github.com/omniphone/omniphone/settings"
)

// ForPortal returns a client for a configured portal, its credentials read
// from secrets: the webhook code, or the OAuth client secret with the
// token pair kept in secrets too. opts supplies everything else (limits,
// logger); its Portal, Auth and CACertFile are set from p.
func ForPortal(p settings.Portal, secrets settings.SecretStore, opts Options) (*Client, error) {
	opts.Portal, opts.CACertFile = p.Domain, p.CACertFile
	switch p.Auth.Kind {
	case settings.AuthWebhook:
		code, err := secrets.Get(settings.PortalWebhookCode(p.ID))
		if err != nil {
			return nil, fmt.Errorf("portal %s: webhook code: %w", p.Name, err)
		}
		opts.Auth = Webhook{UserID: p.Auth.WebhookUserID, Code: code}
	case settings.AuthOAuth:
		secret, err := secrets.Get(settings.PortalClientSecret(p.ID))
		if err != nil {
			return nil, fmt.Errorf("portal %s: client secret: %w", p.Name, err)
		}
		opts.Auth = &OAuth{ClientID: p.Auth.ClientID, ClientSecret: secret, Store: SecretTokenStore{Secrets: secrets, PortalID: p.ID}}
	default:
		return nil, fmt.Errorf("portal %s: unknown connection kind %q", p.Name, p.Auth.Kind)
	}
	return New(opts)
}
