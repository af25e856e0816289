// Command fynefloor is the smallest Fyne window, the same size as
// omniphone's, with one label: BenchmarkIntegrationDesktop_StartupIdle
// measures it beside omniphone to show what any Fyne v2.7 app costs at
// rest on the same display (its event loop wakes 60 times a second, fyne-io/fyne#2506;
// under Xvfb its RSS includes Mesa's llvmpipe).
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("ru.omniphone.fynefloor")
	w := a.NewWindow("Fyne floor")
	w.SetContent(widget.NewLabel("Fyne floor"))
	w.Resize(fyne.NewSize(420, 640))
	w.ShowAndRun()
}
