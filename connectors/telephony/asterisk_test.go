package telephony_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/telephony"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// transcript reads an AMI fixture: its banner (when it has one) and its
// blocks, in order, each a list of "Key: Value" lines. Merged transcripts
// hold both directions: blocks that start with "Action:" are the client's.
func transcript(t *testing.T, name string) (banner string, blocks [][]string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata/asterisk", name))
	require.NoError(t, err)
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	if first, rest, ok := strings.Cut(text, "\n"); ok && strings.HasPrefix(first, "Asterisk Call Manager/") {
		banner, text = first, rest
	}
	for _, blk := range strings.Split(text, "\n\n") {
		if blk = strings.Trim(blk, "\n"); blk != "" {
			blocks = append(blocks, strings.Split(blk, "\n"))
		}
	}
	return banner, blocks
}

func isAction(blk []string) bool { return strings.HasPrefix(blk[0], "Action:") }

// amiPeer is the server side of one connection in a test.
type amiPeer struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	id   string // the ActionID of the client's last action
}

// read reads the client's next action block as lines.
func (p *amiPeer) read() []string {
	p.t.Helper()
	var lines []string
	for {
		line, err := p.r.ReadString('\n')
		require.NoError(p.t, err)
		require.True(p.t, strings.HasSuffix(line, "\r\n"), "AMI lines end in CR LF: %q", line)
		line = strings.TrimSuffix(line, "\r\n")
		if line == "" {
			if len(lines) == 0 {
				continue
			}
			break
		}
		if v, ok := strings.CutPrefix(line, "ActionID: "); ok {
			p.id = v
		}
		lines = append(lines, line)
	}
	return lines
}

// write sends a server block; a response answers the client's last action.
func (p *amiPeer) write(blk []string) {
	p.t.Helper()
	var b strings.Builder
	for _, l := range blk {
		if strings.HasPrefix(l, "ActionID: ") && strings.HasPrefix(blk[0], "Response:") {
			l = "ActionID: " + p.id
		}
		b.WriteString(l + "\r\n")
	}
	b.WriteString("\r\n")
	_, err := p.conn.Write([]byte(b.String()))
	require.NoError(p.t, err)
}

// login plays the server's side of a successful login.
func (p *amiPeer) login() {
	p.t.Helper()
	_, err := p.conn.Write([]byte("Asterisk Call Manager/5.0.4\r\n"))
	require.NoError(p.t, err)
	got := p.read()
	require.Equal(p.t, "Action: Login", got[0])
	require.Contains(p.t, got, "Username: crmhub")
	require.Contains(p.t, got, "Secret: s3cr3t")
	p.write([]string{"Response: Success", "ActionID: x", "Message: Authentication accepted"})
}

// amiServer accepts connections on loopback and runs the next session
// function on each.
func amiServer(t *testing.T, sessions ...func(p *amiPeer)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, s := range sessions {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			p := &amiPeer{t: t, conn: conn, r: bufio.NewReader(conn)}
			s(p)
			conn.Close()
		}
	}()
	return ln.Addr().String()
}

func newAsterisk(t *testing.T, addr string) (*telephony.Asterisk, *inbox.Inbox, *store.Store) {
	t.Helper()
	st := storetest.NewStore(t)
	in := inbox.New(st.Pool())
	a, err := telephony.NewAsterisk(telephony.AsteriskConfig{Addr: addr, Username: "crmhub", Secret: "s3cr3t",
		Events: "call,cdr,dialplan", Location: time.FixedZone("MSK", 3*3600), MinBackoff: 10 * time.Millisecond,
		MaxBackoff: 50 * time.Millisecond, Policy: core.CallPolicy{CreateLeads: true, CallbackAfter: time.Hour}}, in, st)
	require.NoError(t, err)
	return a, in, st
}

// run runs the client until cond holds, then stops it.
func run(t *testing.T, a *telephony.Asterisk, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx); close(done) }()
	require.Eventually(t, cond, 30*time.Second, 5*time.Millisecond)
	cancel()
	<-done
}

