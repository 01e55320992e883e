// Package mailtest gives the tests of the mail connectors (and of the API
// and commands that use them) real mail servers on loopback: Dovecot (IMAP,
// IMAPS and LMTP) and OpenSMTPD relaying into Dovecot's LMTP. Both are
// started as foreground children from configs written into a temporary
// folder — they read nothing from /etc, listen on free ports of 127.0.0.1
// only — and stopped when the test ends. They need the Debian packages
// dovecot-imapd, dovecot-lmtpd and opensmtpd (make deps). Any user logs in
// to IMAP with the password "secret" and has a mailbox of its own (a
// recipient address's local part is the user), so tests do not share
// mailboxes.
//
// Only one OpenSMTPD runs per machine (its control socket and spool are
// compiled-in paths, so a system smtpd left running blocks it too): Start
// holds a machine-wide lock while the servers run, so test binaries of
// several packages take turns.
//
// Import it from _test.go files only.
package mailtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"mime"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset"
)

// Password logs any user in.
const Password = "secret"

// RejectedRecipient is refused by the SMTP server with a permanent 550.
const RejectedRecipient = "rejected@example.ru"

// Server is a running Dovecot and OpenSMTPD.
type Server struct {
	Root                         string
	IMAPPort, LMTPPort, SMTPPort int
	// IMAPSPort serves IMAP over TLS with a certificate for localhost and
	// 127.0.0.1 signed by the CA in CAFile.
	IMAPSPort      int
	CAFile         string
	dovecot, smtpd *exec.Cmd
	lock           *os.File
}

// SMTPAddr and IMAPAddr are the servers' host:port.
func (s *Server) SMTPAddr() string { return "127.0.0.1:" + strconv.Itoa(s.SMTPPort) }

// IMAPAddr is the IMAP server's host:port (plain IMAP on loopback).
func (s *Server) IMAPAddr() string { return "127.0.0.1:" + strconv.Itoa(s.IMAPPort) }

// Start starts both servers for the test (stopped when it ends); a missing
// binary fails the test with what to install.
func Start(t testing.TB) *Server { return startT(t, true) }

// StartIMAP starts Dovecot alone (IMAP and LMTP; no machine-wide lock).
func StartIMAP(t testing.TB) *Server { return startT(t, false) }

