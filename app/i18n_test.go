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

// TestTranslations_EveryStringHasRussian finds every lang.L / lang.X call
// in the UI code and checks that assets/translations/ru.json has it: an
// operator set to Russian never meets an English sentence.
func TestTranslations_EveryStringHasRussian(t *testing.T) {
	data, err := assets.Translations.ReadFile("translations/ru.json")
	require.NoError(t, err)
	var ru map[string]string
	require.NoError(t, json.Unmarshal(data, &ru))

	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var missing []string
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok || pkg.Name != "lang" || (sel.Sel.Name != "L" && sel.Sel.Name != "X") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok {
				return true
			}
			key, err := strconv.Unquote(lit.Value)
			require.NoError(t, err)
			seen++
			if ru[key] == "" {
				missing = append(missing, key)
			}
			return true
		})
	}
	require.Greater(t, seen, 100)
	require.Empty(t, missing, "add these to assets/translations/ru.json")
}
