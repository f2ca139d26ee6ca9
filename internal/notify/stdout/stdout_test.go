package stdout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/notify/notifytest"
)

func TestText(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s, err := New(&config.StdoutConfig{}, &buf, notify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	nt := notifytest.Notification()
	if retry, err := s.Notify(context.Background(), nt); retry || err != nil {
		t.Fatal(retry, err)
	}
	nt.Reminder, nt.Count, nt.AckURL = 1, 2, ""
	nt.Body = []byte("{\n  \"text\": \"fixed\"\n}")
	s.Notify(context.Background(), nt)
	want := "2024-03-01T10:00:00Z CRITICAL root-signin principal=root source_ip=198.51.100.7 root signed in from 198.51.100.7 without MFA ack=https://trailwatch.example.com/alerts/a-7/ack?sig=abc\n" +
		"2024-03-01T10:00:00Z CRITICAL root-signin principal=root source_ip=198.51.100.7 reminder=1 count=2 { \"text\": \"fixed\" }\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s, err := New(&config.StdoutConfig{Format: "json"}, &buf, notify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	nt := notifytest.Notification()
	nt.Count = 3
	s.Notify(context.Background(), nt)
	nt.Body = []byte(`{ "a": 1 }`)
	s.Notify(context.Background(), nt)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	if m["rule"] != "root-signin" || m["count"] != 3.0 || m["reminder"] != 0.0 || m["source_ip"] != "198.51.100.7" {
		t.Errorf("line %s", lines[0])
	}
	if !strings.HasSuffix(lines[1], `,"body":{"a":1}}`) {
		t.Errorf("line %s", lines[1])
	}
}

func TestWriteErrorDoesNotRetry(t *testing.T) {
	t.Parallel()
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	s, _ := New(&config.StdoutConfig{}, f, notify.Options{})
	retry, err := s.Notify(context.Background(), notifytest.Notification())
	if retry || !errors.Is(err, os.ErrClosed) {
		t.Errorf("retry=%v err=%v", retry, err)
	}
	if _, err := New(&config.StdoutConfig{Format: "yaml"}, f, notify.Options{}); !errors.Is(err, ErrFormat) {
		t.Errorf("err %v", err)
	}
}