func startT(t testing.TB, withSMTP bool) *Server {
	t.Helper()
	s, err := start(withSMTP)
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func lookPath(name string, dirs ...string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range dirs {
		if p := filepath.Join(d, name); isExec(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found: install dovecot-imapd, dovecot-lmtpd and opensmtpd (make deps)", name)
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode()&0o111 != 0
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func start(withSMTP bool) (*Server, error) {
	dovecot, err := lookPath("dovecot", "/usr/sbin")
	if err != nil {
		return nil, err
	}
	smtpd := ""
	if withSMTP {
		if smtpd, err = lookPath("smtpd", "/usr/sbin"); err != nil {
			return nil, err
		}
	}
	if !isExec("/usr/lib/dovecot/lmtp") {
		return nil, errors.New("/usr/lib/dovecot/lmtp not found: install dovecot-lmtpd (make deps)")
	}
	root, err := os.MkdirTemp("", "crmhub-mailtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{Root: root}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	// Mail processes run as nobody and must reach the mailboxes.
	if err := os.Chmod(root, 0o755); err != nil {
		return nil, err
	}
	for _, d := range []string{"run", "state", "home"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := chownNobody(filepath.Join(root, "home")); err != nil {
		return nil, err
	}
	if s.CAFile, err = writeCerts(root); err != nil {
		return nil, err
	}
	for _, p := range []*int{&s.IMAPPort, &s.IMAPSPort, &s.LMTPPort, &s.SMTPPort} {
		if *p, err = freePort(); err != nil {
			return nil, err
		}
	}
	conf := filepath.Join(root, "dovecot.conf")
	if err := os.WriteFile(conf, []byte(dovecotConf(root, s.IMAPPort, s.IMAPSPort, s.LMTPPort)), 0o644); err != nil {
		return nil, err
	}
	s.dovecot = exec.Command(dovecot, "-F", "-c", conf)
	if err := s.run(s.dovecot, "dovecot"); err != nil {
		return nil, err
	}
	if err := waitPort(s.IMAPPort, s.dovecot); err != nil {
		return nil, fmt.Errorf("dovecot: %w (%s)", err, tail(filepath.Join(root, "dovecot.log")))
	}
	if !withSMTP {
		ok = true
		return s, nil
	}

	// One OpenSMTPD per machine: wait for the lock, then clear a leftover
	// of this harness (a test binary killed before its cleanup).
	if s.lock, err = os.OpenFile(filepath.Join(os.TempDir(), "crmhub-mailtest-smtpd.lock"), os.O_CREATE|os.O_RDWR, 0o600); err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(s.lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, err
	}
	_ = exec.Command("pkill", "-f", "crmhub-mailtest-.*/smtpd.conf").Run()
	sconf := filepath.Join(root, "smtpd.conf")
	if err := os.WriteFile(sconf, []byte(smtpdConf(s.SMTPPort, s.LMTPPort)), 0o644); err != nil {
		return nil, err
	}
	s.smtpd = exec.Command(smtpd, "-d", "-f", sconf)
	if err := s.run(s.smtpd, "smtpd"); err != nil {
		return nil, err
	}
	if err := waitPort(s.SMTPPort, s.smtpd); err != nil {
		return nil, fmt.Errorf("smtpd: %w (%s)", err, tail(filepath.Join(root, "smtpd.log")))
	}
	ok = true
	return s, nil
}

// writeCerts makes a CA and a server certificate for localhost and
// 127.0.0.1 (cert.pem, key.pem), and returns the CA's file.
func writeCerts(root string) (string, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "crmhub mailtest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", err
	}
	files := map[string][]byte{
		"ca.pem":   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		"cert.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"key.pem":  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(root, name), b, 0o644); err != nil {
			return "", err
		}
	}
	return filepath.Join(root, "ca.pem"), nil
}

// run starts a server as a child that dies with the test binary.
func (s *Server) run(cmd *exec.Cmd, name string) error {
	log, err := os.Create(filepath.Join(s.Root, name+".log"))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("%s: %w", name, err)
	}
	go func() { _ = cmd.Wait(); log.Close() }()
	return nil
}

func chownNobody(path string) error {
	out, err := exec.Command("id", "-u", "nobody").Output()
	if err != nil {
		return fmt.Errorf("user nobody: %w", err)
	}
	uid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	out, err = exec.Command("id", "-g", "nobody").Output()
	if err != nil {
		return fmt.Errorf("group of nobody: %w", err)
	}
	gid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return os.Chown(path, uid, gid)
}

// waitPort waits until the port accepts connections, failing early when
// the server exits.
func waitPort(port int, cmd *exec.Cmd) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			// The port may belong to someone else: the child must be alive.
			if cmd.Process.Signal(syscall.Signal(0)) != nil {
				return errors.New("exited")
			}
			return nil
		}
		if cmd.Process.Signal(syscall.Signal(0)) != nil {
			return errors.New("exited")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("port %d not up in 15 s", port)
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// Close stops the servers and removes their folder.
func (s *Server) Close() {
	for _, c := range []*exec.Cmd{s.smtpd, s.dovecot} {
		if c == nil || c.Process == nil {
			continue
		}
		_ = c.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() {
			for c.Process.Signal(syscall.Signal(0)) == nil {
				time.Sleep(20 * time.Millisecond)
			}
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = c.Process.Kill()
		}
	}
	if s.lock != nil {
		s.lock.Close() // releases the flock
	}
	_ = os.RemoveAll(s.Root)
}

func dovecotConf(root string, imapPort, imapsPort, lmtpPort int) string {
	return strings.NewReplacer("ROOT", root, "IMAPSPORT", strconv.Itoa(imapsPort), "IMAPPORT", strconv.Itoa(imapPort),
		"LMTPPORT", strconv.Itoa(lmtpPort)).Replace(`
protocols = imap lmtp
listen = 127.0.0.1
base_dir = ROOT/run
state_dir = ROOT/state
instance_name = crmhub-mailtest
log_path = ROOT/dovecot.log
ssl = yes
ssl_cert = <ROOT/cert.pem
ssl_key = <ROOT/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
auth_username_format = %Ln
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=ROOT/home/%n allow_all_users=yes
}
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = IMAPPORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = IMAPSPORT
    ssl = yes
  }
}
# No growing delays after failed logins (tests try wrong passwords).
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = LMTPPORT
  }
}
`)
}

func smtpdConf(smtpPort, lmtpPort int) string {
	return fmt.Sprintf(`listen on 127.0.0.1 port %d hostname mail.test
action "to_dovecot" relay host "lmtp://127.0.0.1:%d"
match from any for any rcpt-to "%s" reject
match from any for any action "to_dovecot"
`, smtpPort, lmtpPort, RejectedRecipient)
}

// Fetch waits (up to timeout) for the message with messageID to arrive in
// user's INBOX and returns it raw.
func (s *Server) Fetch(ctx context.Context, user, messageID string, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		raw, err := s.fetchOnce(user, messageID)
		if err != nil || raw != nil {
			return raw, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("message %s did not arrive for %s in %s", messageID, user, timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *Server) fetchOnce(user, messageID string) ([]byte, error) {
	c, err := imapclient.DialInsecure(s.IMAPAddr(), &imapclient.Options{WordDecoder: &mime.WordDecoder{CharsetReader: charset.Reader}})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Login(user, Password).Wait(); err != nil {
		return nil, err
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		return nil, err
	}
	sd, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: messageID}}}, nil).Wait()
	if err != nil {
		return nil, err
	}
	uids := sd.AllUIDs()
	if len(uids) == 0 {
		return nil, nil
	}
	sec := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.UIDSetNum(uids[0]), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{sec}}).Collect()
	if err != nil || len(msgs) == 0 {
		return nil, err
	}
	raw := msgs[0].FindBodySection(sec)
	_ = c.Logout().Wait()
	return bytes.Clone(raw), nil
}

