package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// FileStore keeps secrets in a JSON file readable by its owner only (0600),
// for omnisync on a server without a keyring. It refuses a file that others
// can read, as ssh does with private keys.
type FileStore struct {
	Path string
	mu   sync.Mutex
}

var _ SecretStore = (*FileStore)(nil)

// NewFileStore returns a store backed by the file at path (created on the
// first Set).
func NewFileStore(path string) *FileStore { return &FileStore{Path: path} }

func (f *FileStore) unavailable(err error) error {
	return &UnavailableError{
		Store: "the secrets file " + f.Path,
		Hint:  "it must be a JSON object of strings, owned by this user and not readable by others (chmod 600)",
		Err:   err,
	}
}

func (f *FileStore) read() (map[string]string, error) {
	info, err := os.Stat(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, f.unavailable(err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, f.unavailable(fmt.Errorf("permissions %#o let others read it", perm))
	}
	data, err := os.ReadFile(f.Path)
	if err != nil {
		return nil, f.unavailable(err)
	}
	m := map[string]string{}
	if len(strings.TrimSpace(string(data))) > 0 {
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, f.unavailable(errors.New("not a JSON object of strings"))
		}
	}
	return m, nil
}

func (f *FileStore) write(m map[string]string) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return f.unavailable(err)
	}
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return f.unavailable(err)
	}
	tmp := f.Path + tempSuffix
	if err := writeSynced(tmp, data); err != nil {
		_ = os.Remove(tmp)
		return f.unavailable(err)
	}
	if err := os.Rename(tmp, f.Path); err != nil {
		_ = os.Remove(tmp)
		return f.unavailable(err)
	}
	return nil
}

// Get implements SecretStore.
func (f *FileStore) Get(key SecretKey) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read()
	if err != nil {
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	v, ok := m[string(key)]
	if !ok {
		return "", fmt.Errorf("read %s: %w", key, ErrSecretNotFound)
	}
	return v, nil
}

// Set implements SecretStore.
func (f *FileStore) Set(key SecretKey, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read()
	if err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	m[string(key)] = value
	if err := f.write(m); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	return nil
}

// Delete implements SecretStore.
func (f *FileStore) Delete(key SecretKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read()
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if _, ok := m[string(key)]; !ok {
		return nil
	}
	delete(m, string(key))
	if err := f.write(m); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}
