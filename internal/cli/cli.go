// Package cli implements the trailwatch command line: it parses arguments and
// calls into the packages that do the work.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Exit codes. They are a contract: users' scripts depend on them.
const (
	ExitOK      = 0 // success; for scan: nothing matched; for pattern test: a match
	ExitFound   = 1 // scan printed alerts; pattern test did not match; test had failures
	ExitFailure = 2 // bad usage, bad input, or an error
)

// Version is the program version, set at build time with -ldflags.
var Version = "dev"

// Env is what a command may touch of the outside world, so tests can run
// commands in-process with their own streams and clock.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Now    func() time.Time
	// Terminal reports whether Stderr is an interactive terminal (for the
	// progress bar).
	Terminal bool
}

// OSEnv is the Env of a real process.
func OSEnv() *Env {
	return &Env{
		Stdin:    os.Stdin,
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
		Now:      time.Now,
		Terminal: isTerminal(os.Stderr),
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

const usage = `trailwatch watches AWS account activity recorded by CloudTrail.

Usage:
  trailwatch scan [--rules PATH]... [--format text|json] PATH...
        run rules over CloudTrail log files, directories and - (stdin)
  trailwatch test [-v] [PATH...]
        run the inline tests of the built-in packs and of the given rule files
  trailwatch rules [--rules PATH]...
        list the rules
  trailwatch pattern test --pattern P --event E
        test an EventBridge event pattern against an event (JSON text or @file)
  trailwatch serve [--config FILE] [--template FILE [--parameter KEY=VALUE]...] [flags]
        run the service: HTTP ingest, alerts to receivers, reminders
  trailwatch alerts list [--data DIR] [--state S] | alerts ack [--data DIR] ID...
        show and acknowledge the alerts serve recorded
  trailwatch filter test --pattern P --events FILE
        test a CloudWatch Logs filter pattern against log events (like aws logs test-metric-filter)
  trailwatch schedule next EXPR [--tz ZONE] [--from RFC3339] [-n N]
        the next fire times of a cron(), rate() or at() expression
  trailwatch validate [--config FILE]... [--template FILE [--parameter KEY=VALUE]...]
        load a configuration without running it: what it runs, every problem as file:line
  trailwatch export cloudformation|terraform (--endpoint URL | --queue ARN) [flags]
        generate the AWS side: EventBridge rules in every region, queue notifications, the IAM role
  trailwatch hash-password [USER] < PASSWORD
        the bcrypt hash of a password (read from stdin) as a line of serve's --ui-users file
  trailwatch version

Run 'trailwatch COMMAND -h' for a command's flags.
`

// errUsage marks an error the user fixes by changing the command line.
var errUsage = errors.New("usage")

// Main runs the command line args (without the program name) and returns the
// process exit code.
func Main(ctx context.Context, args []string, env *Env) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return ExitFailure
	}
	var code int
	var err error
	switch args[0] {
	case "scan":
		code, err = runScan(ctx, args[1:], env)
	case "test":
		code, err = runTest(args[1:], env)
	case "rules":
		code, err = runRules(args[1:], env)
	case "pattern":
		code, err = runPattern(args[1:], env)
	case "serve":
		code, err = runServe(ctx, args[1:], env)
	case "alerts":
		code, err = runAlerts(ctx, args[1:], env)
	case "schedule":
		code, err = runSchedule(args[1:], env)
	case "filter":
		code, err = runFilter(args[1:], env)
	case "validate":
		code, err = runValidate(ctx, args[1:], env)
	case "export":
		code, err = runExport(args[1:], env)
	case "hash-password":
		code, err = runHashPassword(args[1:], env)
	case "version", "--version":
		fmt.Fprintf(env.Stdout, "trailwatch %s\n", Version)
		return ExitOK
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
		return ExitOK
	default:
		fmt.Fprintf(env.Stderr, "trailwatch: unknown command %q\n\n%s", args[0], usage)
		return ExitFailure
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "trailwatch %s: %v\n", args[0], err)
		return ExitFailure
	}
	return code
}

// parseFlags parses flags that may stand before, between or after the
// positional arguments (as users type them: "scan logs/ --format json"), and
// returns the positional ones. "--" ends the flags.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		before := len(args)
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		// flag consumes a "--" terminator itself: everything after it is positional.
		if consumed := args[:before-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		// flag stops at the first non-flag; a lone "-" (stdin) is positional.
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// newFlagSet returns a FlagSet that reports errors instead of exiting.
func newFlagSet(name string, env *Env, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: trailwatch %s\n\nFlags:\n", help)
		fs.PrintDefaults()
	}
	return fs
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }
