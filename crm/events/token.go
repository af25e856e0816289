package events

import (
	"context"
	"errors"
	"fmt"

	"github.com/omniphone/omniphone/settings"
)

// TokenStore keeps each portal's application_token, the secret Bitrix24
// puts into every event it sends (reference §4.7).
type TokenStore interface {
	// ApplicationToken returns the stored token, or an error wrapping
	// ErrNoApplicationToken when none is stored.
	ApplicationToken(ctx context.Context, portalID string) (string, error)
	// SetApplicationToken stores the token of a portal.
	SetApplicationToken(ctx context.Context, portalID, token string) error
}

// ErrNoApplicationToken means no application_token is stored for a portal.
var ErrNoApplicationToken = errors.New("no application_token is stored for the portal")

// SecretTokens keeps application tokens in a settings.SecretStore under
// settings.PortalApplicationToken (the OS keyring on the desktop).
type SecretTokens struct {
	Secrets settings.SecretStore
}

var _ TokenStore = SecretTokens{}

// ApplicationToken implements TokenStore.
func (s SecretTokens) ApplicationToken(_ context.Context, portalID string) (string, error) {
	tok, err := s.Secrets.Get(settings.PortalApplicationToken(portalID))
	if errors.Is(err, settings.ErrSecretNotFound) || (err == nil && tok == "") {
		return "", fmt.Errorf("portal %s: %w", portalID, ErrNoApplicationToken)
	}
	if err != nil {
		return "", fmt.Errorf("portal %s: read application_token: %w", portalID, err)
	}
	return tok, nil
}

// SetApplicationToken implements TokenStore.
func (s SecretTokens) SetApplicationToken(_ context.Context, portalID, token string) error {
	if err := s.Secrets.Set(settings.PortalApplicationToken(portalID), token); err != nil {
		return fmt.Errorf("portal %s: store application_token: %w", portalID, err)
	}
	return nil
}