// Count returns how many messages user's INBOX holds.
func (s *Server) Count(user string) (uint32, error) { return s.Messages(user, "INBOX") }

// login opens an IMAP session as user.
func (s *Server) login(user string) (*imapclient.Client, error) {
	c, err := imapclient.DialInsecure(s.IMAPAddr(), nil)
	if err != nil {
		return nil, err
	}
	if err := c.Login(user, Password).Wait(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Append puts messages into user's folder (created when missing) by IMAP
// APPEND, over one connection.
func (s *Server) Append(user, folder string, msgs ...[]byte) error {
	c, err := s.login(user)
	if err != nil {
		return err
	}
	defer c.Close()
	if folder != "INBOX" {
		if err := c.Create(folder, nil).Wait(); err != nil {
			var ie *imap.Error
			if !errors.As(err, &ie) || ie.Code != imap.ResponseCodeAlreadyExists {
				return err
			}
		}
	}
	for _, raw := range msgs {
		cmd := c.Append(folder, int64(len(raw)), nil)
		if _, err := cmd.Write(raw); err != nil {
			return err
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		if _, err := cmd.Wait(); err != nil {
			return err
		}
	}
	return c.Logout().Wait()
}

// Messages returns how many messages user's folder holds (0 when it does
// not exist).
func (s *Server) Messages(user, folder string) (uint32, error) {
	c, err := s.login(user)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	st, err := c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) && ie.Code == imap.ResponseCodeNonExistent {
			return 0, nil
		}
		return 0, err
	}
	return *st.NumMessages, nil
}

// DeleteFolder deletes user's folder (its next incarnation gets a new
// UIDVALIDITY).
func (s *Server) DeleteFolder(user, folder string) error {
	c, err := s.login(user)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Delete(folder).Wait()
}
