//go:build !with_opus_c

package sip

// opusBuiltIn is false without the with_opus_c tag: diago's Opus coder is
// then a placeholder and an account that lists opus is refused by
// [Config] validation with [ErrOpusNotBuiltIn].
const opusBuiltIn = false
