package core

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// EntityNote names notes in events, errors and topics (crm.note).
const EntityNote = "note"

// NotificationMention is the kind of notification a mention in a note
// makes.
const NotificationMention = "mention"

// Bounds of a note.
const (
	// MaxNoteText is the longest text a note takes, in bytes (32 KB).
	MaxNoteText = 32 << 10
	// MaxNoteMentions is the most users one note may mention.
	MaxNoteMentions = 50
	// MaxNoteAttachments is the most files one note may carry.
	MaxNoteAttachments = 20
	// MaxNotesPage is the largest page of notes or notifications.
	MaxNotesPage = 200
	// NotificationExcerpt is the most characters of a note a
	// notification quotes.
	NotificationExcerpt = 200
	// MaxMentionTokens is the most distinct @tokens of one text looked
	// up among the users: the ones after it are text.
	MaxMentionTokens = 200
	// MaxNotificationIDs is the most notifications one request marks
	// read by id.
	MaxNotificationIDs = 500
	// maxMentionToken is the longest @token taken for a mention, in
	// characters: a longer one is text.
	maxMentionToken = 100
)

// Note is a comment on a record of one of RecordKinds. Its text is plain
// text: stored and returned as written, never interpreted as HTML or
// Markdown, so a client shows it escaped.
type Note struct {
	ID       string `json:"id"`
	Entity   string `json:"entity"`
	RecordID string `json:"record_id"`
	Text     string `json:"text"`
	// AuthorID is who wrote it; nil when the hub itself did.
	AuthorID *string `json:"author_id"`
	Pinned   bool    `json:"pinned"`
	// Mentions are the ids of the users the note mentions.
	Mentions []string `json:"mentions"`
	// Attachments are the record's files the note carries (metadata).
	Attachments []Attachment `json:"attachments"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
	// EditedAt is when its text last changed; nil while it is as written.
	EditedAt *time.Time `json:"edited_at"`
	Version  int64      `json:"version"`
}

// NoteInput is a new note: its text, the users a client's autocomplete
// mentions (besides the @tokens of the text), whether it is pinned, and
// the ids of the record's files it carries.
type NoteInput struct {
	Text        string   `json:"text"`
	Pinned      bool     `json:"pinned"`
	Mentions    []string `json:"mentions"`
	Attachments []string `json:"attachments"`
}

// Validate checks a new note and normalizes its text (CleanNoteText).
// Errors: EINVALID.
func (in *NoteInput) Validate() error {
	text, errs := CleanNoteText(in.Text)
	in.Text = text
	errs = append(errs, checkNoteLists(in.Mentions, in.Attachments)...)
	return Invalid(errs)
}

// NotePatch changes a note: a member left nil keeps its value. A change
// of Text or Mentions makes the note mention the users of its text's
// @tokens and of Mentions (the ones newly mentioned are told);
// Attachments replaces the files the note carries.
type NotePatch struct {
	Text        *string   `json:"text"`
	Pinned      *bool     `json:"pinned"`
	Mentions    *[]string `json:"mentions"`
	Attachments *[]string `json:"attachments"`
}

// Validate checks a change of a note and normalizes its text. Errors:
// EINVALID.
func (p *NotePatch) Validate() error {
	var errs []FieldError
	if p.Text != nil {
		text, e := CleanNoteText(*p.Text)
		p.Text = &text
		errs = e
	}
	var mentions, files []string
	if p.Mentions != nil {
		mentions = *p.Mentions
	}
	if p.Attachments != nil {
		files = *p.Attachments
	}
	errs = append(errs, checkNoteLists(mentions, files)...)
	return Invalid(errs)
}

// checkNoteLists bounds the mentioned users and the files a note lists.
func checkNoteLists(mentions, files []string) []FieldError {
	var errs []FieldError
	if len(mentions) > MaxNoteMentions {
		errs = append(errs, FieldError{Field: "mentions", Code: "too_many",
			Message: fmt.Sprintf("a note mentions at most %d users", MaxNoteMentions)})
	}
	if len(files) > MaxNoteAttachments {
		errs = append(errs, FieldError{Field: "attachments", Code: "too_many",
			Message: fmt.Sprintf("a note carries at most %d files", MaxNoteAttachments)})
	}
	return errs
}

// NoteEdit is a text an edit of a note replaced: Version is the note's
// version that had it, EditedBy (nil: the hub) and EditedAt who replaced
// it and when.
type NoteEdit struct {
	Version  int64     `json:"version"`
	Text     string    `json:"text"`
	EditedBy *string   `json:"edited_by"`
	EditedAt time.Time `json:"edited_at"`
}

// Notification tells a user of something that concerns them: for now
// that a note mentions them (Kind NotificationMention). Text is an excerpt
// of the note as it was then (NoteExcerpt); ReadAt is nil while unread.
type Notification struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	Entity    string     `json:"entity"`
	RecordID  string     `json:"record_id"`
	NoteID    *string    `json:"note_id"`
	ActorID   *string    `json:"actor_id"`
	Text      string     `json:"text"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
}

