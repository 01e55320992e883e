package mailscan_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/crmhub/crmhub/connectors/mailscan"
	"github.com/crmhub/crmhub/connectors/mailtest"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// BenchmarkScan1000 scans a folder of 1,000 messages (a third from
// senders seen before, so attached rather than created; a PDF on every
// tenth) into a durable-enough test database: one op is the whole folder.
func BenchmarkScan1000(b *testing.B) {
	srv := mailtest.StartIMAP(b)
	st := storetest.NewStore(b)
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		u := fmt.Sprintf("bench%d-%d", time.Now().UnixNano()%1e6, i)
		msgs := make([][]byte, 1000)
		for j := range msgs {
			m := eml{from: fmt.Sprintf("client%d-%d@firm%d.ru", i, j%667, j%667), fromName: "Иван Петров", to: u + "@example.ru",
				charset: "windows-1251", subject: fmt.Sprintf("Заявка %d", j), id: fmt.Sprintf("b%d-%d@x.ru", i, j),
				text: "Добрый день!\nПрошу счёт на 10 диванов.\n\nС уважением,\nИван\n+7 912 345-67-89"}
			if j%10 == 0 {
				m.files = map[string][]byte{"ТЗ.pdf": make([]byte, 50<<10)}
			}
			msgs[j] = m.bytes()
		}
		if err := srv.Append(u, "INBOX", msgs...); err != nil {
			b.Fatal(err)
		}
		box := mailscan.Mailbox{Name: u, Host: "127.0.0.1", Port: srv.IMAPPort, TLS: mailscan.TLSNone, Username: u,
			Password: mailtest.Password, After: "move:Processed", PollInterval: time.Hour, DefaultAction: core.MailCreateLead, BatchSize: 100}
		s, err := mailscan.New(box, st, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		b.StartTimer()
		go func() { _ = s.Run(ctx); close(done) }()
		for s.Status().Processed < 1000 {
			time.Sleep(5 * time.Millisecond)
		}
		b.StopTimer()
		cancel()
		<-done
		b.StartTimer()
	}
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkIdleDelivery is the delay from a message's delivery (its
// APPEND done) to its lead, with the scanner waiting in IDLE.
func BenchmarkIdleDelivery(b *testing.B) {
	srv := mailtest.StartIMAP(b)
	st := storetest.NewStore(b)
	u := fmt.Sprintf("idle%d", time.Now().UnixNano()%1e6)
	box := mailscan.Mailbox{Name: u, Host: "127.0.0.1", Port: srv.IMAPPort, TLS: mailscan.TLSNone, Username: u,
		Password: mailtest.Password, After: "seen", IDLE: true, PollInterval: time.Hour, DefaultAction: core.MailCreateLead}
	if err := srv.Append(u, "INBOX", eml{from: "first@x.ru", to: u + "@example.ru", subject: "x", id: "first@x.ru", text: "x"}.bytes()); err != nil {
		b.Fatal(err)
	}
	s, err := mailscan.New(box, st, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = s.Run(ctx) }()
	for s.Status().Processed < 1 || !s.Status().IDLE {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let it settle into IDLE
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		raw := eml{from: fmt.Sprintf("idle%d@firm.ru", i), to: u + "@example.ru", subject: "Вопрос", id: fmt.Sprintf("idle-%d@x.ru", i), text: "?"}.bytes()
		want := s.Status().Processed + 1
		b.StartTimer()
		if err := srv.Append(u, "INBOX", raw); err != nil {
			b.Fatal(err)
		}
		for s.Status().Processed < want {
			time.Sleep(2 * time.Millisecond)
		}
	}
}
