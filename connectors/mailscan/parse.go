package mailscan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // registers the charsets a Russian mailbox sees (windows-1251, KOI8-R, …)
	gmmail "github.com/emersion/go-message/mail"
	"golang.org/x/net/html"

	"github.com/crmhub/crmhub/core"
)

// Limits bound what one message may bring in.
type Limits struct {
	// MaxAttachment and MaxAttachments bound one attachment and all of a
	// message's; larger ones are listed as skipped. Defaults 10 MiB, 25 MiB.
	MaxAttachment, MaxAttachments int64
	// MaxText bounds the text kept. Default 1 MiB.
	MaxText int64
}

func (l *Limits) setDefaults() {
	if l.MaxAttachment <= 0 {
		l.MaxAttachment = 10 << 20
	}
	if l.MaxAttachments <= 0 {
		l.MaxAttachments = 25 << 20
	}
	if l.MaxText <= 0 {
		l.MaxText = 1 << 20
	}
}

// Parse reads a raw RFC 5322 message: headers decoded (RFC 2047, any
// charset go-message knows), the text (HTML reduced to text when there is
// no plain part) split into body, signature and quoted reply, a phone
// from the signature, and the attachments within the limits.
func Parse(raw []byte, lim Limits) (*core.InboundMail, error) {
	lim.setDefaults()
	mr, err := gmmail.CreateReader(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		return nil, fmt.Errorf("not a mail message: %w", err)
	}
	defer mr.Close()
	h := mr.Header
	m := &core.InboundMail{}
	if id, err := h.MessageID(); err == nil && id != "" {
		m.MessageID = id
	} else {
		sum := sha256.Sum256(raw)
		m.MessageID = "sha256-" + hex.EncodeToString(sum[:16]) + "@crmhub.invalid"
	}
	if len(m.MessageID) > 900 {
		return nil, errors.New("the Message-ID is longer than 900 bytes")
	}
	if refs, err := h.MsgIDList("In-Reply-To"); err == nil {
		m.References = append(m.References, refs...)
	}
	if refs, err := h.MsgIDList("References"); err == nil {
		for i := len(refs) - 1; i >= 0; i-- { // nearest first
			m.References = append(m.References, refs[i])
		}
	}
	if len(m.References) > 50 {
		m.References = m.References[:50]
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) == 0 {
		return nil, fmt.Errorf("no sender address (From: %q)", h.Get("From"))
	}
	addr, ok := core.NormalizeEmail(from[0].Address)
	if !ok {
		return nil, fmt.Errorf("the sender %q is not an e-mail address", from[0].Address)
	}
	m.From = addr
	m.FromName = strings.Join(strings.Fields(from[0].Name), " ")
	m.To = addresses(h, "To")
	m.Cc = addresses(h, "Cc")
	if m.Subject, err = h.Subject(); err != nil {
		m.Subject = h.Get("Subject") // undecodable words stay as they came
	}
	m.Subject = strings.Join(strings.Fields(m.Subject), " ")
	if d, err := h.Date(); err == nil {
		m.Date = d.UTC()
	}

	var plain, htmlText strings.Builder
	var total int64
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil && !message.IsUnknownCharset(err) {
			if plain.Len() > 0 || htmlText.Len() > 0 {
				break // keep what was read before a broken part
			}
			return nil, fmt.Errorf("unreadable part: %w", err)
		}
		switch ph := p.Header.(type) {
		case *gmmail.InlineHeader:
			ct, _, _ := ph.ContentType()
			b, err := io.ReadAll(io.LimitReader(p.Body, lim.MaxText))
			if err != nil && !message.IsUnknownCharset(err) {
				return nil, fmt.Errorf("unreadable text part: %w", err)
			}
			switch {
			case ct == "text/html":
				htmlText.WriteString(htmlToText(b))
			case ct == "" || strings.HasPrefix(ct, "text/plain"):
				plain.Write(b)
			}
		case *gmmail.AttachmentHeader:
			name, _ := ph.Filename()
			if name == "" {
				name = "attachment"
			}
			name = core.Clip(strings.Map(func(r rune) rune {
				if r < 32 || r == '/' || r == '\\' {
					return '_'
				}
				return r
			}, name), 200)
			ct, _, _ := ph.ContentType()
			if ct == "" {
				ct = "application/octet-stream"
			}
			b, err := io.ReadAll(io.LimitReader(p.Body, lim.MaxAttachment+1))
			if err != nil {
				m.Skipped = append(m.Skipped, name)
				continue
			}
			if int64(len(b)) > lim.MaxAttachment || total+int64(len(b)) > lim.MaxAttachments {
				m.Skipped = append(m.Skipped, name)
				continue
			}
			total += int64(len(b))
			m.Attachments = append(m.Attachments, core.FormFile{Name: name, ContentType: ct, Data: b})
		}
	}
	text := plain.String()
	if strings.TrimSpace(text) == "" {
		text = htmlText.String()
	}
	text = strings.ToValidUTF8(strings.ReplaceAll(text, "\r\n", "\n"), "\uFFFD")
	m.Text, m.Signature, m.Quoted = splitText(text)
	m.Phone = findPhone(m.Signature)
	if m.Phone == "" {
		m.Phone = findPhone(lastLines(m.Text, 8))
	}
	return m, nil
}

