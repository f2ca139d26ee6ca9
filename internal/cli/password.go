package cli

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/trailwatch/trailwatch/internal/ui"
)

// runHashPassword is `trailwatch hash-password [USER]`: the bcrypt hash of
// the password on stdin's first line, as a line of serve's --ui-users file
// ("USER:HASH") or alone.
func runHashPassword(args []string, env *Env) (int, error) {
	fs := newFlagSet("hash-password", env, "hash-password [USER] < PASSWORD")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return ExitFailure, err
	}
	if len(rest) > 1 {
		return ExitFailure, fmt.Errorf("unexpected argument %q", rest[1])
	}
	user := ""
	if len(rest) == 1 {
		user = rest[0]
		if user == "" || strings.ContainsAny(user, ":|") {
			return ExitFailure, fmt.Errorf("user name %q: empty, or holds : or |", user)
		}
	}
	sc := bufio.NewScanner(env.Stdin)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return ExitFailure, fmt.Errorf("stdin: %w", err)
		}
		return ExitFailure, errors.New("no password on stdin (printf %s 'PASSWORD' | trailwatch hash-password USER)")
	}
	h, err := ui.HashPassword([]byte(strings.TrimRight(sc.Text(), "\r")))
	if err != nil {
		return ExitFailure, err
	}
	if user != "" {
		fmt.Fprintf(env.Stdout, "%s:%s\n", user, h)
	} else {
		fmt.Fprintf(env.Stdout, "%s\n", h)
	}
	return ExitOK, nil
}
