package api_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/api"
)

// chromiumPath is Debian's Chromium, which `make deps` installs: the
// widget's tests run in a real browser, so a missing one is a failure, not
// a skip.
const chromiumPath = "/usr/bin/chromium"

// TestWidgetBankByBIC runs DaData's own jQuery widget, unchanged, in
// headless Chromium against the hub: a page on another origin types a БИК,
// the widget lists the hub's banks, and choosing one fills the form.
func TestWidgetBankByBIC(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the widget tests need Chromium at %s: `make deps` installs it (Debian package chromium): %v", chromiumPath, err)
	}

	// The page is served from one loopback port and the hub from another:
	// two origins, so the browser's calls are cross-origin and the hub's
	// CORS must let them through.
	page := httptest.NewServer(http.FileServer(http.Dir("testdata/widget")))
	t.Cleanup(page.Close)
	b := setupConfig(t, func(c *api.Config) { c.SuggestionOrigins = []string{page.URL} })
	loadBanks(t, b)
	hub := serveHub(t, b)
	key := suggestKey(t, b)

	ctx := newBrowser(t)
	seen := watchBrowser(t, ctx, hub)

	pageURL := page.URL + "/bank.html?" + url.Values{"hub": {hub}, "key": {key}}.Encode()
	const query = "04452522"
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(900, 700),
		chromedp.Navigate(pageURL),
		// Initialized, and the hub's status answer says the lookup is on; or
		// the widget said it failed, which the page marks on the input.
		chromedp.Poll[chromedp.Void](`(() => { const w = $("#bank").suggestions();
			return $("#bank").attr("data-error") || (!!w && w.isInitialized() && w.status.search === true) })()`,
			chromedp.WithPollingTimeout(10*time.Second)),
	)
	require.NoError(t, err, "the widget's calls:\n%s", seen)
	require.Empty(t, seen.errors(), "the widget did not start:\n%s", seen)

	err = chromedp.Do(ctx,
		typeSlowly("#bank", query),
		chromedp.WaitVisible(chromedp.CSS(`#bank[data-answered="`+query+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.suggestions-suggestion`)),
	)
	require.NoError(t, err, "the widget's calls:\n%s", seen)
	screenshot(t, ctx, "widget-bank-list.png") // before the checks, so a failure leaves its picture
	list, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.suggestions-suggestions`)))
	require.NoError(t, err)
	require.Contains(t, list, "ПАО СБЕРБАНК")
	require.Contains(t, list, "044525225")

	// Choosing the bank: the widget asks findById for the full record, then
	// calls onSelect, which fills the form.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(suggestionRow("044525225"))),
		chromedp.Poll[chromedp.Void](`document.querySelector("#bic").value !== ""`, chromedp.WithPollingTimeout(5*time.Second)),
	)
	require.NoError(t, err, "the widget's calls:\n%s", seen)
	screenshot(t, ctx, "widget-bank-filled.png")
	form := map[string]string{}
	for _, id := range []string{"bic", "corr", "swift", "name", "address"} {
		form[id], err = chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#"+id)))
		require.NoError(t, err)
	}
	require.Equal(t, "044525225", form["bic"])
	require.Equal(t, "30101810400000000225", form["corr"])
	require.Equal(t, "SABRRUMM", form["swift"])
	require.Equal(t, "ПАО СБЕРБАНК", form["name"])
	require.Contains(t, form["address"], "Москва")

	t.Logf("the widget's calls:\n%s", seen)
	require.Empty(t, seen.errors(), "the page reported errors")
	for _, p := range []string{"/status/bank", "/suggest/bank", "/findById/bank"} {
		require.Contains(t, seen.String(), sg+p, "the widget called the hub's %s", p)
	}
	require.Empty(t, seen.refused(), "every call the widget made to the hub succeeded")
}

