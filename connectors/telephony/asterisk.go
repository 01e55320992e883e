package telephony

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
)

const asteriskSource = "telephony:asterisk"

// Asterisk listens to an Asterisk PBX over AMI: it logs in, follows the
// call events, assembles each call from its channels (grouped by
// Linkedid) and stores a report in the inbox at each step that matters
// (start, ringing, answer, hang-up, Cdr), which the inbox workers apply
// like any provider's. It reconnects with backoff when the connection
// drops; the Cdr events, which carry the whole call, make up for events
// missed meanwhile. Click-to-call goes out as Originate.
type Asterisk struct {
	processor
	cfg   AsteriskConfig
	inbox *inbox.Inbox

	nextID atomic.Int64
	mu     sync.Mutex // guards the fields below
	conn   net.Conn
	wait   map[string]chan amiMessage // actions waiting for their response, by ActionID
	state  AsteriskStatus

	track callTracker
}

// AsteriskStatus is what an operator wants to know about the connection.
type AsteriskStatus struct {
	Connected  bool
	Since      time.Time // of the current state
	Reconnects int64
	LastError  string
	Events     int64 // events read since start
}

// NewAsterisk returns the AMI client; Run connects it.
func NewAsterisk(cfg AsteriskConfig, in *inbox.Inbox, calls core.CallService) (*Asterisk, error) {
	if cfg.Addr == "" || cfg.Username == "" || cfg.Secret == "" {
		return nil, errors.New("telephony asterisk: addr, username and secret are required")
	}
	cfg.setDefaults()
	a := &Asterisk{cfg: cfg, inbox: in, wait: map[string]chan amiMessage{},
		track: callTracker{calls: map[string]*amiCall{}, chans: map[string]string{}}}
	a.processor = processor{calls: calls, policy: cfg.Policy, report: a.reportOf}
	return a, nil
}

// Source is the inbox source its reports are stored under.
func (a *Asterisk) Source() string { return asteriskSource }

// Status returns the connection's state.
func (a *Asterisk) Status() AsteriskStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state
}

// Run keeps a session open until ctx ends, reconnecting with backoff.
func (a *Asterisk) Run(ctx context.Context) error {
	backoff := a.cfg.MinBackoff
	for {
		started := a.cfg.Now()
		err := a.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		a.mu.Lock()
		a.state.Connected = false
		a.state.Since = a.cfg.Now()
		a.state.Reconnects++
		if err != nil {
			a.state.LastError = err.Error()
		}
		a.mu.Unlock()
		a.cfg.Logger.Warn("asterisk_disconnected", "addr", a.cfg.Addr, "error", err, "retry_in", backoff)
		if a.cfg.Now().Sub(started) > 2*a.cfg.MaxBackoff {
			backoff = a.cfg.MinBackoff // it was up for a while: start over
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, a.cfg.MaxBackoff)
	}
}

// errAuth is a refused login.
var errAuth = errors.New("asterisk: authentication failed")

func (a *Asterisk) session(ctx context.Context) error {
	d := net.Dialer{Timeout: a.cfg.DialTimeout}
	var conn net.Conn
	var err error
	if a.cfg.TLS != nil {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: a.cfg.TLS}).DialContext(ctx, "tcp", a.cfg.Addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", a.cfg.Addr)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	r := bufio.NewReaderSize(conn, 16<<10)
	_ = conn.SetReadDeadline(time.Now().Add(a.cfg.DialTimeout))
	banner, err := readAMILine(r)
	if err != nil {
		return fmt.Errorf("asterisk: no banner: %w", err)
	}
	if !strings.HasPrefix(banner, "Asterisk Call Manager/") {
		return fmt.Errorf("asterisk: not a manager interface: %q", clipText(banner, 60))
	}
	id := a.actionID()
	if err := writeAMIAction(conn, [][2]string{{"Action", "Login"}, {"ActionID", id}, {"Username", a.cfg.Username},
		{"Secret", a.cfg.Secret}, {"Events", a.cfg.Events}}); err != nil {
		return err
	}
	for {
		m, err := readAMIMessage(r)
		if err != nil {
			return fmt.Errorf("asterisk: login: %w", err)
		}
		if m.Has("Response") && m.Get("ActionID") == id {
			if !strings.EqualFold(m.Get("Response"), "Success") {
				return fmt.Errorf("%w: %s", errAuth, m.Get("Message"))
			}
			break
		}
	}
	_ = conn.SetReadDeadline(time.Time{})
	a.mu.Lock()
	a.conn = conn
	a.state.Connected, a.state.Since, a.state.LastError = true, a.cfg.Now(), ""
	a.mu.Unlock()
	a.cfg.Logger.Info("asterisk_connected", "addr", a.cfg.Addr, "server", banner)
	defer func() {
		a.mu.Lock()
		a.conn = nil
		for id, ch := range a.wait {
			close(ch)
			delete(a.wait, id)
		}
		a.mu.Unlock()
	}()

	pingErr := make(chan error, 1)
	pctx, stopPing := context.WithCancel(ctx)
	defer stopPing()
	go func() { pingErr <- a.keepAlive(pctx) }()
	for {
		m, err := readAMIMessage(r)
		if err != nil {
			select {
			case perr := <-pingErr:
				if perr != nil {
					return perr
				}
			default:
			}
			return err
		}
		if err := a.dispatch(ctx, m); err != nil {
			return err
		}
	}
}

