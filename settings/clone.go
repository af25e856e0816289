package settings

import "encoding/json"

// Clone returns a deep copy. Settings are plain data, so a JSON round trip
// is exact and keeps clone in step with every field added later.
func (s Settings) Clone() Settings {
	data, err := json.Marshal(s)
	if err != nil {
		// Unreachable: Settings holds only strings, numbers, bools, slices and structs.
		panic("settings: clone: " + err.Error())
	}
	var out Settings
	if err := json.Unmarshal(data, &out); err != nil {
		panic("settings: clone: " + err.Error())
	}
	return out
}