// TestWidgetAddress: the same widget, an address typed letter by letter
// against the real region 99 (Байконур) loaded with the importer: the
// list shows the register's houses, and choosing one fills the structured
// parts, its postal code and ФИАС id.
func TestWidgetAddress(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the widget tests need Chromium at %s: `make deps` installs it (Debian package chromium): %v", chromiumPath, err)
	}
	page := httptest.NewServer(http.FileServer(http.Dir("testdata/widget")))
	t.Cleanup(page.Close)
	b := setupConfig(t, func(c *api.Config) { c.SuggestionOrigins = []string{page.URL} }, withAddresses(t))
	hub := serveHub(t, b)
	key := suggestKey(t, b)

	ctx := newBrowser(t)
	seen := watchBrowser(t, ctx, hub)
	pageURL := page.URL + "/address.html?" + url.Values{"hub": {hub}, "key": {key}}.Encode()
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(900, 760),
		chromedp.Navigate(pageURL),
		chromedp.Poll[chromedp.Void](`(() => { const w = $("#address").suggestions();
			return $("#address").attr("data-error") || (!!w && w.isInitialized() && w.status.search === true) })()`,
			chromedp.WithPollingTimeout(10*time.Second)),
	)
	require.NoError(t, err, "the widget's calls:\n%s", seen)
	require.Empty(t, seen.errors(), "the widget did not start:\n%s", seen)

	const query = "байк горь 5"
	err = chromedp.Do(ctx,
		typeSlowly("#address", query),
		chromedp.WaitVisible(chromedp.CSS(`#address[data-answered="`+query+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.suggestions-suggestion`)),
	)
	require.NoError(t, err, "the widget's calls:\n%s", seen)
	screenshot(t, ctx, "widget-address-list.png")
	list, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.suggestions-suggestions`)))
	require.NoError(t, err)
	require.Contains(t, list, "ул Горького, д 5а")

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(suggestionRow("Горького"))),
		chromedp.Poll[chromedp.Void](`document.querySelector("#fias").value !== ""`, chromedp.WithPollingTimeout(5*time.Second)),
	)
	require.NoError(t, err, "the widget's calls:\n%s", seen)
	screenshot(t, ctx, "widget-address-filled.png")
	form := map[string]string{}
	for _, id := range []string{"address", "postal", "region", "city", "street", "house", "fias"} {
		form[id], err = chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#"+id)))
		require.NoError(t, err)
	}
	require.Equal(t, "г Байконур, ул Горького, д 5а", strings.TrimSpace(form["address"]))
	require.Regexp(t, `^\d{6}$`, form["postal"])
	require.Equal(t, "г Байконур", form["region"])
	require.Equal(t, "г Байконур", form["city"])
	require.Equal(t, "ул Горького", form["street"])
	require.Equal(t, "д 5а", form["house"])
	require.Regexp(t, `^[0-9a-f-]{36}$`, form["fias"])

	t.Logf("the widget's calls:\n%s", seen)
	require.Empty(t, seen.errors(), "the page reported errors")
	require.Contains(t, seen.String(), sg+"/suggest/address")
	require.Empty(t, seen.refused(), "every call the widget made to the hub succeeded")
}

// suggestionRow is the XPath of the widget's list row holding text (the
// class suggestions-suggestion exactly: the list itself is
// suggestions-suggestions).
func suggestionRow(text string) string {
	return `//div[contains(concat(" ", normalize-space(@class), " "), " suggestions-suggestion ")][contains(., "` + text + `")]`
}

// serveHub serves b on a loopback TCP port, as the browser needs, until
// the test ends; it returns the hub's origin.
func serveHub(t *testing.T, b *bundle) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = b.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = b.srv.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String()
}

// newBrowser starts a headless Chromium of its own, on a fresh profile,
// ended with the test. The flags keep it off the network but for the
// test's pages: this machine refuses everything else, and Chromium's
// background calls would only add noise and time.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root, where the sandbox will not start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	t.Cleanup(cancelBrowser) // runs first: the browser ends before its profile is removed
	require.NoError(t, chromedp.Do(ctx), "starting %s", chromiumPath)
	return ctx
}

// typeSlowly types s into sel a key at a time, as a person does: the
// widget reacts to each keyup, and the pause lets each one land.
func typeSlowly(sel, s string) chromedp.Action[chromedp.Void] {
	steps := []chromedp.Action[chromedp.Void]{chromedp.Focus(chromedp.CSS(sel))}
	for _, r := range s {
		steps = append(steps, chromedp.KeyEvent(string(r)), chromedp.Sleep(40*time.Millisecond))
	}
	return chromedp.Steps(steps...)
}