// keepAlive pings; an unanswered ping closes the connection.
func (a *Asterisk) keepAlive(ctx context.Context) error {
	t := time.NewTicker(a.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, a.cfg.PingInterval)
		_, err := a.action(pctx, [][2]string{{"Action", "Ping"}})
		cancel()
		if err != nil && ctx.Err() == nil {
			a.mu.Lock()
			if a.conn != nil {
				a.conn.Close()
			}
			a.mu.Unlock()
			return fmt.Errorf("asterisk: ping: %w", err)
		}
	}
}

func (a *Asterisk) actionID() string { return "crmhub-" + strconv.FormatInt(a.nextID.Add(1), 10) }

// action sends an action and waits for its response.
func (a *Asterisk) action(ctx context.Context, fields [][2]string) (amiMessage, error) {
	id := a.actionID()
	ch := make(chan amiMessage, 1)
	a.mu.Lock()
	conn := a.conn
	if conn == nil {
		a.mu.Unlock()
		return amiMessage{}, errors.New("asterisk: not connected")
	}
	a.wait[id] = ch
	err := writeAMIAction(conn, append([][2]string{fields[0], {"ActionID", id}}, fields[1:]...))
	a.mu.Unlock()
	if err != nil {
		return amiMessage{}, err
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return amiMessage{}, errors.New("asterisk: connection lost")
		}
		if !strings.EqualFold(m.Get("Response"), "Success") {
			return m, fmt.Errorf("asterisk: %s: %s", fields[0][1], m.Get("Message"))
		}
		return m, nil
	case <-ctx.Done():
		a.mu.Lock()
		delete(a.wait, id)
		a.mu.Unlock()
		return amiMessage{}, ctx.Err()
	}
}

// Originate starts a click-to-call: Asterisk rings channel (the
// employee's phone, e.g. PJSIP/101) and then dials number in context.
func (a *Asterisk) Originate(ctx context.Context, channel, context_, number, callerID string, vars map[string]string) error {
	if channel == "" || number == "" {
		return core.Errorf(core.EINVALID, "a channel and a number are required")
	}
	fields := [][2]string{{"Action", "Originate"}, {"Channel", channel}, {"Context", context_}, {"Exten", number},
		{"Priority", "1"}, {"Timeout", "30000"}, {"Async", "true"}}
	if callerID != "" {
		fields = append(fields, [2]string{"CallerID", callerID})
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fields = append(fields, [2]string{"Variable", k + "=" + vars[k]})
	}
	_, err := a.action(ctx, fields)
	return err
}

// Provider implements core.Dialer.
func (a *Asterisk) Provider() string { return "asterisk" }

// Dial implements core.Dialer: Originate from the employee's first
// extension to the number's digits (as the fixture's dialplans take them).
func (a *Asterisk) Dial(ctx context.Context, u *core.User, number string) error {
	if len(u.PhoneExtensions) == 0 {
		return core.Invalid([]core.FieldError{{Field: "user_id", Code: "no_extension", Message: "the user has no phone extension"}})
	}
	ext := u.PhoneExtensions[0]
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := a.Originate(ctx, a.cfg.ChannelPrefix+ext, a.cfg.Context, strings.TrimPrefix(number, "+"),
		fmt.Sprintf("%q <%s>", "CRM", ext), map[string]string{"CRM_USER_ID": u.ID})
	if err != nil && strings.HasPrefix(err.Error(), "asterisk: Originate:") {
		return core.Errorf(core.EINVALID, "Asterisk refused the call: %s", strings.TrimPrefix(err.Error(), "asterisk: Originate: "))
	}
	return err
}

