// Package s3test runs a real S3-compatible server for tests: the Versity
// S3 Gateway (versitygw, installed by make deps) on loopback.
package s3test

import (
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The root account of every test gateway. Secret must never appear in an
// error or a log.
const (
	Access = "crmhub-test"
	Secret = "vgw-s3cr3t-7c1d9e4a"
)

// Start runs a Versity S3 Gateway (versitygw, make deps) with the
// posix backend in a temporary directory on a free loopback port, waits
// until it answers and stops it when the test ends. It returns the
// gateway's host:port. A port taken in between by someone else is tried
// again with another.
func Start(t testing.TB) string {
	t.Helper()
	bin := versitygwPath(t)

	for range 3 {
		if endpoint, ok := runGateway(t, bin); ok {
			return endpoint
		}
	}
	t.Fatal("versitygw did not start three times; its output is logged above")
	return ""
}

// versitygwPath finds versitygw in PATH, then in $(go env GOPATH)/bin,
// and fails the test when it is in neither.
func versitygwPath(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}

	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", "versitygw")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	t.Fatal("versitygw (Versity S3 Gateway) is in neither PATH nor $(go env GOPATH)/bin: run make deps")
	return ""
}

// runGateway starts one gateway; not ok when it exits before it answers
// (its port was taken).
func runGateway(t testing.TB, bin string) (string, bool) {
	t.Helper()
	endpoint := freePort(t)
	logPath := filepath.Join(t.TempDir(), "versitygw.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	defer logFile.Close()

	// --keep-alive: without it versitygw answers every request with
	// Connection: close, as no S3 service does.
	cmd := exec.Command(bin, "--port", endpoint, "--access", Access, "--secret", Secret,
		"--quiet", "--keep-alive", "posix", t.TempDir())
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() { stopGateway(t, cmd, exited) })

	if err := waitGateway(endpoint, exited); err != nil {
		out, _ := os.ReadFile(logPath)
		t.Logf("versitygw on %s: %v\n%s", endpoint, err, out)
		return "", false
	}
	return endpoint, true
}

// freePort returns a loopback host:port nobody listens on just now.
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// waitGateway polls the gateway until it answers an HTTP request (an
// anonymous one is refused, which is an answer) as versitygw, for 15 s at
// most.
func waitGateway(endpoint string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("exited before answering")
		default:
		}

		if resp, err := client.Get("http://" + endpoint + "/"); err == nil {
			_ = resp.Body.Close()
			if resp.Header.Get("Server") == "VERSITYGW" {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("no answer in 15s")
}

// stopGateway stops a gateway with SIGTERM, killing it if it lingers.
func stopGateway(t testing.TB, cmd *exec.Cmd, exited <-chan struct{}) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Log("versitygw did not stop in 5s: killed")
		_ = cmd.Process.Kill()
		<-exited
	}
}
