package app

import (
	"context"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/ui"
)

func TestUIAccess(t *testing.T) {
	for _, c := range []struct {
		name string
		o    Options
		want string
	}{
		{"loopback, nothing configured", Options{Listen: "127.0.0.1:0"}, "open:"},
		{"localhost", Options{Listen: "localhost:0"}, "open:"},
		{"ingest key only", Options{Listen: "127.0.0.1:0", IngestAPIKeys: map[string]string{"x-api-key": "k"}}, "nobody can log in: give --admin-token or --ui-users"},
		{"off loopback", Options{Listen: "0.0.0.0:0", InsecureIngest: true}, "nobody can log in"},
		{"token", Options{Listen: "0.0.0.0:0", InsecureIngest: true, AdminToken: "t"}, "login with the admin token"},
		{"users", Options{Listen: "127.0.0.1:0", UIUsers: map[string][]byte{"alice": []byte(bcryptOf(t, "pw"))}}, "login with the password of one of 1 users"},
		{"both", Options{Listen: "127.0.0.1:0", AdminToken: "t", UIUsers: map[string][]byte{"alice": []byte(bcryptOf(t, "pw"))}}, "admin token or the password"},
	} {
		c.o.DataDir = t.TempDir()
		a, err := New(context.Background(), c.o)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := a.UIAccess(); !strings.HasPrefix(got, c.want) && !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
		a.Close()
	}
}

func bcryptOf(t *testing.T, pw string) string {
	t.Helper()
	h, err := ui.HashPassword([]byte(pw))
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}
