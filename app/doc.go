// Package app is Omniphone's desktop UI, and the only package besides cmd
// that imports Fyne. It shows state and forwards the operator's intent; it
// holds no business rules. Views are structs holding their widgets; what
// they show comes from pure functions (status.go) that are tested without
// a window.
package app