func addresses(h gmmail.Header, key string) []string {
	list, err := h.AddressList(key)
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range list {
		if n, ok := core.NormalizeEmail(a.Address); ok {
			out = append(out, n)
		}
		if len(out) == 100 {
			break
		}
	}
	return out
}

// quoteStart are the lines that begin a quoted reply or a forward.
var quoteStart = regexp.MustCompile(`(?i)^(>|-{2,}\s*(original message|исходное сообщение|пересылаемое сообщение|forwarded message)|` +
	`on .{3,120} wrote:$|.{0,120}(пишет|написал[а]?):$|from:\s|от:\s.*<)`)

// signatureStart are the lines that begin a signature.
var signatureStart = regexp.MustCompile(`(?i)^(--\s*$|с уважением|с наилучшими пожеланиями|best regards|kind regards|regards,|` +
	`thanks,|спасибо[,!.]?\s*$|отправлено (с|из) )`)

// splitText parts a text into the body, the signature and the quoted
// reply (the record's description keeps all three, the last two headed
// [Подпись] and [Цитата]).
func splitText(text string) (body, signature, quoted string) {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	end := len(lines)
	for i, l := range lines {
		if quoteStart.MatchString(strings.TrimSpace(l)) && i > 0 {
			end = i
			break
		}
	}
	quoted = strings.TrimSpace(strings.Join(lines[end:], "\n"))
	lines = lines[:end]
	sig := len(lines)
	for i, l := range lines {
		if i > 0 && signatureStart.MatchString(strings.TrimSpace(l)) {
			sig = i
			break
		}
	}
	return strings.TrimSpace(strings.Join(lines[:sig], "\n")), strings.TrimSpace(strings.Join(lines[sig:], "\n")), quoted
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// phoneLike finds Russian and international numbers as people write them.
var phoneLike = regexp.MustCompile(`(?:\+\d{1,3}|8)[\s\-\.\(]*\d{3,5}[\s\-\.\)]*\d{1,3}[\s\-\.]*\d{2}[\s\-\.]*\d{2}`)

// findPhone returns the first phone number in s, in E.164, or "".
func findPhone(s string) string {
	for _, c := range phoneLike.FindAllString(s, 5) {
		if p, ok := core.NormalizePhone(c); ok {
			return p
		}
	}
	return ""
}

// htmlToText reduces HTML to text: blocks become lines, quoted blocks get
// "> ", scripts and styles go.
func htmlToText(b []byte) string {
	type line struct {
		depth int
		text  strings.Builder
	}
	z := html.NewTokenizer(bytes.NewReader(b))
	lines := []*line{{}}
	skip, quote, size := 0, 0, 0
	newline := func() {
		if cur := lines[len(lines)-1]; cur.text.Len() == 0 {
			cur.depth = quote // nothing written yet: reuse it
			return
		}
		lines = append(lines, &line{depth: quote})
	}
	render := func() string {
		var out []string
		blank := false
		for _, l := range lines {
			t := l.text.String()
			if t == "" {
				if !blank && len(out) > 0 && l.depth == 0 {
					out = append(out, "")
				}
				blank = true
				continue
			}
			blank = false
			out = append(out, strings.Repeat("> ", l.depth)+t)
		}
		return strings.TrimSpace(strings.Join(out, "\n"))
	}
	for size < 1<<20 {
		switch z.Next() {
		case html.ErrorToken:
			return render()
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				skip++
			case "blockquote":
				quote++
				newline()
			case "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table":
				newline()
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				if skip > 0 {
					skip--
				}
			case "blockquote":
				if quote > 0 {
					quote--
				}
				newline()
			case "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table":
				newline()
			}
		case html.TextToken:
			if skip > 0 {
				continue
			}
			t := strings.Join(strings.Fields(string(z.Text())), " ")
			if t == "" {
				continue
			}
			cur := lines[len(lines)-1]
			if cur.text.Len() > 0 {
				cur.text.WriteString(" ")
			}
			cur.text.WriteString(t)
			size += len(t)
		}
	}
	return render()
}
