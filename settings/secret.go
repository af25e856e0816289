package settings

import (
	"errors"
	"fmt"
)

// SecretStore keeps passwords and tokens out of the settings file (P3):
// the OS keyring on the desktop, environment variables or a 0600 file for
// omnisync.
type SecretStore interface {
	// Get returns the secret, or an error wrapping ErrSecretNotFound.
	Get(key SecretKey) (string, error)
	// Set stores the secret, replacing any previous value.
	Set(key SecretKey, value string) error
	// Delete removes the secret; deleting a missing secret is not an error.
	Delete(key SecretKey) error
}

// ErrSecretNotFound means the store has no value for the key.
var ErrSecretNotFound = errors.New("secret not found")

// UnavailableError means the store itself cannot be used (no Secret
// Service, locked keyring, unreadable file). Omniphone never falls back to
// writing secrets in plain text; the message tells the person what to do.
type UnavailableError struct {
	Store string
	Hint  string
	Err   error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("%s is not available: %v. %s", e.Store, e.Err, e.Hint)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// SecretKey names one secret. Keys are built by the functions below so the
// same secret always has the same name in every store.
type SecretKey string

// String returns the key's name.
func (k SecretKey) String() string { return string(k) }

// PortalClientSecret is an OAuth application's client secret.
func PortalClientSecret(portalID string) SecretKey {
	return SecretKey("portal/" + portalID + "/client_secret")
}

// PortalAccessToken is a portal's current OAuth access token.
func PortalAccessToken(portalID string) SecretKey {
	return SecretKey("portal/" + portalID + "/access_token")
}

// PortalRefreshToken is a portal's current OAuth refresh token.
func PortalRefreshToken(portalID string) SecretKey {
	return SecretKey("portal/" + portalID + "/refresh_token")
}

// PortalWebhookCode is the secret part of an incoming webhook URL.
func PortalWebhookCode(portalID string) SecretKey {
	return SecretKey("portal/" + portalID + "/webhook_code")
}

// PortalApplicationToken is the application_token Bitrix24 sends with
// events, used to check that an event really comes from the portal.
func PortalApplicationToken(portalID string) SecretKey {
	return SecretKey("portal/" + portalID + "/application_token")
}

// SIPPassword is a SIP account's password.
func SIPPassword(accountID string) SecretKey {
	return SecretKey("sip/" + accountID + "/password")
}

// SyncToken is the bearer token for the team sync service.
const SyncToken SecretKey = "sync/token"

// SecretKeys lists every secret the settings refer to, so a portal or an
// account can be removed together with its secrets.
func (s Settings) SecretKeys() []SecretKey {
	var keys []SecretKey
	for _, p := range s.Portals {
		switch p.Auth.Kind {
		case AuthOAuth:
			keys = append(keys, PortalClientSecret(p.ID), PortalAccessToken(p.ID), PortalRefreshToken(p.ID))
		case AuthWebhook:
			keys = append(keys, PortalWebhookCode(p.ID))
		}
		keys = append(keys, PortalApplicationToken(p.ID))
	}
	for _, a := range s.SIP.Accounts {
		keys = append(keys, SIPPassword(a.ID))
	}
	if s.Sync.Mode == SyncTeam {
		keys = append(keys, SyncToken)
	}
	return keys
}