// screenshot keeps a screenshot of the tab with the test's files and, when
// CRMHUB_SCREENSHOTS names a folder, there too, for a person to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	dirs := []string{t.TempDir()}
	if d := os.Getenv("CRMHUB_SCREENSHOTS"); d != "" {
		require.NoError(t, os.MkdirAll(d, 0o755))
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		require.NoError(t, os.WriteFile(filepath.Join(d, name), png, 0o644))
	}
}

// browserLog is what the page did that a test checks: its calls to the
// hub with their answers, and the errors it reported.
type browserLog struct {
	mu    sync.Mutex
	calls map[network.RequestID]*hubCall
	order []network.RequestID
	errs  []string
}

// hubCall is one request of the page's to the hub.
type hubCall struct {
	method, path, kind string
	body               string // what a POST sent
	status             int64
	failed             string // why it did not complete; "" when it did
	canceled           bool   // the widget dropped it for a newer query
}

// watchBrowser records the page's calls to hub and its errors: uncaught
// exceptions, console.error, and the browser's own error entries (a
// request CORS blocked is one).
func watchBrowser(t *testing.T, ctx context.Context, hub string) *browserLog {
	t.Helper()
	l := &browserLog{calls: map[network.RequestID]*hubCall{}}
	err := chromedp.Listen(ctx, func(ev any) {
		l.mu.Lock()
		defer l.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			if !strings.HasPrefix(e.Request.URL, hub+"/") {
				return
			}
			u, _ := url.Parse(e.Request.URL)
			if _, ok := l.calls[e.RequestID]; !ok {
				l.order = append(l.order, e.RequestID)
			}
			c := &hubCall{method: e.Request.Method, path: u.Path, kind: string(e.Type)}
			for _, d := range e.Request.PostDataEntries {
				c.body += string(d.Bytes)
			}
			l.calls[e.RequestID] = c
		case *network.EventResponseReceived:
			if c := l.calls[e.RequestID]; c != nil {
				c.status = e.Response.Status
			}
		case *network.EventLoadingFailed:
			if c := l.calls[e.RequestID]; c != nil {
				c.failed, c.canceled = e.ErrorText, e.Canceled
				if e.CorsErrorStatus != nil {
					c.failed += " (CORS: " + string(e.CorsErrorStatus.CorsError) + ")"
				}
			}
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			l.errs = append(l.errs, fmt.Sprintf("exception: %s at %s:%d", msg, d.URL, d.LineNumber+1))
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value))
				}
				l.errs = append(l.errs, "console.error: "+strings.Join(args, " "))
			}
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError {
				l.errs = append(l.errs, fmt.Sprintf("%s: %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL))
			}
		}
	})
	require.NoError(t, err)
	return l
}

// String lists the calls in the order they were made.
func (l *browserLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var sb strings.Builder
	for _, id := range l.order {
		c := l.calls[id]
		fmt.Fprintf(&sb, "  %-7s %s [%s]", c.method, c.path, c.kind)
		if c.body != "" {
			fmt.Fprintf(&sb, " %s", c.body)
		}
		fmt.Fprintf(&sb, " -> %d", c.status)
		if c.failed != "" {
			fmt.Fprintf(&sb, " failed: %s", c.failed)
		}
		sb.WriteByte('\n')
	}
	for _, e := range l.errs {
		fmt.Fprintf(&sb, "  error: %s\n", e)
	}
	return sb.String()
}

// refused lists the calls the hub did not answer with a success, but for
// those the widget itself canceled for a newer query.
func (l *browserLog) refused() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, id := range l.order {
		c := l.calls[id]
		if c.canceled || (c.failed == "" && c.status >= 200 && c.status < 300) {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s -> %d %s", c.method, c.path, c.status, c.failed))
	}
	return out
}

// errors is what the page reported as errors.
func (l *browserLog) errors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.errs...)
}
