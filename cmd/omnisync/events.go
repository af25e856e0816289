package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/omniphone/omniphone/crm/b24"
	"github.com/omniphone/omniphone/crm/events"
	"github.com/omniphone/omniphone/settings"
)

// Routes of click-to-call in team mode.
const (
	// bitrixEventsPath receives the portal's online events.
	bitrixEventsPath = "/bitrix24/events"
	// eventStreamPath is where each desktop follows its click-to-calls.
	eventStreamPath = "/api/v1/events/stream"
	// desktopsPath lists the desktops following their click-to-calls.
	desktopsPath = "/api/v1/events/desktops"
)

// clickToCall is team mode's click-to-call: the portal's events arrive at
// bitrixEventsPath, the router sends each to the hub, and the hub pushes it
// to the desktop of the clicking employee.
type clickToCall struct {
	hub     *events.Hub
	handler *events.Handler
}

// newClickToCall builds the hub and, when a portal is configured, the
// Bitrix24 event handler in front of it. With publicURL set it also
// installs the online bindings and the external line in the portal.
func newClickToCall(ctx context.Context, s settings.Settings, secrets settings.SecretStore, tokens []string, publicURL string, log *slog.Logger) (*clickToCall, error) {
	c := &clickToCall{hub: events.NewHub(tokens, log)}
	p, ok := s.TelephonyPortalOrMain()
	if !ok || (!s.ClickToCall.Enabled && !s.Callback.Enabled) {
		return c, nil
	}
	client, err := b24.ForPortal(p, secrets, b24.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("click-to-call: %w", err)
	}
	router, err := events.NewRouter(events.RouterOptions{
		Settings:  func() settings.Settings { return s },
		Directory: events.NewPortalDirectory(client, events.DirectoryOptions{}),
		Target:    c.hub,
		Logger:    log,
	})
	if err != nil {
		return nil, fmt.Errorf("click-to-call: %w", err)
	}
	c.handler, err = events.NewHandler(events.HandlerOptions{
		Dispatcher: router, Portals: events.PortalsFromSettings(s), Tokens: events.SecretTokens{Secrets: secrets}, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("click-to-call: %w", err)
	}
	if publicURL != "" {
		ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		res, err := events.Install(ictx, client, events.InstallOptions{HandlerURL: strings.TrimRight(publicURL, "/") + bitrixEventsPath})
		if err != nil {
			return nil, fmt.Errorf("click-to-call: install in the portal: %w", err)
		}
		log.Warn("click-to-call installed", "bound", res.Bound, "already", res.AlreadyBound, "line_created", res.LineCreated)
	}
	return c, nil
}

// routes adds the event routes in front of the API.
func (c *clickToCall) routes(api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(eventStreamPath, c.hub)
	mux.HandleFunc(desktopsPath, c.hub.ServeDesktops)
	if c.handler != nil {
		mux.Handle(bitrixEventsPath, c.handler)
	}
	mux.Handle("/", api)
	return mux
}

// Close stops the event handler's queue.
func (c *clickToCall) Close() {
	if c.handler != nil {
		_ = c.handler.Close()
	}
}
