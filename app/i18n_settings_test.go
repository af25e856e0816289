package app

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/assets"
)

// settingsFormats collects the message formats of the settings package:
// the second argument of c.add/c.addText, the Format of TemplateError
// literals, and the formats httpsProblem-style helpers return.
func settingsFormats(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../settings/*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		ast.Inspect(file, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr:
				if sel, ok := x.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "add" || sel.Sel.Name == "addText") && len(x.Args) >= 2 {
					if s, ok := constString(x.Args[1]); ok {
						out = append(out, s)
					}
				}
			case *ast.KeyValueExpr:
				if k, ok := x.Key.(*ast.Ident); ok && k.Name == "Format" {
					if s, ok := constString(x.Value); ok {
						out = append(out, s, s+" (T2)")
					}
				}
			case *ast.ReturnStmt:
				if len(x.Results) == 2 {
					if s, ok := constString(x.Results[0]); ok && s != "" {
						out = append(out, s)
					}
				}
			}
			return true
		})
	}
	return out
}

// constString folds a string literal or a + of literals.
func constString(e ast.Expr) (string, bool) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(x.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		l, ok1 := constString(x.X)
		r, ok2 := constString(x.Y)
		return l + r, ok1 && ok2 && x.Op == token.ADD
	}
	return "", false
}

// TestTranslations_SettingsProblemsHaveRussian: every validation problem
// and warning the settings package can produce is translated, so the
// Russian editor shows no English sentence.
func TestTranslations_SettingsProblemsHaveRussian(t *testing.T) {
	data, err := assets.Translations.ReadFile("translations/ru.json")
	require.NoError(t, err)
	var ru map[string]string
	require.NoError(t, json.Unmarshal(data, &ru))
	// Formats handed to a helper as a variable, which the scan cannot see.
	formats := append(settingsFormats(t),
		"is required when click-to-call is on (C2)", "is required when callback is on (CB1)",
		"is required (RS1): pick an employee, or press \"Sync employees\" if the list is empty")
	require.Greater(t, len(formats), 40)
	var missing []string
	for _, f := range formats {
		if ru[f] == "" {
			missing = append(missing, f)
		}
	}
	require.Empty(t, missing, "add these to assets/translations/ru.json")
	for _, f := range formats {
		require.Equal(t, strings.Count(f, "%"), strings.Count(ru[f], "%"), "the Russian keeps every verb of %q", f)
	}
}
