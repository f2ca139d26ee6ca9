package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/trailwatch/trailwatch/internal/ui"
)

func TestHashPassword(t *testing.T) {
	code, out, errs := run(t, "correct horse\n", "hash-password", "alice")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	users, err := ui.ParseUsers("out", []byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword(users["alice"], []byte("correct horse")) != nil {
		t.Fatalf("hash of %q does not check", out)
	}
	code, out, _ = run(t, "pw", "hash-password")
	if code != ExitOK || !strings.HasPrefix(out, "$2a$12$") {
		t.Fatalf("bare hash: %d %q", code, out)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"hash-password", "alice"}, "no password on stdin"},
		{"\n", []string{"hash-password", "alice"}, "empty password"},
		{"pw\n", []string{"hash-password", "a:b"}, `user name "a:b"`},
		{"pw\n", []string{"hash-password", "a", "b"}, `unexpected argument "b"`},
	} {
		code, _, errs := run(t, tc.stdin, tc.args...)
		if code != ExitFailure || !strings.Contains(errs, tc.want) {
			t.Errorf("%q %v: %d %q, want %s", tc.stdin, tc.args, code, errs, tc.want)
		}
	}
}

// TestServeUIUsersErrors: a users file serve cannot use stops it at start,
// naming the file and line.
func TestServeUIUsersErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "users")
	if err := os.WriteFile(bad, []byte("# team\nalice:$apr1$x$y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("# nobody\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		bad:                          bad + ":2: user alice: not a bcrypt hash",
		empty:                        empty + " names no user",
		filepath.Join(dir, "absent"): "--ui-users: open " + filepath.Join(dir, "absent"),
	} {
		code, _, errs := run(t, "", "serve", "--data", dir, "--listen", "127.0.0.1:0", "--ui-users", file)
		if code != ExitFailure || !strings.Contains(errs, want) {
			t.Errorf("%s: %d %q, want %s", file, code, errs, want)
		}
	}
}