// PageRequest asks for one page of a list in its fixed order: Limit items
// (0: DefaultPageSize, at most MaxNotesPage) after Cursor.
type PageRequest struct {
	Limit  int
	Cursor string
}

// Size is the page's size: Limit within 1..MaxNotesPage, DefaultPageSize
// when unset.
func (p PageRequest) Size() int {
	if p.Limit <= 0 {
		return DefaultPageSize
	}
	return min(p.Limit, MaxNotesPage)
}

// NotificationFilter selects the caller's notifications: only the unread
// ones with Unread.
type NotificationFilter struct {
	PageRequest
	Unread bool
}

// NoteService keeps the notes of records. A note is seen by whoever sees
// its record, and changed or deleted by its author or an administrator.
type NoteService interface {
	// Notes lists a record's notes, pinned first, then newest first.
	// Errors: ENOTFOUND (no such record, or the caller cannot see it),
	// EINVALID (a cursor this list did not make).
	Notes(ctx context.Context, entity, recordID string, p PageRequest) (Page[Note], error)
	// AddNote writes a note on a record the caller sees, telling each
	// user it mentions (the text's @tokens and in.Mentions) but the
	// author. Errors: ENOTFOUND (the record), EFORBIDDEN (files without
	// the attachment right), EINVALID (the text, an unknown or inactive
	// user in mentions, a mentioned user who cannot see the record, a
	// file not of this record).
	AddNote(ctx context.Context, entity, recordID string, in NoteInput) (*Note, error)
	// Note returns a live note of a record the caller sees. Errors:
	// ENOTFOUND.
	Note(ctx context.Context, id string) (*Note, error)
	// UpdateNote changes a note (ifVersion 0: any version), keeping the
	// text an edit replaces (NoteEdits) and telling the users the edit
	// newly mentions. Errors: ENOTFOUND, EFORBIDDEN (neither the author
	// nor an administrator), EPRECONDITION, EINVALID (as AddNote).
	UpdateNote(ctx context.Context, id string, ifVersion int64, p NotePatch) (*Note, error)
	// DeleteNote deletes a note (ifVersion 0: any version). Errors:
	// ENOTFOUND, EFORBIDDEN, EPRECONDITION.
	DeleteNote(ctx context.Context, id string, ifVersion int64) error
	// NoteEdits returns the texts edits of a live note replaced, oldest
	// first. Errors: ENOTFOUND.
	NoteEdits(ctx context.Context, id string) ([]NoteEdit, error)
}

// NotificationService keeps the caller's notifications. A caller without
// a user (the hub's own work) has none.
type NotificationService interface {
	// Notifications lists the caller's notifications, newest first.
	// Errors: EINVALID (a cursor this list did not make).
	Notifications(ctx context.Context, f NotificationFilter) (Page[Notification], error)
	// MarkNotificationsRead marks the caller's unread notifications ids
	// (or all of them) read and returns how many it marked; ids not the
	// caller's are left alone. Errors: EINVALID (an id not a UUID).
	MarkNotificationsRead(ctx context.Context, ids []string, all bool) (int, error)
}

// CanChangeNote reports whether acc may change or delete n: its author
// or an administrator; the hub's own work (nil) may.
func CanChangeNote(acc *Access, n *Note) bool {
	if acc == nil || acc.Admin {
		return true
	}
	return n.AuthorID != nil && acc.UserID != "" && *n.AuthorID == acc.UserID
}

