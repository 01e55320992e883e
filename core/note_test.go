package core_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

func TestNoteTextIsCleaned(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want, code string
	}{
		{name: "PlainTextKept", in: "Позвонить <b>завтра</b> **срочно**", want: "Позвонить <b>завтра</b> **срочно**"},
		{name: "CRLFBecomesLF", in: "строка 1\r\nстрока 2\r\n", want: "строка 1\nстрока 2\n"},
		{name: "TabsAndLinesKept", in: "\tпункт\n\tпункт", want: "\tпункт\n\tпункт"},
		{name: "ExactlyTheLimit", in: strings.Repeat("a", core.MaxNoteText), want: strings.Repeat("a", core.MaxNoteText)},
		{name: "OneByteOver", in: strings.Repeat("a", core.MaxNoteText+1), code: "too_long"},
		{name: "CyrillicCountsBytes", in: strings.Repeat("я", core.MaxNoteText/2+1), code: "too_long"},
		{name: "Empty", in: "", code: "required"},
		{name: "Blank", in: " \n\t\r\n ", code: "required"},
		{name: "InvalidUTF8", in: "abc\xff", code: "invalid_utf8"},
		{name: "NUL", in: "a\x00b", code: "control_character"},
		{name: "LoneCR", in: "a\rb", code: "control_character"},
		{name: "Escape", in: "a\x1b[31mb", code: "control_character"},
		{name: "C1Control", in: "a\u0085b", code: "control_character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := core.CleanNoteText(tc.in)
			if tc.code != "" {
				require.Len(t, errs, 1)
				require.Equal(t, "text", errs[0].Field)
				require.Equal(t, tc.code, errs[0].Code)
				return
			}
			require.Empty(t, errs)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseMentions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{name: "Cyrillic", in: "@Иванова, посмотрите", want: []string{"Иванова"}},
		{name: "Several", in: "Коллеги @ivanova и @Петров-Водкин: созвон", want: []string{"ivanova", "Петров-Водкин"}},
		{name: "LoginWithDots", in: "cc @maria.ivanova_2", want: []string{"maria.ivanova_2"}},
		{name: "SentenceEnd", in: "Спасибо, @Иванова.", want: []string{"Иванова"}},
		{name: "AfterPunctuation", in: "(@ivanova) «@Петров»", want: []string{"ivanova", "Петров"}},
		{name: "AtTheStart", in: "@a", want: []string{"a"}},
		{name: "Once", in: "@Иванова @иванова @ИВАНОВА", want: []string{"Иванова"}},
		{name: "YoIsYe", in: "@Королёв @Королев", want: []string{"Королёв"}},
		{name: "EMailIsNot", in: "пишите на ivan@mail.ru", want: nil},
		{name: "EMailWithPlusIsNot", in: "ivan.p+crm@mail.ru", want: nil},
		{name: "LoneAt", in: "встреча @ 10:00", want: nil},
		{name: "TooLong", in: "@" + strings.Repeat("я", 101), want: nil},
		{name: "NewLine", in: "текст\n@ivanova", want: []string{"ivanova"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, core.ParseMentions(tc.in))
		})
	}
}

func TestResolveMentions(t *testing.T) {
	t.Parallel()
	users := []core.MentionCandidate{
		{ID: "1", Email: "m.ivanova@corp.ru", Name: "Иванова Мария"},
		{ID: "2", Email: "petrov@corp.ru", Name: "Пётр Петров"},
		{ID: "3", Email: "s.petrova@corp.ru", Name: "Светлана Королёва"},
		{ID: "4", Email: "", Name: "Ольга Королёва"},
		{ID: "5", Email: "petrov@other.ru", Name: "Иван Сидоров"},
	}
	for _, tc := range []struct {
		name   string
		tokens []string
		want   []string
	}{
		{name: "ByLastName", tokens: []string{"Иванова"}, want: []string{"1"}},
		{name: "ByLogin", tokens: []string{"M.Ivanova"}, want: []string{"1"}},
		{name: "YoIsYe", tokens: []string{"Петр", "Петрова"}, want: []string{"2"}},
		{name: "AmbiguousLastName", tokens: []string{"Королева"}, want: nil},
		{name: "AmbiguousLogin", tokens: []string{"petrov"}, want: nil},
		{name: "FirstNameUniqueToo", tokens: []string{"Светлана"}, want: []string{"3"}},
		{name: "Unknown", tokens: []string{"Никто"}, want: nil},
		{name: "EachOnce", tokens: []string{"Иванова", "m.ivanova", "Сидоров"}, want: []string{"1", "5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, core.ResolveMentions(tc.tokens, users))
		})
	}
}

func TestNoteExcerpt(t *testing.T) {
	t.Parallel()
	require.Equal(t, "строка 1 строка 2", core.NoteExcerpt("  строка 1\n\n\tстрока 2 "))
	long := core.NoteExcerpt(strings.Repeat("я ", 300))
	require.Equal(t, core.NotificationExcerpt, len([]rune(long)))
	require.True(t, strings.HasSuffix(long, "…"))
}

func TestCanChangeNote(t *testing.T) {
	t.Parallel()
	author := "u1"
	n := &core.Note{AuthorID: &author}
	require.True(t, core.CanChangeNote(nil, n), "the hub's own work")
	require.True(t, core.CanChangeNote(&core.Access{UserID: "u1"}, n), "the author")
	require.True(t, core.CanChangeNote(&core.Access{UserID: "u2", Admin: true}, n), "an administrator")
	require.False(t, core.CanChangeNote(&core.Access{UserID: "u2"}, n), "another user")
	require.False(t, core.CanChangeNote(&core.Access{UserID: "u2"}, &core.Note{}), "a note of the hub")
}

func TestNoteInputBounds(t *testing.T) {
	t.Parallel()
	in := core.NoteInput{Text: "a\r\nb", Mentions: make([]string, core.MaxNoteMentions+1), Attachments: make([]string, core.MaxNoteAttachments+1)}
	err := in.Validate()
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
	var fields []string
	for _, f := range core.ErrorFields(err) {
		fields = append(fields, f.Field)
	}
	require.Equal(t, []string{"mentions", "attachments"}, fields)
	require.Equal(t, "a\nb", in.Text)
}
