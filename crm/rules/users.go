package rules

import (
	"fmt"
	"strconv"
)

// directory looks the portal's users up by ID and by inner phone number.
// A decision makes a handful of lookups, so scanning the list is cheaper
// than building maps of every user.
type directory struct {
	users []User
}

func newDirectory(users []User) directory { return directory{users: users} }

// byID returns the user with the given ID.
func (d directory) byID(id int) (User, bool) {
	for _, u := range d.users {
		if u.ID == id {
			return u, true
		}
	}
	return User{}, false
}

// byExt returns the first user whose inner phone number is ext.
func (d directory) byExt(ext string) (User, bool) {
	if ext == "" {
		return User{}, false
	}
	for _, u := range d.users {
		if u.InnerPhone == ext {
			return u, true
		}
	}
	return User{}, false
}

// employee returns the active user whose inner phone number is ext, or why
// there is none.
func (d directory) employee(ext string) (User, string) {
	if ext == "" {
		return User{}, "no extension"
	}
	u, ok := d.byExt(ext)
	switch {
	case !ok:
		return User{}, fmt.Sprintf("no employee has inner number %s", ext)
	case !u.Active:
		return User{}, fmt.Sprintf("employee %d (extension %s) is inactive", u.ID, ext)
	}
	return u, ""
}

// usable reports whether user id can be made responsible: set, and not a
// user the snapshot knows as inactive. A user missing from the snapshot is
// trusted.
func (d directory) usable(id int) (bool, string) {
	if id <= 0 {
		return false, "no responsible set"
	}
	if u, ok := d.byID(id); ok && !u.Active {
		return false, fmt.Sprintf("user %d is inactive", id)
	}
	return true, ""
}

// userID returns the user ID mapped to ext, as a string, or "".
func (d directory) userID(ext string) string {
	if u, ok := d.byExt(ext); ok {
		return strconv.Itoa(u.ID)
	}
	return ""
}