// process applies every stored report.
func process(t *testing.T, a *telephony.Asterisk, in *inbox.Inbox) int {
	t.Helper()
	n, err := in.NewWorker(inbox.WorkerConfig{Source: a.Source()}, a.Process).RunOnce(context.Background())
	require.NoError(t, err)
	return n
}

// eventsOf replays a transcript's server blocks (after a login).
func eventsOf(t *testing.T, name string) [][]string {
	_, blocks := transcript(t, name)
	var out [][]string
	for _, b := range blocks {
		if !isAction(b) && !strings.HasPrefix(b[0], "Response:") && b[0] != "Event: FullyBooted" {
			out = append(out, b)
		}
	}
	return out
}

func TestAsteriskSessionInboundAnswered(t *testing.T) {
	t.Parallel()
	banner, blocks := transcript(t, "ami-session-inbound-answered.txt")
	addr := amiServer(t, func(p *amiPeer) {
		_, err := p.conn.Write([]byte(banner + "\r\n"))
		require.NoError(t, err)
		for _, blk := range blocks {
			if isAction(blk) { // the client must send what the transcript shows
				got := p.read()
				for _, l := range blk {
					if !strings.HasPrefix(l, "ActionID:") {
						require.Contains(t, got, l)
					}
				}
				continue
			}
			p.write(blk)
		}
		_, _ = p.r.ReadString('\n') // hold the connection until the client leaves
	})
	a, in, st := newAsterisk(t, addr)
	events := 0
	for _, b := range blocks {
		if strings.HasPrefix(b[0], "Event:") {
			events++
		}
	}
	run(t, a, func() bool { return a.Status().Events == int64(events) })
	require.Equal(t, 5, process(t, a, in), "start, ringing, answer, hang-up, Cdr")

	var dir, from, to, ext, disp string
	var dur int
	var started, answered, ended time.Time
	var lead *string
	ctx := context.Background()
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT direction, from_number, to_number, answered_extension, disposition, duration,
		started_at, answered_at, ended_at, lead_id::text FROM calls WHERE provider = 'asterisk' AND provider_call_id = '1706524805.101'`).
		Scan(&dir, &from, &to, &ext, &disp, &dur, &started, &answered, &ended, &lead))
	require.Equal(t, []any{"in", "+79161234567", "+74951112233", "101", "answered", 125},
		[]any{dir, from, to, ext, disp, dur})
	msk := time.FixedZone("MSK", 3*3600)
	require.True(t, started.Equal(time.Date(2024, 1, 29, 13, 40, 5, 0, msk)) || started.Before(time.Date(2024, 1, 29, 13, 40, 5, 0, msk)))
	require.True(t, ended.After(answered))
	require.NotNil(t, lead, "a new number: a lead")
	var held int
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM activities WHERE kind = 'call' AND status = 'held'`).Scan(&held))
	require.Equal(t, 1, held)
}

func TestAsteriskMissedCallAndReconnect(t *testing.T) {
	t.Parallel()
	events := eventsOf(t, "ami-events-inbound-missed.txt")
	half := 2
	addr := amiServer(t,
		func(p *amiPeer) { // the first session drops after two events
			p.login()
			for _, e := range events[:half] {
				p.write(e)
			}
		},
		func(p *amiPeer) {
			p.login()
			for _, e := range events[half:] {
				p.write(e)
			}
			_, _ = p.r.ReadString('\n')
		})
	a, in, st := newAsterisk(t, addr)
	run(t, a, func() bool { return a.Status().Events == int64(len(events)) && a.Status().Reconnects >= 1 })
	process(t, a, in)
	ctx := context.Background()
	var leads, calls, tasks int
	var disp, ext string
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM leads WHERE phone = '+79161234567'),
		(SELECT count(*) FROM calls), (SELECT count(*) FROM activities WHERE kind = 'task'),
		(SELECT disposition FROM calls), (SELECT extension FROM calls)`).Scan(&leads, &calls, &tasks, &disp, &ext))
	require.Equal(t, []any{1, 1, 1, "missed", "101"}, []any{leads, calls, tasks, disp, ext},
		"a missed call from a new number, across a reconnect: one lead, one call, one call back")
}

func TestAsteriskRealCaptures(t *testing.T) {
	t.Parallel()
	for file, want := range map[string][]any{
		"ami-capture-answered-internal-call.txt": {"internal", "1986", "21", "answered", "21"},
		"ami-capture-unanswered-cancel.txt":      {"internal", "1986", "21", "missed", ""},
	} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			events := eventsOf(t, file)
			addr := amiServer(t, func(p *amiPeer) {
				p.login()
				for _, e := range events {
					p.write(e)
				}
				_, _ = p.r.ReadString('\n')
			})
			a, in, st := newAsterisk(t, addr)
			run(t, a, func() bool { return a.Status().Events == int64(len(events)) })
			process(t, a, in)
			var dir, from, to, disp, answered string
			var final bool
			require.NoError(t, st.Pool().QueryRow(context.Background(), `SELECT direction, from_number, to_number, disposition,
				answered_extension, final FROM calls`).Scan(&dir, &from, &to, &disp, &answered, &final))
			require.Equal(t, want, []any{dir, from, to, disp, answered})
			require.True(t, final)
			var leads int
			require.NoError(t, st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM leads`).Scan(&leads))
			require.Zero(t, leads, "an internal call makes no lead")
		})
	}
}

func TestAsteriskLoginFailed(t *testing.T) {
	t.Parallel()
	banner, blocks := transcript(t, "ami-login-failed.txt")
	addr := amiServer(t, func(p *amiPeer) {
		_, err := p.conn.Write([]byte(banner + "\r\n"))
		require.NoError(t, err)
		p.read()
		p.write(blocks[1])
	})
	a, in, _ := newAsterisk(t, addr)
	run(t, a, func() bool { return strings.Contains(a.Status().LastError, "Authentication failed") })
	require.False(t, a.Status().Connected)
	s, err := in.Stats(context.Background())
	require.NoError(t, err)
	require.Zero(t, s.Pending)
}

func TestAsteriskOriginateAndPing(t *testing.T) {
	t.Parallel()
	_, blocks := transcript(t, "ami-actions-originate-ping.txt")
	pinged := make(chan struct{})
	addr := amiServer(t, func(p *amiPeer) {
		p.login()
		for _, blk := range blocks {
			if !isAction(blk) {
				p.write(blk)
				continue
			}
			got := p.read()
			if blk[0] == "Action: Ping" {
				require.Equal(t, "Action: Ping", got[0])
				continue
			}
			norm := func(lines []string) []string {
				var out []string
				for _, l := range lines {
					if !strings.HasPrefix(l, "ActionID:") {
						out = append(out, l)
					}
				}
				return out
			}
			require.ElementsMatch(t, norm(blk), norm(got), "the Originate the transcript shows")
		}
		close(pinged)
		_, _ = p.r.ReadString('\n')
	})
	st := storetest.NewStore(t)
	a, err := telephony.NewAsterisk(telephony.AsteriskConfig{Addr: addr, Username: "crmhub", Secret: "s3cr3t",
		PingInterval: 50 * time.Millisecond}, inbox.New(st.Pool()), st)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = a.Run(ctx) }()
	require.Eventually(t, func() bool { return a.Status().Connected }, 30*time.Second, 5*time.Millisecond)
	err = a.Originate(ctx, "PJSIP/101", "from-internal", "79161234567", `"CRM" <101>`, map[string]string{"CRM_DEAL_ID": "12345"})
	require.NoError(t, err)
	// The ping the transcript answers comes from the keep-alive.
	select {
	case <-pinged:
	case <-time.After(30 * time.Second):
		t.Fatal("no keep-alive ping")
	}
	require.Equal(t, int64(1), a.Status().Events, "OriginateResponse")
	require.Error(t, a.Originate(ctx, "", "from-internal", "7916", "", nil))
}
