package b24

import (
	"context"
	"strings"
)

// User is a portal user as the integration needs it: who they are, their
// inner phone number (the SIP extension), and whether they may work.
type User struct {
	ID            Int    `json:"ID"`
	Active        Flag   `json:"ACTIVE"`
	Name          String `json:"NAME"`
	LastName      String `json:"LAST_NAME"`
	Email         String `json:"EMAIL"`
	PhoneInner    String `json:"UF_PHONE_INNER"`
	WorkPosition  String `json:"WORK_POSITION"`
	TimemanStatus String `json:"TIMEMAN_STATUS"`
}

// FullName is "Name Last name", trimmed.
func (u User) FullName() string {
	return strings.TrimSpace(string(u.Name) + " " + string(u.LastName))
}

// Users lists users matching filter (user.get), e.g. {"ACTIVE": true}.
func (c *Client) Users(ctx context.Context, filter Params) ([]User, error) {
	return ListAll[User](ctx, c, "user.get", Params{"filter": filter, "sort": "ID", "order": "ASC"})
}

// NotifyPersonal sends a personal notification to a user from the current
// user (im.notify.personal.add) and returns its ID.
func (c *Client) NotifyPersonal(ctx context.Context, userID int, message string) (int, error) {
	var id Int
	err := c.Call(ctx, "im.notify.personal.add", Params{"USER_ID": userID, "MESSAGE": message}, &id)
	return int(id), err
}

// NotifySystem sends a system notification to a user
// (im.notify.system.add) and returns its ID.
func (c *Client) NotifySystem(ctx context.Context, userID int, message string) (int, error) {
	var id Int
	err := c.Call(ctx, "im.notify.system.add", Params{"USER_ID": userID, "MESSAGE": message}, &id)
	return int(id), err
}

// MessageAdd posts a chat message to a user's private chat
// (im.message.add, DIALOG_ID is the user ID) and returns its ID.
func (c *Client) MessageAdd(ctx context.Context, userID int, message string) (int, error) {
	var id Int
	err := c.Call(ctx, "im.message.add", Params{"DIALOG_ID": userID, "MESSAGE": message}, &id)
	return int(id), err
}
