package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// uploadBench measures what a file upload costs a real `crmhub serve`:
// the growth of its peak resident memory (VmHWM, reset before each step
// through clear_refs) while size bytes stream in from a client that sends
// as it goes, and while they stream back out, next to the ceiling a hub
// holding the whole file would reach (size itself); and the upload and
// download rates on loopback.
func uploadBench(ctx context.Context, hub string, size int64, runs int) error {
	dir, err := os.MkdirTemp("", "crmhub-bench-upload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil { // the embedded PostgreSQL's user enters it
		return err
	}
	h, err := startHub(ctx, hub, filepath.Join(dir, "hub"), "CRMHUB_HTTP_ACCESS_LOG=false")
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	defer h.stop()
	deal, err := createDeal(ctx, h)
	if err != nil {
		return err
	}
	fmt.Printf("crmhub-bench -upload: %d × a %d MiB file to a deal on a real crmhub serve (durable PostgreSQL), streamed both ways\n",
		runs, size>>20)
	for i := range runs {
		base, err := residentKiB(h.pid, "VmRSS")
		if err != nil {
			return err
		}
		if err := resetPeak(h.pid); err != nil {
			return err
		}
		start := time.Now()
		id, err := uploadFile(ctx, h, deal, size)
		if err != nil {
			return err
		}
		upTime := time.Since(start)
		upPeak, _ := residentKiB(h.pid, "VmHWM")
		_ = resetPeak(h.pid)
		start = time.Now()
		if err := downloadFile(ctx, h, id, size); err != nil {
			return err
		}
		downTime := time.Since(start)
		downPeak, _ := residentKiB(h.pid, "VmHWM")
		fmt.Printf("run %d: RSS before %d MiB; peak during the upload +%.1f MiB, during the download +%.1f MiB "+
			"(ceiling: +%d MiB, the file held whole); upload %.0f MiB/s, download %.0f MiB/s\n",
			i+1, base>>10, float64(upPeak-base)/1024, float64(downPeak-base)/1024, size>>20,
			float64(size)/(1<<20)/upTime.Seconds(), float64(size)/(1<<20)/downTime.Seconds())
	}
	return nil
}

// residentKiB reads a memory figure of a process from /proc (kB).
func residentKiB(pid int, field string) (int64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// resetPeak sets a process's VmHWM back to its current RSS.
func resetPeak(pid int) error {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0)
}

func createDeal(ctx context.Context, h *runningHub) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", h.base+"/api/v1/deals", strings.NewReader(`{"name":"Договор поставки"}`))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.key)
	var out struct{ ID string }
	return out.ID, doJSON(req, http.StatusCreated, &out)
}

// uploadFile sends size random bytes as one file, generated as they are
// sent, and returns the attachment's id.
func uploadFile(ctx context.Context, h *runningHub, deal string, size int64) (string, error) {
	pr, pw := io.Pipe()
	w := multipart.NewWriter(pw)
	go func() {
		part, err := w.CreateFormFile("file", "скан договора.bin")
		if err == nil {
			_, err = io.CopyN(part, rand.Reader, size)
		}
		if err == nil {
			err = w.Close()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, "POST", h.base+"/api/v1/deals/"+deal+"/attachments", pr)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+h.key)
	var out struct{ Items []struct{ ID string } }
	if err := doJSON(req, http.StatusCreated, &out); err != nil {
		return "", err
	}
	return out.Items[0].ID, nil
}

func downloadFile(ctx context.Context, h *runningHub, id string, size int64) error {
	req, err := http.NewRequestWithContext(ctx, "GET", h.base+"/api/v1/attachments/"+id, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+h.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && (resp.StatusCode != http.StatusOK || n != size) {
		err = fmt.Errorf("download: status %d, %d of %d bytes", resp.StatusCode, n, size)
	}
	return err
}

func doJSON(req *http.Request, want int, out any) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d: %s", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	return json.Unmarshal(body, out)
}
