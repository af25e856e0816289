package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2/lang"

	"github.com/omniphone/omniphone/settings"
)

// problemMessage is a settings problem in the user's language: its English
// format is the translation key, its arguments are filled in after.
func problemMessage(p settings.Problem) string {
	if p.Format == "" {
		return p.Message
	}
	return fmt.Sprintf(lang.L(p.Format), p.Args...)
}

// problemLine is "path: message" in the user's language.
func problemLine(p settings.Problem) string {
	return p.Path + ": " + problemMessage(p)
}

func problemLines(ps settings.Problems) string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = problemLine(p)
	}
	return strings.Join(lines, "\n")
}
