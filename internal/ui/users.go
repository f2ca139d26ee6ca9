package ui

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// ParseUsers reads an htpasswd file (`htpasswd -B`, or `trailwatch
// hash-password`): a "name:hash" line per user, the hash bcrypt; blank
// lines and lines starting with # are skipped. Errors name the file and
// line; other hash schemes (MD5 $apr1$, {SHA}, crypt) are refused, since
// they are too fast to stand a stolen file.
func ParseUsers(file string, data []byte) (map[string][]byte, error) {
	users := map[string][]byte{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, h, ok := strings.Cut(line, ":")
		switch {
		case !ok || name == "":
			return nil, fmt.Errorf("%s:%d: want name:bcrypt-hash", file, n)
		case strings.Contains(name, "|"):
			return nil, fmt.Errorf("%s:%d: user name %q holds |", file, n, name)
		case users[name] != nil:
			return nil, fmt.Errorf("%s:%d: user %s given twice", file, n, name)
		}
		if _, err := bcrypt.Cost([]byte(h)); err != nil {
			return nil, fmt.Errorf("%s:%d: user %s: not a bcrypt hash (make one with htpasswd -B or trailwatch hash-password): %v", file, n, name, err)
		}
		users[name] = []byte(h)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return users, nil
}

// HashPassword returns the bcrypt hash of a password, for a users file.
func HashPassword(pw []byte) ([]byte, error) {
	if len(pw) == 0 {
		return nil, fmt.Errorf("empty password")
	}
	if len(pw) > 72 {
		return nil, fmt.Errorf("password longer than 72 bytes (bcrypt's limit)")
	}
	return bcrypt.GenerateFromPassword(pw, 12)
}
