// Package logging sets up Omniphone's structured logs (log/slog): a file in
// the profile directory, rotated by size, with secrets redacted before a
// line is written — both values the app knows to be secret and the shapes
// secrets take on the wire (webhook codes in URLs, tokens in queries,
// bearer headers).
package logging