// CleanNoteText checks a note's text and returns it with each \r\n made
// \n: valid UTF-8, not blank, at most MaxNoteText bytes, no control
// character but \n and \t (codes as TextProblem's). The text is plain
// text, kept as written otherwise (neither trimmed nor escaped).
func CleanNoteText(s string) (string, []FieldError) {
	if !utf8.ValidString(s) {
		return s, []FieldError{TextFieldError("text", "invalid_utf8")}
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	bad := func(code, msg string) (string, []FieldError) {
		return s, []FieldError{{Field: "text", Code: code, Message: msg}}
	}
	if strings.TrimSpace(s) == "" {
		return bad("required", "is required")
	}
	if len(s) > MaxNoteText {
		return bad("too_long", fmt.Sprintf("must be at most %d bytes (32 KB), got %d", MaxNoteText, len(s)))
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return bad("control_character", fmt.Sprintf("must not hold control characters (U+%04X at byte %d); line breaks and tabs are fine", r, i))
	}
	return s, nil
}

// NoteExcerpt is what a notification quotes of a note's text: its words
// on one line (runs of spaces, tabs and line breaks made one space), at
// most NotificationExcerpt characters, an ellipsis ending a cut one.
func NoteExcerpt(text string) string {
	one := strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(one) <= NotificationExcerpt {
		return one
	}
	return strings.TrimRight(Clip(one, NotificationExcerpt-1), " ") + "…"
}

// ParseMentions returns the @tokens of a text, each once (the first
// spelling, compared by MentionKey), in order: an @ at the start or after
// a space or a punctuation mark, followed by letters (of any script, so
// @Иванова works), digits, '.', '_' or '-'. A trailing '.' or '-' ends
// the sentence, not the token. An @ inside a word (ivan@mail.ru) is not
// a mention, nor is a token longer than 100 characters.
func ParseMentions(text string) []string {
	var out []string
	seen := map[string]bool{}
	prev := ' '
	for i, r := range text {
		at := r == '@' && mentionMayFollow(prev)
		prev = r
		if !at {
			continue
		}
		tok := text[i+1:]
		if end := strings.IndexFunc(tok, func(c rune) bool { return !mentionRune(c) }); end >= 0 {
			tok = tok[:end]
		}
		tok = strings.TrimRight(tok, ".-")
		key := MentionKey(tok)
		if tok == "" || utf8.RuneCountInString(tok) > maxMentionToken || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, tok)
	}
	return out
}

// mentionMayFollow reports whether an @ after r may start a mention.
func mentionMayFollow(r rune) bool {
	if strings.ContainsRune("_.-+", r) {
		return false // a character of logins: the @ of an address (ivan.p+crm@mail.ru)
	}
	return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r)
}

// mentionRune reports whether r may be part of an @token.
func mentionRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '.' || r == '_' || r == '-'
}

// MentionKey is the form in which an @token is compared with a user's
// login and name: lower case, ё as е.
func MentionKey(token string) string {
	return strings.ReplaceAll(strings.ToLower(token), "ё", "е")
}

// MentionCandidate is an active user an @token may name: their id, e-mail
// and name.
type MentionCandidate struct {
	ID, Email, Name string
}

// ResolveMentions returns the ids of the users the tokens name, each
// once, in the tokens' order. A token names the one candidate whose login
// (the e-mail's local part) it is; failing that, the one candidate with
// that last name, that is a word of their name (users have one name,
// written «Иванова Мария» or «Мария Иванова»). Both compare MentionKeys.
// A token no candidate or several have is text.
func ResolveMentions(tokens []string, users []MentionCandidate) []string {
	var out []string
	for _, tok := range tokens {
		key := MentionKey(tok)
		id := onlyOne(users, func(u MentionCandidate) bool {
			login, _, ok := strings.Cut(u.Email, "@")
			return ok && MentionKey(login) == key
		})
		if id == "" {
			id = onlyOne(users, func(u MentionCandidate) bool {
				return slices.Contains(nameWords(u.Name), key)
			})
		}
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// onlyOne returns the id of the one user that match accepts, "" for none
// or several.
func onlyOne(users []MentionCandidate, match func(MentionCandidate) bool) string {
	id := ""
	for _, u := range users {
		if !match(u) {
			continue
		}
		if id != "" {
			return ""
		}
		id = u.ID
	}
	return id
}

// nameWords are the MentionKeys of the words of a name.
func nameWords(name string) []string {
	words := strings.FieldsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || r == ',' })
	for i, w := range words {
		words[i] = MentionKey(strings.TrimRight(w, "."))
	}
	return words
}
