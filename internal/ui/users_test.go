package ui_test

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/trailwatch/trailwatch/internal/ui"
)

func TestParseUsers(t *testing.T) {
	// An htpasswd -B line (Apache's $2y$ prefix) for "correct horse".
	h := hash(t, "correct horse")
	y := "$2y$" + string(h[4:])
	users, err := ui.ParseUsers("users", []byte("# on call\n\nalice:"+y+"\nbob:"+string(h)+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || bcrypt.CompareHashAndPassword(users["alice"], []byte("correct horse")) != nil {
		t.Fatalf("users: %q", users)
	}
	for _, tc := range []struct{ in, want string }{
		{"alice\n", "users:1: want name:bcrypt-hash"},
		{"# x\nalice:$apr1$abc$def\n", "users:2: user alice: not a bcrypt hash"},
		{"alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", "users:1: user alice: not a bcrypt hash"},
		{"alice:" + string(h) + "\nalice:" + string(h) + "\n", "users:2: user alice given twice"},
		{":" + string(h) + "\n", "users:1: want name:bcrypt-hash"},
		{"a|b:" + string(h) + "\n", "users:1: user name \"a|b\" holds |"},
	} {
		_, err := ui.ParseUsers("users", []byte(tc.in))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %s", tc.in, err, tc.want)
		}
	}
}

func TestHashPassword(t *testing.T) {
	h, err := ui.HashPassword([]byte("pw"))
	if err != nil || bcrypt.CompareHashAndPassword(h, []byte("pw")) != nil {
		t.Fatalf("%s %v", h, err)
	}
	if _, err := ui.ParseUsers("f", []byte("alice:"+string(h))); err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"", strings.Repeat("x", 73)} {
		if _, err := ui.HashPassword([]byte(pw)); err == nil {
			t.Errorf("%d bytes: accepted", len(pw))
		}
	}
}
