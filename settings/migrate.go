package settings

import "fmt"

// migrations[v] turns a raw document of version v into version v+1. A
// document without a "version" field is version 0: written by a
// pre-release build, it has the same shape as version 1.
var migrations = map[int]func(doc map[string]any) error{
	0: func(doc map[string]any) error { return nil },
}

// migrate brings doc up to CurrentVersion in place and reports the version
// it started from.
func migrate(doc map[string]any) (from int, err error) {
	v, err := docVersion(doc)
	if err != nil {
		return 0, err
	}
	from = v
	if v > CurrentVersion {
		return from, fmt.Errorf("version %d was written by a newer Omniphone (this one reads up to %d): update Omniphone or restore the backup", v, CurrentVersion)
	}
	for ; v < CurrentVersion; v++ {
		step, ok := migrations[v]
		if !ok {
			return from, fmt.Errorf("no migration from settings version %d", v)
		}
		if err := step(doc); err != nil {
			return from, fmt.Errorf("migrate settings from version %d: %w", v, err)
		}
	}
	doc["version"] = CurrentVersion
	return from, nil
}

func docVersion(doc map[string]any) (int, error) {
	raw, ok := doc["version"]
	if !ok {
		return 0, nil
	}
	f, ok := raw.(float64)
	if !ok || f != float64(int(f)) || f < 0 {
		return 0, fmt.Errorf("version: must be a whole number, not %v", raw)
	}
	return int(f), nil
}
