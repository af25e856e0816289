package settings

// WatchedStore passes every secret value it reads or writes to OnSecret
// before returning it, so the log redactor learns each secret the moment
// the app handles it.
type WatchedStore struct {
	Store    SecretStore
	OnSecret func(value string)
}

var _ SecretStore = WatchedStore{}

// Get implements SecretStore.
func (w WatchedStore) Get(key SecretKey) (string, error) {
	v, err := w.Store.Get(key)
	if err == nil {
		w.OnSecret(v)
	}
	return v, err
}

// Set implements SecretStore.
func (w WatchedStore) Set(key SecretKey, value string) error {
	w.OnSecret(value)
	return w.Store.Set(key, value)
}

// Delete implements SecretStore.
func (w WatchedStore) Delete(key SecretKey) error { return w.Store.Delete(key) }
