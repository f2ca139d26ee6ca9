package app

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trailwatch/trailwatch/internal/store"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// TestBrowserAck drives the web UI in a real headless Chromium: an event
// posted to /events shows up as an alert on /, is opened and acknowledged
// by clicks. Screenshots go to the test's artifact directory (go test
// -artifacts keeps them).
func TestBrowserAck(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		// CI installs it (.ci/run) and must not skip; a developer's machine
		// without it skips, as the PostgreSQL tests do.
		if os.Getenv("CI") != "" {
			t.Fatalf("%s: %v (install Debian's chromium, as .ci/run does)", chromiumPath, err)
		}
		t.Skipf("%s: %v (install Debian's chromium to run the browser test)", chromiumPath, err)
	}
	a := start(t, Options{Stdout: &syncBuffer{}})
	if code, body := post(t, a, `{"Records":[`+rootLogin("browser-1")+`]}`, nil); code != http.StatusOK {
		t.Fatalf("POST /events: %d %s", code, body)
	}
	rows, err := a.Store().Alerts(t.Context(), store.AlertFilter{Rule: "root-console-signin"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("alerts: %d %v", len(rows), err)
	}
	id := rows[0].ID

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second) // a generous bound, not a wait
	defer cancelT()

	base := "http://" + a.Addr()
	link := `a[href="/alerts/` + id + `"]`
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("browser: %s: %v", what, err)
		}
	}
	step("open the list", chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(link)))
	list, err := chromedp.Run(ctx, chromedp.Text("#alerts"))
	step("read the list", err)
	shotList, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	step("screenshot the list", err)
	step("open the alert", chromedp.Do(ctx, chromedp.Click(link), chromedp.WaitVisible("#ack")))
	step("acknowledge", chromedp.Do(ctx, chromedp.Click("#ack"), chromedp.WaitVisible("#state.state-acked")))
	state, err := chromedp.Run(ctx, chromedp.Text("#state"))
	step("read the state", err)
	shotDetail, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	step("screenshot the alert", err)
	if !strings.Contains(list, "root-console-signin") {
		t.Errorf("list: %q", list)
	}
	if !strings.HasPrefix(state, "acked") {
		t.Errorf("state shown: %q", state)
	}
	got, err := a.Store().Alert(t.Context(), id)
	if err != nil || got.State != store.StateAcked {
		t.Fatalf("stored state: %v %v", got.State, err)
	}
	dir := t.ArtifactDir()
	for name, b := range map[string][]byte{"alerts.jpg": shotList, "acked.jpg": shotDetail} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
