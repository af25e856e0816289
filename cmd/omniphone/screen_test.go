package main

// Finding and pressing the real window's buttons: the window test reads
// where a button is from a screenshot (by the colour the theme gives its
// importance) and clicks it with xdotool, as an operator would with the
// mouse.

import (
	"image"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// colourMatch says whether a pixel (8-bit RGB) has the colour looked for.
type colourMatch func(r, g, b int) bool

// The theme's importance colours, loosely, so light and dark variants and
// anti-aliasing match: success (Answer, Call) is green, danger (Decline,
// Hang up) red, primary (the selected tab's underline) blue.
var (
	isSuccess colourMatch = func(r, g, b int) bool { return g > 150 && r < 130 && b < 130 }
	isDanger  colourMatch = func(r, g, b int) bool { return r > 170 && g < 120 && b < 120 }
	isPrimary colourMatch = func(r, g, b int) bool { return b > 180 && r < 110 && g > 60 && g < 170 }
)

// bands returns the horizontal bands of img where each row has at least
// minPixels pixels matching m, top to bottom, each as the rectangle those
// matching pixels span. A filled button makes one band; two buttons side
// by side in one colour would make one band spanning both.
func bands(img image.Image, m colourMatch, minPixels int) []image.Rectangle {
	var out []image.Rectangle
	var cur *image.Rectangle
	bb := img.Bounds()
	for y := bb.Min.Y; y < bb.Max.Y; y++ {
		n, minX, maxX := 0, bb.Max.X, bb.Min.X
		for x := bb.Min.X; x < bb.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if m(int(r>>8), int(g>>8), int(b>>8)) {
				n++
				minX, maxX = min(minX, x), max(maxX, x+1)
			}
		}
		if n < minPixels {
			cur = nil
			continue
		}
		if cur == nil {
			out = append(out, image.Rect(minX, y, maxX, y+1))
			cur = &out[len(out)-1]
			continue
		}
		cur.Min.X, cur.Max.X, cur.Max.Y = min(cur.Min.X, minX), max(cur.Max.X, maxX), y+1
	}
	return out
}

// buttonBands keeps the bands at least minHeight pixels high: buttons, not
// lines of coloured text.
func buttonBands(img image.Image, m colourMatch, minHeight int) []image.Rectangle {
	var out []image.Rectangle
	for _, r := range bands(img, m, 30) {
		if r.Dy() >= minHeight {
			out = append(out, r)
		}
	}
	return out
}

// click presses the left mouse button at p, a point of the window at g.
func click(t *testing.T, g geometry, p image.Point) {
	t.Helper()
	out, err := exec.Command("xdotool", "mousemove", "--sync", strconv.Itoa(g.X+p.X), strconv.Itoa(g.Y+p.Y),
		"click", "1").CombinedOutput()
	require.NoError(t, err, "xdotool: %s", out)
}

// centre is the middle of r.
func centre(r image.Rectangle) image.Point {
	return image.Pt((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2)
}

// window is the app's window on the X server, as last seen.
type window struct {
	t    *testing.T
	pid  int // the app's process
	name string
	geo  geometry
}

// shot saves a screenshot of the whole window, as big as it is now, to path.
func (w *window) shot(path string) image.Image {
	w.t.Helper()
	g, ok := windowGeometry(w.pid, w.name)
	require.True(w.t, ok, "the window %q is viewable", w.name)
	w.geo = g
	return screenshot(w.t, path, g)
}

// click clicks p of the window as last shot.
func (w *window) click(p image.Point) {
	w.t.Helper()
	click(w.t, w.geo, p)
}

// waitFor takes screenshots into path until find finds the same thing in
// two in a row (the layout has settled) and returns it.
func (w *window) waitFor(path, what string, find func(img image.Image, width int) (image.Rectangle, bool)) image.Rectangle {
	w.t.Helper()
	var prev image.Rectangle
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, ok := find(w.shot(path), w.geo.W)
		if ok && r == prev {
			return r
		}
		if !ok {
			r = image.Rectangle{}
		}
		prev = r
		if time.Now().After(deadline) {
			w.t.Fatalf("the window does not show %s within 30 s: see %s", what, path)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// answerButton finds Answer: green, at most 60 % of the window wide (Call
// is full width), with a red Decline on its right on the same row.
func answerButton(img image.Image, width int) (image.Rectangle, bool) {
	answer, decline := halfWidth(buttonBands(img, isSuccess, 20), width), halfWidth(buttonBands(img, isDanger, 20), width)
	return answer, !answer.Empty() && answer.Min.Y == decline.Min.Y && answer.Max.X <= decline.Min.X
}

// hangupButton finds Hang up: red and nearly the window's width.
func hangupButton(img image.Image, width int) (image.Rectangle, bool) {
	for _, r := range buttonBands(img, isDanger, 20) {
		if r.Dx() > width*6/10 {
			return r, true
		}
	}
	return image.Rectangle{}, false
}

// selectedTab finds the selected tab's underline at the top of the window.
func selectedTab(img image.Image, width int) (image.Rectangle, bool) {
	tabs := buttonBands(crop(img, image.Rect(0, 0, width, 60)), isPrimary, 2)
	if len(tabs) == 0 {
		return image.Rectangle{}, false
	}
	return tabs[len(tabs)-1], true
}

// halfWidth is the first of rs at most 60 % of the window wide, or an
// empty one.
func halfWidth(rs []image.Rectangle, windowW int) image.Rectangle {
	for _, r := range rs {
		if r.Dx() <= windowW*6/10 {
			return r
		}
	}
	return image.Rectangle{}
}

func crop(img image.Image, r image.Rectangle) image.Image {
	return img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(r)
}
