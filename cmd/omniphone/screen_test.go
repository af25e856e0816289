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
