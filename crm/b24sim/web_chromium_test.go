package b24sim

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

const chromiumPath = "/usr/bin/chromium"

// requireChromium skips without Chromium unless OMNIPHONE_REQUIRE_PEERS=1.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	if os.Getenv("OMNIPHONE_REQUIRE_PEERS") == "1" {
		t.Fatalf("%s is missing: install the Debian package \"chromium\" (apt-get install -y --no-install-recommends chromium)", chromiumPath)
	}
	t.Skipf("%s is missing (install the Debian package \"chromium\"); set OMNIPHONE_REQUIRE_PEERS=1 to fail instead", chromiumPath)
}

// TestWeb_ChromiumClickToCall drives the portal page in headless Chromium:
// clicking a phone number fires click-to-call for the chosen user and an
// ONEXTERNALCALLSTART lands in the app's offline queue.
func TestWeb_ChromiumClickToCall(t *testing.T) {
	requireChromium(t)
	b := setup(t) // demo portal, real loopback listener
	requireOK(t, b.app("event.bind", map[string]any{"event": "OnExternalCallStart", "event_type": "offline"}))

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	err := chromedp.Do(ctx,
		chromedp.Navigate(b.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#entities`)),
		chromedp.SetValue(chromedp.CSS(`#user`), "2"),
		chromedp.Click(chromedp.CSS(`button.phone[value="+79035550011"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#msg`)),
	)
	require.NoError(t, err)
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#msg`)))
	require.NoError(t, err)
	require.Contains(t, msg, "ONEXTERNALCALLSTART")

	r := b.app("event.offline.get", nil)
	requireOK(t, r)
	events := r.obj()["events"].([]any)
	require.Len(t, events, 1)
	ev := events[0].(map[string]any)
	require.Equal(t, "ONEXTERNALCALLSTART", ev["EVENT_NAME"])
	data := ev["EVENT_DATA"].(map[string]any)
	require.Equal(t, "+79035550011", data["PHONE_NUMBER"])
	require.Equal(t, float64(2), data["USER_ID"], "the chosen user initiates the call")
	require.Equal(t, "CONTACT", data["CRM_ENTITY_TYPE"])
	require.Regexp(t, callIDRe, data["CALL_ID"])
}
