package app

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/omniphone/omniphone/settings"
)

// paramLabels are the filter parameters as the seed names them.
func paramLabel(p settings.Param) string {
	switch p {
	case settings.ParamVirtualNumber:
		return lang.L("Virtual number")
	case settings.ParamLastOperation:
		return lang.L("Last scenario operation")
	case settings.ParamScenario:
		return lang.L("PBX scenario")
	case settings.ParamGroup:
		return lang.L("Visitor-selected group")
	case settings.ParamEmployee:
		return lang.L("Employee")
	case settings.ParamCampaign:
		return lang.L("Ad campaign")
	case settings.ParamFirstCampaign:
		return lang.L("First ad campaign")
	case settings.ParamSite:
		return lang.L("Site")
	case settings.ParamSource:
		return lang.L("Source")
	case settings.ParamContactNumber:
		return lang.L("Client's number")
	case "first_communication_id":
		return lang.L("First communication ID")
	}
	return string(p)
}

func paramOptions(ps []settings.Param) []option {
	out := make([]option, len(ps))
	for i, p := range ps {
		out[i] = option{string(p), paramLabel(p)}
	}
	return out
}

func modeOptions() []option {
	return []option{{string(settings.ModeInclude), lang.L("Include")}, {string(settings.ModeExclude), lang.L("Exclude")}}
}

// filterEditor edits a §9 filter: groups joined by OR, each a list of
// conditions joined by AND.
type filterEditor struct {
	e      *settingsEditor
	f      *settings.Filter
	dir    settings.Direction
	path   string
	box    *fyne.Container
	addOr  *widget.Button
	onEdit func()
}

func (e *settingsEditor) newFilterEditor(path string, f *settings.Filter, dir settings.Direction, onEdit func()) *filterEditor {
	fe := &filterEditor{e: e, f: f, dir: dir, path: path, box: container.NewVBox(), onEdit: onEdit}
	fe.addOr = widget.NewButtonWithIcon(lang.L("Add a group (OR)"), theme.ContentAddIcon(), func() {
		fe.f.Groups = append(fe.f.Groups, settings.Group{Conditions: []settings.Condition{fe.newCondition()}})
		fe.rebuild()
	})
	fe.rebuild()
	return fe
}

func (fe *filterEditor) newCondition() settings.Condition {
	return settings.Condition{Param: settings.FilterParams[fe.dir][0], Mode: settings.ModeInclude}
}

func (fe *filterEditor) object() fyne.CanvasObject {
	return container.NewVBox(fe.box, fe.addOr, fe.e.problems.label(fe.path))
}

// rebuild lays the groups out again after one was added or removed.
func (fe *filterEditor) rebuild() {
	fe.e.problems.forget(fe.path + ".groups")
	fe.box.RemoveAll()
	if len(fe.f.Groups) == 0 {
		fe.box.Add(widget.NewLabel(lang.L("No conditions: every call matches.")))
	}
	for gi := range fe.f.Groups {
		if gi > 0 {
			or := widget.NewLabelWithStyle(lang.L("OR"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
			fe.box.Add(or)
		}
		fe.box.Add(fe.groupObject(gi))
	}
	fe.box.Refresh()
	if fe.onEdit != nil {
		fe.onEdit()
	}
}

func (fe *filterEditor) groupObject(gi int) fyne.CanvasObject {
	g := &fe.f.Groups[gi]
	gpath := fmt.Sprintf("%s.groups[%d]", fe.path, gi)
	rows := container.NewVBox()
	for ci := range g.Conditions {
		if ci > 0 {
			rows.Add(widget.NewLabelWithStyle(lang.L("AND"), fyne.TextAlignLeading, fyne.TextStyle{Italic: true}))
		}
		rows.Add(fe.conditionRow(gi, ci))
	}
	addAnd := widget.NewButtonWithIcon(lang.L("Add a condition (AND)"), theme.ContentAddIcon(), func() {
		g.Conditions = append(g.Conditions, fe.newCondition())
		fe.rebuild()
	})
	removeGroup := widget.NewButtonWithIcon(lang.L("Remove the group"), theme.DeleteIcon(), func() {
		fe.f.Groups = append(fe.f.Groups[:gi], fe.f.Groups[gi+1:]...)
		fe.rebuild()
	})
	removeGroup.Importance = widget.LowImportance
	return widget.NewCard("", "", container.NewVBox(rows, container.NewHBox(addAnd, removeGroup), fe.e.problems.label(gpath)))
}

func (fe *filterEditor) conditionRow(gi, ci int) fyne.CanvasObject {
	c := &fe.f.Groups[gi].Conditions[ci]
	cpath := fmt.Sprintf("%s.groups[%d].conditions[%d]", fe.path, gi, ci)
	param := choice(&c.Param, paramOptions(settings.FilterParams[fe.dir]), fe.onEdit)
	mode := choice(&c.Mode, modeOptions(), fe.onEdit)
	values := commaList(&c.Values, lang.L("values, comma-separated"))
	values.OnChanged = chain(values.OnChanged, fe.onEdit)
	remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
		g := &fe.f.Groups[gi]
		g.Conditions = append(g.Conditions[:ci], g.Conditions[ci+1:]...)
		if len(g.Conditions) == 0 {
			fe.f.Groups = append(fe.f.Groups[:gi], fe.f.Groups[gi+1:]...)
		}
		fe.rebuild()
	})
	remove.Importance = widget.LowImportance
	return container.NewVBox(
		container.NewBorder(nil, nil, nil, remove, container.NewGridWithColumns(2, param, mode)),
		values,
		fe.e.problems.label(cpath),
	)
}

// chain runs a string callback and then an extra one.
func chain(first func(string), then func()) func(string) {
	return func(s string) {
		if first != nil {
			first(s)
		}
		if then != nil {
			then()
		}
	}
}
