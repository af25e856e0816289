// Package settings is the typed model of Omniphone's integration and phone
// settings (SPEC.md §1–§9 plus SIP accounts and app preferences), with
// validation that reports every problem at once, versioned JSON persistence
// with all-or-nothing saves (SPEC P4), and the SecretStore through which
// passwords and tokens reach the OS keyring instead of the settings file
// (SPEC P3).
//
// The package imports none of Omniphone's own packages: the UI, the sync
// engine and the phone read it, it reads nothing of theirs.
//
// Choices where SPEC.md leaves room:
//   - A fresh install (no portal connected) validates. The rules that need a
//     portal's data — default responsibles (RS1) — are required once at least
//     one portal exists and "use other telephony" (CP1) is off.
//   - Options that SPEC says are disabled in the UI by another switch (CP1 on,
//     C1 off, RC1 off) keep their stored values, so switching back restores
//     them; Validate does not check them, Warnings names them, and Effective
//     returns the settings the engine must act on with them cleared.
//   - A filter (§9) lives on the rule that uses it; the parameters a filter may
//     use depend on the call direction it applies to.
package settings
