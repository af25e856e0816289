// Package assets embeds Omniphone's icon, UI translations and Linux
// desktop entry. Only app and cmd import it.
package assets

import "embed"

// Icon is the application icon (512×512 PNG; icon.svg is its source).
//
//go:embed icon.png
var Icon []byte

// PhoneIcon is a handset glyph (SVG, black on transparent) for the UI to
// recolour with the theme.
//
//go:embed phone.svg
var PhoneIcon []byte

// Translations holds one JSON file per language, named LANG.json, in the
// go-i18n format Fyne's lang package reads; the English text is the key.
//
//go:embed translations
var Translations embed.FS

// DesktopEntry is the Linux desktop entry (ru.omniphone.app.desktop): the
// menu item, and the handler of tel:, callto: and sip: links (SPEC C5).
// "make package" puts it into the package; "omniphone --register-handlers"
// installs it for the user with Exec set to the running binary.
//
//go:embed ru.omniphone.app.desktop
var DesktopEntry []byte
