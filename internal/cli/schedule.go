package cli

import (
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/internal/schedule"
)

const scheduleHelp = "schedule next EXPR [--tz ZONE] [--from RFC3339] [-n N]"

// runSchedule is `trailwatch schedule next`: the next fire times of a
// cron(), rate() or at() expression, as EventBridge Scheduler evaluates it,
// one RFC 3339 time per line.
func runSchedule(args []string, env *Env) (int, error) {
	if len(args) == 0 || args[0] != "next" {
		fmt.Fprintf(env.Stderr, "Usage: trailwatch %s\n", scheduleHelp)
		return ExitFailure, fmt.Errorf("unknown or missing subcommand (want: next)")
	}
	fs := newFlagSet("schedule next", env, scheduleHelp)
	tz := fs.String("tz", "UTC", "IANA time `ZONE` the expression is evaluated in (Scheduler's ScheduleExpressionTimezone)")
	from := fs.String("from", "", "start after this `TIME` (RFC 3339; default now)")
	n := fs.Int("n", 5, "how many fire times")
	rest, err := parseFlags(fs, args[1:])
	if err != nil {
		return ExitFailure, err
	}
	if len(rest) != 1 {
		fs.Usage()
		return ExitFailure, fmt.Errorf("want one expression, like 'cron(0 9 ? * MON-FRI *)', got %d arguments", len(rest))
	}
	if *n < 1 {
		return ExitFailure, fmt.Errorf("-n: want at least 1")
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		return ExitFailure, fmt.Errorf("--tz: %w", err)
	}
	start := env.Now()
	if *from != "" {
		if start, err = time.Parse(time.RFC3339, *from); err != nil {
			return ExitFailure, fmt.Errorf("--from: want RFC 3339 like 2026-01-02T15:04:05Z: %w", err)
		}
	}
	s, err := schedule.Parse(rest[0], loc)
	if err != nil {
		return ExitFailure, err
	}
	times := schedule.NextN(s, start, *n)
	for _, t := range times {
		fmt.Fprintln(env.Stdout, t.In(loc).Format(time.RFC3339))
	}
	if len(times) == 0 {
		fmt.Fprintf(env.Stderr, "trailwatch schedule: %s does not fire after %s\n", rest[0], start.Format(time.RFC3339))
	}
	return ExitOK, nil
}