// dispatch routes a message: a response to its waiting action, an event
// to the call tracker.
func (a *Asterisk) dispatch(ctx context.Context, m amiMessage) error {
	// An event may carry Response and ActionID too (OriginateResponse).
	if !m.Has("Event") && m.Has("Response") {
		a.mu.Lock()
		ch, ok := a.wait[m.Get("ActionID")]
		delete(a.wait, m.Get("ActionID"))
		a.mu.Unlock()
		if ok {
			ch <- m
		}
		return nil
	}
	if !m.Has("Event") {
		return nil
	}
	if m.Get("Event") == "OriginateResponse" {
		a.cfg.Logger.Info("asterisk_originate", "action_id", m.Get("ActionID"), "response", m.Get("Response"),
			"reason", m.Get("Reason"), "channel", m.Get("Channel"))
	}
	a.mu.Lock()
	a.state.Events++
	a.mu.Unlock()
	at := a.cfg.Now()
	if ts, err := strconv.ParseFloat(m.Get("Timestamp"), 64); err == nil && ts > 0 {
		at = time.Unix(0, int64(ts*1e9))
	}
	for _, rep := range a.track.event(m, at, a.cfg.Location) {
		body, err := json.Marshal(rep.report)
		if err != nil {
			return err
		}
		// A delivery that cannot be stored stops the session: the
		// reconnect (and the Cdr, which carries the whole call) catch up.
		if _, _, err := a.inbox.Receive(ctx, inbox.Delivery{Source: asteriskSource, DedupeKey: rep.key, Kind: m.Get("Event"),
			ContentType: "application/json", Body: body}); err != nil {
			return fmt.Errorf("asterisk: store the event: %w", err)
		}
	}
	return nil
}

