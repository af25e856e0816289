package app

import (
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/omniphone/omniphone/settings"
)

// problemBoard places validation problems next to the fields they concern:
// every field registers an error label under its JSON path, and a problem
// goes to the label with the longest path that is a prefix of its own.
// Problems no field claims are listed at the top of the editor.
type problemBoard struct {
	labels map[string]*widget.Label
	rest   *widget.Label
}

func newProblemBoard() *problemBoard {
	rest := widget.NewLabel("")
	rest.Wrapping = fyne.TextWrapWord
	rest.Importance = widget.DangerImportance
	rest.Hide()
	return &problemBoard{labels: map[string]*widget.Label{}, rest: rest}
}

// label returns the error label for path, creating it.
func (b *problemBoard) label(path string) *widget.Label {
	if l, ok := b.labels[path]; ok {
		return l
	}
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.DangerImportance
	l.Hide()
	b.labels[path] = l
	return l
}

// forget drops the labels under prefix (a list was rebuilt).
func (b *problemBoard) forget(prefix string) {
	for p := range b.labels {
		if strings.HasPrefix(p, prefix) {
			delete(b.labels, p)
		}
	}
}

// show clears every label and shows ps; it returns how many problems had
// no field of their own.
func (b *problemBoard) show(ps settings.Problems) int {
	for _, l := range b.labels {
		l.SetText("")
		l.Hide()
	}
	byLabel := map[*widget.Label][]string{}
	var rest []string
	for _, p := range ps {
		if l := b.owner(p.Path); l != nil {
			byLabel[l] = append(byLabel[l], b.relative(p))
		} else {
			rest = append(rest, problemLine(p))
		}
	}
	for l, msgs := range byLabel {
		l.SetText(strings.Join(msgs, "\n"))
		l.Show()
	}
	if len(rest) > 0 {
		b.rest.SetText(strings.Join(rest, "\n"))
		b.rest.Show()
	} else {
		b.rest.Hide()
	}
	return len(rest)
}

func (b *problemBoard) owner(path string) *widget.Label {
	best := ""
	for p := range b.labels {
		if (path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[")) && len(p) > len(best) {
			best = p
		}
	}
	if best == "" {
		return nil
	}
	return b.labels[best]
}

// relative shortens a problem for a label under its own field: the
// message alone when the label is exactly its field.
func (b *problemBoard) relative(p settings.Problem) string {
	if _, exact := b.labels[p.Path]; exact {
		return problemMessage(p)
	}
	return problemLine(p)
}

// field is a labelled widget with its error label beneath.
func (e *settingsEditor) field(path, label string, w fyne.CanvasObject) fyne.CanvasObject {
	caption := widget.NewLabel(label)
	caption.Wrapping = fyne.TextWrapWord
	return container.NewVBox(caption, w, e.problems.label(path))
}

// check is a checkbox bound to a bool.
func check(label string, v *bool, changed func()) *widget.Check {
	c := widget.NewCheck(label, nil)
	c.SetChecked(*v)
	c.OnChanged = func(on bool) {
		*v = on
		if changed != nil {
			changed()
		}
	}
	return c
}

// entry is a one-line entry bound to a string.
func entry(v *string, placeholder string) *widget.Entry {
	e := widget.NewEntry()
	e.SetText(*v)
	e.SetPlaceHolder(placeholder)
	e.OnChanged = func(s string) { *v = strings.TrimSpace(s) }
	return e
}

// intEntry is an entry bound to an int; text that is not a number keeps
// the previous value and shows as it was typed until corrected.
func intEntry(v *int, placeholder string) *widget.Entry {
	e := widget.NewEntry()
	if *v != 0 {
		e.SetText(strconv.Itoa(*v))
	}
	e.SetPlaceHolder(placeholder)
	e.OnChanged = func(s string) {
		s = strings.TrimSpace(s)
		if s == "" {
			*v = 0
			return
		}
		if n, err := strconv.Atoi(s); err == nil {
			*v = n
		} else {
			*v = -1 // invalid: Validate reports it
		}
	}
	return e
}

// choice is a select over labelled values, bound to a string-typed value.
type option struct{ value, label string }

func choice[T ~string](v *T, opts []option, changed func()) *widget.Select {
	labels := make([]string, len(opts))
	for i, o := range opts {
		labels[i] = o.label
	}
	s := widget.NewSelect(labels, nil)
	for _, o := range opts {
		if o.value == string(*v) {
			s.SetSelected(o.label)
		}
	}
	s.OnChanged = func(label string) {
		for _, o := range opts {
			if o.label == label {
				*v = T(o.value)
			}
		}
		if changed != nil {
			changed()
		}
	}
	return s
}

// commaList edits a []string as comma-separated text.
func commaList(v *[]string, placeholder string) *widget.Entry {
	e := widget.NewEntry()
	e.SetText(strings.Join(*v, ", "))
	e.SetPlaceHolder(placeholder)
	e.OnChanged = func(s string) {
		var out []string
		for _, part := range strings.Split(s, ",") {
			if p := strings.TrimSpace(part); p != "" {
				out = append(out, p)
			}
		}
		*v = out
	}
	return e
}

// control is a widget that can be greyed out.
type control interface {
	fyne.CanvasObject
	fyne.Disableable
}

// setEnabled enables or disables every widget that can be.
func setEnabled(on bool, ws ...fyne.Disableable) {
	for _, w := range ws {
		if on {
			w.Enable()
		} else {
			w.Disable()
		}
	}
}
