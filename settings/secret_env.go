package settings

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// EnvStore reads secrets from environment variables, for omnisync run by a
// service manager: the key "portal/main/client_secret" is read from
// OMNISYNC_SECRET_PORTAL_MAIN_CLIENT_SECRET. Values not in the environment,
// and every write (rotated OAuth tokens), go to Next.
type EnvStore struct {
	// Prefix overrides "OMNISYNC_SECRET_".
	Prefix string
	// Next is consulted when a variable is not set and takes every write;
	// nil makes the store read-only.
	Next SecretStore
	// Lookup overrides os.LookupEnv (tests).
	Lookup func(string) (string, bool)
}

var _ SecretStore = EnvStore{}

// Var returns the environment variable that holds key.
func (e EnvStore) Var(key SecretKey) string {
	prefix := e.Prefix
	if prefix == "" {
		prefix = "OMNISYNC_SECRET_"
	}
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		default:
			return '_'
		}
	}, string(key))
	return prefix + name
}

// Get implements SecretStore.
func (e EnvStore) Get(key SecretKey) (string, error) {
	lookup := e.Lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	if v, ok := lookup(e.Var(key)); ok {
		return v, nil
	}
	if e.Next != nil {
		return e.Next.Get(key)
	}
	return "", fmt.Errorf("read %s: %w (set %s)", key, ErrSecretNotFound, e.Var(key))
}

// Set implements SecretStore.
func (e EnvStore) Set(key SecretKey, value string) error {
	if e.Next == nil {
		return fmt.Errorf("store %s: %w", key, errReadOnlyEnv)
	}
	return e.Next.Set(key, value)
}

// Delete implements SecretStore.
func (e EnvStore) Delete(key SecretKey) error {
	if e.Next == nil {
		return fmt.Errorf("delete %s: %w", key, errReadOnlyEnv)
	}
	return e.Next.Delete(key)
}

var errReadOnlyEnv = errors.New("secrets from environment variables are read-only: configure a secrets file to keep rotated tokens")
