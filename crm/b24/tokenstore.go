package b24

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/omniphone/omniphone/settings"
)

// SecretTokenStore keeps a portal's token pair in a settings.SecretStore
// (the OS keyring on the desktop): the access and refresh tokens under
// their own keys, the rest of the pair's details beside the access token.
type SecretTokenStore struct {
	Secrets  settings.SecretStore
	PortalID string
}

var _ TokenStore = SecretTokenStore{}

// LoadToken implements TokenStore.
func (s SecretTokenStore) LoadToken(context.Context) (Token, error) {
	rawAccess, err := s.Secrets.Get(settings.PortalAccessToken(s.PortalID))
	if errors.Is(err, settings.ErrSecretNotFound) {
		return Token{}, ErrNoToken
	}
	if err != nil {
		return Token{}, err
	}
	refresh, err := s.Secrets.Get(settings.PortalRefreshToken(s.PortalID))
	if errors.Is(err, settings.ErrSecretNotFound) {
		return Token{}, ErrNoToken
	}
	if err != nil {
		return Token{}, err
	}
	var t Token
	if err := json.Unmarshal([]byte(rawAccess), &t); err != nil || t.AccessToken == "" {
		// A bare access token (stored by hand or an older build).
		t = Token{AccessToken: rawAccess}
	}
	t.RefreshToken = refresh
	return t, nil
}

// SaveToken implements TokenStore. The refresh token is written first: it
// is the one that cannot be recovered if lost.
func (s SecretTokenStore) SaveToken(_ context.Context, t Token) error {
	if err := s.Secrets.Set(settings.PortalRefreshToken(s.PortalID), t.RefreshToken); err != nil {
		return fmt.Errorf("store refresh token: %w", err)
	}
	access := t
	access.RefreshToken = ""
	data, err := json.Marshal(access)
	if err != nil {
		return fmt.Errorf("encode access token: %w", err)
	}
	if err := s.Secrets.Set(settings.PortalAccessToken(s.PortalID), string(data)); err != nil {
		return fmt.Errorf("store access token: %w", err)
	}
	return nil
}
