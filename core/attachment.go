package core

import (
	"context"
	"io"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
	"golang.org/x/text/unicode/norm"
)

// EntityAttachment names files attached to records in events and topics.
const EntityAttachment = "attachment"

// Where an attachment's bytes are kept.
const (
	StorageDB = "db" // in PostgreSQL
	StorageS3 = "s3" // in an S3-compatible object store, under the attachment's id
)

// DefaultAttachmentMaxSize is the largest file an upload takes unless
// attachments.max_size says otherwise.
const DefaultAttachmentMaxSize = 25 << 20

// MaxUploadFiles is the most files one upload request may carry.
const MaxUploadFiles = 20

// AttachmentRetention is how long a deleted file can be restored.
const AttachmentRetention = 30 * 24 * time.Hour

// Attachment is a file attached to a record (its content is fetched
// separately).
type Attachment struct {
	ID          string    `json:"id"`
	Entity      string    `json:"entity"`
	RecordID    string    `json:"record_id"`
	FileName    string    `json:"file_name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	Source      string    `json:"source"`
	CreatedAt   time.Time `json:"created_at"`
	// AuthorID is who uploaded it (nil: the hub, a web form, the mail
	// scanner); NoteID the note it belongs to, if any.
	AuthorID *string `json:"author_id"`
	NoteID   *string `json:"note_id"`
	// DeletedAt is set while a deleted file can still be restored.
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	Version   int64      `json:"version"`
	// Duplicate, in an upload's answer, says the record already had this
	// file (the same SHA-256): the answer is that attachment, stored once.
	Duplicate bool `json:"duplicate,omitempty"`
}

// Upload is one file of an upload: the name the client gave and its
// content, read once to the end (the type the client declared is not
// asked: the content says it).
type Upload struct {
	Name    string
	Content io.Reader
}

// Blob is a stored file's bytes, read a range at a time.
type Blob interface {
	io.ReaderAt
	io.Closer
}

// BlobStore keeps attachments' bytes outside PostgreSQL (attachments.store:
// s3), PostgreSQL keeping their rows.
type BlobStore interface {
	// Put streams r's bytes to key and returns how many it stored.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open returns the size bytes stored under key. Errors: ENOTFOUND.
	Open(ctx context.Context, key string, size int64) (Blob, error)
	// Delete removes key; a key already gone is no error.
	Delete(ctx context.Context, key string) error
}

// AttachmentService keeps the files attached to records.
type AttachmentService interface {
	// Attachments lists a record's files, oldest first: the live ones, or
	// with deleted the ones deleted and still restorable.
	Attachments(ctx context.Context, entity, recordID string, deleted bool) ([]Attachment, error)
	// AttachmentContent returns a file with its content, whole (for the
	// hub's own small files, such as a PDF it mails). Errors: ENOTFOUND.
	AttachmentContent(ctx context.Context, id string) (*Attachment, []byte, error)
	// OpenAttachment returns a file and its bytes, read a range at a time;
	// the caller closes the blob. Errors: ENOTFOUND.
	OpenAttachment(ctx context.Context, id string) (*Attachment, Blob, error)
	// Attach stores the files next returns (nil at the end) on a record in
	// one transaction, each streamed, its type sniffed from its content
	// and its name sanitized; a file the record already has is not stored
	// again (the answer names the existing one, Duplicate set). Errors:
	// ENOTFOUND (no such record), EFORBIDDEN, EINVALID, and next's own.
	Attach(ctx context.Context, entity, recordID string, next func() (*Upload, error)) ([]Attachment, error)
	// DeleteAttachment deletes a file, restorable for AttachmentRetention.
	// Errors: ENOTFOUND, EFORBIDDEN.
	DeleteAttachment(ctx context.Context, id string) (*Attachment, error)
	// RestoreAttachment brings a deleted file back. Errors: ENOTFOUND,
	// EFORBIDDEN, ECONFLICT (the record has the same file again).
	RestoreAttachment(ctx context.Context, id string) (*Attachment, error)
}

// SniffLength is how much of a file SniffContentType needs.
const SniffLength = 3072

// SniffContentType names the type of a file from its first bytes (up to
// SniffLength), never from what a client declared: a "contract.pdf" that
// is a Windows program is served as one, as a download.
func SniffContentType(head []byte) string {
	return mimetype.Detect(head).String()
}

// maxFileName is the longest name a file keeps, in bytes: what file
// systems and archivers take.
const maxFileName = 255

// windowsDevices are names Windows refuses for a file, with any extension.
var windowsDevices = map[string]bool{"CON": true, "PRN": true, "AUX": true, "NUL": true,
	"COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true, "COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true, "LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true}

// SanitizeFileName makes a client's file name safe to store and to send
// back in a Content-Disposition: the last element of any path (/ or \),
// in Unicode NFC (a Mac's decomposed «й» becomes one letter), without
// control or formatting characters (a right-to-left override can make
// "gpj.exe" read "exe.jpg"), with the characters Windows refuses replaced
// by "_", spaces collapsed, no leading or trailing dots or spaces, not a
// Windows device name, and at most 255 bytes, cut in the stem so that the
// extension stays. Letters of every script, Cyrillic among them, are kept.
// An empty result is "file".
func SanitizeFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = norm.NFC.String(strings.ToValidUTF8(name, "_"))
	var b strings.Builder
	space := false
	for _, r := range name {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError:
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		if strings.ContainsRune(`<>:"|?*`, r) {
			r = '_'
		}
		b.WriteRune(r)
	}
	name = strings.Trim(b.String(), ". ")
	ext := path.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	if len(ext) > 20 || stem == "" {
		stem, ext = name, ""
	}
	if windowsDevices[strings.ToUpper(strings.TrimSpace(stem))] {
		stem = "_" + stem
	}
	for len(stem)+len(ext) > maxFileName {
		_, size := utf8.DecodeLastRuneInString(stem)
		stem = stem[:len(stem)-size]
	}
	name = strings.TrimRight(stem, ". ") + ext
	if name == "" || name == ext {
		return "file" + ext
	}
	return name
}

// RecordKinds are the kinds of record that have notes, files and a
// timeline: every record a user works with on a card.
func RecordKinds() []string {
	return []string{EntityLead, EntityAccount, EntityContact, EntityDeal, EntityActivity, EntityCall,
		EntityProduct, EntityService, EntityQuote, EntitySalesOrder, EntityPurchaseOrder, EntityInvoice,
		EntityAct, EntityRealization, EntityPayment}
}
