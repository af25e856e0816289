package settings

import (
	"errors"
	"fmt"

	"github.com/zalando/go-keyring"
)

// KeyringService is the service name Omniphone's secrets are filed under in
// the OS keyring.
const KeyringService = "omniphone"

// KeyringStore keeps secrets in the OS keyring: Secret Service (GNOME
// Keyring, KWallet) on Linux, Keychain on macOS, Credential Manager on
// Windows.
type KeyringStore struct {
	// Service overrides KeyringService (tests use their own).
	Service string
}

var _ SecretStore = KeyringStore{}

func (k KeyringStore) service() string {
	if k.Service != "" {
		return k.Service
	}
	return KeyringService
}

// Get implements SecretStore.
func (k KeyringStore) Get(key SecretKey) (string, error) {
	v, err := keyring.Get(k.service(), string(key))
	if err != nil {
		return "", k.wrap("read", key, err)
	}
	return v, nil
}

// Set implements SecretStore.
func (k KeyringStore) Set(key SecretKey, value string) error {
	if err := keyring.Set(k.service(), string(key), value); err != nil {
		return k.wrap("store", key, err)
	}
	return nil
}

// Delete implements SecretStore.
func (k KeyringStore) Delete(key SecretKey) error {
	err := keyring.Delete(k.service(), string(key))
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return k.wrap("delete", key, err)
	}
	return nil
}

// wrap maps go-keyring's errors: "not found" stays ErrSecretNotFound, any
// other error means the keyring itself is unusable (see
// reference/feasibility-fyne.md §5 for the exact causes on Linux).
func (k KeyringStore) wrap(op string, key SecretKey, err error) error {
	if errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("%s %s: %w", op, key, ErrSecretNotFound)
	}
	return fmt.Errorf("%s %s: %w", op, key, &UnavailableError{
		Store: "the OS keyring",
		Hint: "Omniphone keeps passwords and tokens only in the keyring, never in plain text: " +
			"on Linux install and unlock a Secret Service (gnome-keyring or KWallet) in your desktop session, then try again",
		Err: err,
	})
}