func (a *Asterisk) reportOf(d inbox.Delivery) (*core.CallReport, error) {
	var r core.CallReport
	if err := json.Unmarshal(d.Body, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// amiCall is what the channel events of one call (one Linkedid) told.
type amiCall struct {
	from, to, direction string
	started             time.Time
	answeredBy          string
	lastDial            string // the last DialStatus
	seen                time.Time
}

// callTracker assembles calls from channel events. It only reads events
// in order on one connection, so it needs no lock; it forgets calls an
// hour after their last event (a Cdr may follow the hang-up).
type callTracker struct {
	calls map[string]*amiCall // by Linkedid
	chans map[string]string   // Uniqueid → Linkedid
	n     int
}

type keyedReport struct {
	key    string
	report core.CallReport
}

const trackedCallsMax = 50_000

// amiNumber is a caller id as a number ("" for the hidden ones).
func amiNumber(s string) string {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", "<unknown>", "unknown", "anonymous", "0":
		return ""
	}
	return s
}

// isExtension tells an employee's short number from a phone number.
func isExtension(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func direction(from, to string) string {
	switch {
	case isExtension(from) && isExtension(to):
		return core.CallInternal
	case isExtension(from):
		return core.CallOut
	}
	return core.CallIn
}

func (t *callTracker) gc(now time.Time) {
	t.n++
	if t.n%1000 != 0 && len(t.calls) < trackedCallsMax {
		return
	}
	for id, c := range t.calls {
		if now.Sub(c.seen) > time.Hour || len(t.calls) >= trackedCallsMax {
			delete(t.calls, id)
		}
	}
	for u, l := range t.chans {
		if _, ok := t.calls[l]; !ok {
			delete(t.chans, u)
		}
	}
}

// event folds an event into its call and returns the reports to store.
func (t *callTracker) event(m amiMessage, at time.Time, loc *time.Location) []keyedReport {
	t.gc(at)
	name := m.Get("Event")
	linked := m.Get("Linkedid")
	if name == "Cdr" {
		return t.cdr(m, loc)
	}
	if linked == "" || strings.HasPrefix(m.Get("Channel"), "Local/") {
		return nil
	}
	c := t.calls[linked]
	if c == nil {
		if name != "Newchannel" || m.Get("Uniqueid") != linked {
			return nil // a call that began before we connected: its Cdr will tell
		}
		from, to := amiNumber(m.Get("CallerIDNum")), amiNumber(m.Get("Exten"))
		c = &amiCall{from: from, to: to, direction: direction(from, to), started: at}
		t.calls[linked] = c
	}
	c.seen = at
	t.chans[m.Get("Uniqueid")] = linked
	base := core.CallReport{Provider: "asterisk", CallID: linked, Direction: c.direction, From: c.from, To: c.to}
	switch name {
	case "Newchannel":
		if m.Get("Uniqueid") != linked {
			return nil
		}
		r := base
		r.StartedAt = &c.started
		if c.direction == core.CallOut {
			r.Extension = c.from
		}
		return []keyedReport{{linked + ":start", r}}
	case "DialBegin":
		ext := amiNumber(m.Get("DestCallerIDNum"))
		if !isExtension(ext) {
			ext = amiNumber(m.Get("DialString"))
		}
		if c.direction == core.CallOut || !isExtension(ext) {
			return nil
		}
		r := base
		r.Extension = ext
		return []keyedReport{{linked + ":dial:" + m.Get("DestUniqueid"), r}}
	case "DialEnd":
		c.lastDial = strings.ToUpper(m.Get("DialStatus"))
		if c.lastDial != "ANSWER" {
			return nil
		}
		r := base
		answered := at
		r.AnsweredAt = &answered
		switch {
		case c.direction == core.CallOut:
			r.Extension = c.from
		case isExtension(amiNumber(m.Get("DestCallerIDNum"))):
			r.Extension = amiNumber(m.Get("DestCallerIDNum"))
		}
		c.answeredBy = r.Extension
		return []keyedReport{{linked + ":answer:" + m.Get("DestUniqueid"), r}}
	case "Hangup":
		if m.Get("Uniqueid") != linked {
			return nil
		}
		r := base
		ended := at
		r.StartedAt, r.EndedAt, r.Final = &c.started, &ended, true
		r.Extension = c.answeredBy
		switch {
		case c.answeredBy != "" || c.lastDial == "ANSWER":
			r.Disposition = core.CallAnswered
		case c.lastDial == "BUSY" || m.Get("Cause") == "17":
			r.Disposition = core.CallBusy
		case c.lastDial == "CHANUNAVAIL" || c.lastDial == "CONGESTION":
			r.Disposition = core.CallFailed
		default:
			r.Disposition = core.CallMissed
		}
		return []keyedReport{{linked + ":hangup", r}}
	}
	return nil
}

// cdr reads a Cdr event: the call's record with its times (server local
// time), talk seconds and disposition. A call has one per dialled leg.
func (t *callTracker) cdr(m amiMessage, loc *time.Location) []keyedReport {
	uid := m.Get("UniqueID")
	if uid == "" {
		return nil
	}
	linked := uid
	if l, ok := t.chans[uid]; ok {
		linked = l
	}
	from, to := amiNumber(m.Get("Source")), amiNumber(m.Get("Destination"))
	r := core.CallReport{Provider: "asterisk", CallID: linked, From: from, To: to, Direction: direction(from, to), Final: true}
	if c := t.calls[linked]; c != nil {
		r.Direction, r.From, r.To = c.direction, c.from, c.to
	}
	parse := func(s string) *time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04:05", strings.TrimSpace(s), loc)
		if err != nil {
			return nil
		}
		return &v
	}
	r.StartedAt, r.AnsweredAt, r.EndedAt = parse(m.Get("StartTime")), parse(m.Get("AnswerTime")), parse(m.Get("EndTime"))
	if n, err := strconv.Atoi(m.Get("BillableSeconds")); err == nil && n >= 0 {
		r.Duration = &n
	}
	switch strings.ToUpper(m.Get("Disposition")) {
	case "ANSWERED":
		r.Disposition = core.CallAnswered
	case "BUSY":
		r.Disposition = core.CallBusy
	case "FAILED", "CONGESTION":
		r.Disposition = core.CallFailed
	default:
		r.Disposition = core.CallMissed
	}
	if r.Direction == core.CallOut {
		r.Extension = from
	} else if ext := channelResource(m.Get("DestinationChannel")); isExtension(ext) {
		r.Extension = ext // the one that answered, or the last one rung
	}
	return []keyedReport{{linked + ":cdr:" + uid + ":" + m.Get("DestinationChannel"), r}}
}

// channelResource is the endpoint of a channel name: "PJSIP/101-00000013"
// → "101".
func channelResource(ch string) string {
	_, res, ok := strings.Cut(ch, "/")
	if !ok {
		return ""
	}
	if i := strings.LastIndexByte(res, '-'); i > 0 {
		res = res[:i]
	}
	return res
}
