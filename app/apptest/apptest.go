// Package apptest holds what the UI tests share: checks that a screenshot
// shows a drawn interface rather than a blank or flat window, and keeping
// screenshots for people to look at.
package apptest

import (
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// SaveArtifact writes img as name into $OMNIPHONE_ARTIFACTS (make test sets
// it to artifacts/); without it nothing is written.
func SaveArtifact(t testing.TB, name string, img image.Image) {
	t.Helper()
	dir := os.Getenv("OMNIPHONE_ARTIFACTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		_ = f.Close()
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// ImageStats counts the distinct colours of img and the standard deviation
// of its luminance (0..1): a blank window has one colour and no spread.
func ImageStats(img image.Image) (colours int, spread float64) {
	seen := map[uint32]bool{}
	var sum, sumSq, n float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[r>>8<<16|g>>8<<8|bl>>8] = true
			l := (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(bl)) / 65535
			sum += l
			sumSq += l * l
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	mean := sum / n
	return len(seen), math.Sqrt(math.Max(sumSq/n-mean*mean, 0))
}
