package sync

import (
	"github.com/riverqueue/river"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/crm/rules"
)

// queueBitrix is the one River queue: every job here talks to Bitrix24.
const queueBitrix = "bitrix"

// ProcessCallArgs is the job that carries a finished call to Bitrix24:
// snapshot, decision, one batched write. The call id is its unique key;
// the call record itself is in the ledger, written in the same transaction.
type ProcessCallArgs struct {
	CallID string `json:"call_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (ProcessCallArgs) Kind() string { return "omnisync_process_call" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ProcessCallArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueBitrix, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// DelayedStepArgs is CP5's delayed step: set the real responsible and add
// the activity N minutes after the call. Ops are the plan's scheduled
// operations with the refs of the outer plan already replaced by IDs.
type DelayedStepArgs struct {
	CallID string     `json:"call_id" river:"unique"`
	Ops    []rules.Op `json:"ops"`
}

// Kind implements river.JobArgs.
func (DelayedStepArgs) Kind() string { return "omnisync_delayed_responsible" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (DelayedStepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueBitrix, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// RecordingArgs uploads a call's recording (RC1) and attaches it to the
// Bitrix24 call. It is retried until the file is there.
type RecordingArgs struct {
	CallID          string        `json:"call_id" river:"unique"`
	TelephonyCallID string        `json:"telephony_call_id"`
	Recording       crm.Recording `json:"recording"`
}

// Kind implements river.JobArgs.
func (RecordingArgs) Kind() string { return "omnisync_recording_upload" }

// InsertOpts implements river.JobArgsWithInsertOpts. 20 attempts of
// River's attempt⁴ backoff span about two days.
func (RecordingArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueBitrix, MaxAttempts: 20, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ChatMessageArgs posts OL1's message once the entity it links to exists.
type ChatMessageArgs struct {
	CallID  string `json:"call_id" river:"unique"`
	UserID  int    `json:"user_id"`
	Message string `json:"message"`
}

// Kind implements river.JobArgs.
func (ChatMessageArgs) Kind() string { return "omnisync_chat_message" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ChatMessageArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueBitrix, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}
