package lookup

import "strings"

// Normalize reduces a phone number to the digits Bitrix24 compares, the way
// its duplicate search does for Russian numbers: punctuation and an
// extension (after ';', '#' or ',') are dropped, a leading "+8" or "8" of an
// 11-digit number becomes 7, and a 10-digit number starting with 9 (a
// Russian mobile written without the country code) gets the 7. Anything
// else keeps its digits. "" means there is no number to look up.
func Normalize(raw string) string {
	if i := strings.IndexAny(raw, ";#,"); i >= 0 {
		raw = raw[:i]
	}
	var b strings.Builder
	for _, r := range raw {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	switch {
	case len(d) == 11 && d[0] == '8':
		return "7" + d[1:]
	case len(d) == 10 && d[0] == '9':
		return "7" + d
	}
	return d
}

// Format writes a normalised Russian number as +7 916 123-45-67 for the
// card; other numbers get a leading + when they look international, and are
// otherwise shown as they are (internal extensions).
func Format(normalized string) string {
	d := normalized
	switch {
	case len(d) == 11 && d[0] == '7':
		return "+7 " + d[1:4] + " " + d[4:7] + "-" + d[7:9] + "-" + d[9:]
	case len(d) > 7:
		return "+" + d
	default:
		return d
	}
}
