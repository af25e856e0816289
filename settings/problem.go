package settings

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong (or worth a warning) in the settings: the JSON
// path of the field and a sentence a person can act on.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
	// Format and Args are Message before formatting: a UI translates
	// Format (the English text is the translation key) and formats Args
	// into it.
	Format string `json:"-"`
	Args   []any  `json:"-"`
}

func (p Problem) String() string { return p.Path + ": " + p.Message }

// Problems is every problem Validate found. It is an error.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects Problems while walking the settings.
type problems struct {
	list Problems
}

func (c *problems) add(path, format string, args ...any) {
	c.list = append(c.list, Problem{Path: path, Message: fmt.Sprintf(format, args...), Format: format, Args: args})
}

// addText records a problem whose text has no arguments (text is also its
// translation key).
func (c *problems) addText(path, text string) {
	c.list = append(c.list, Problem{Path: path, Message: text, Format: text})
}

// err returns the collected problems as an error, or nil when there are none.
func (c *problems) err() error {
	if len(c.list) == 0 {
		return nil
	}
	return c.list
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }
