package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trailwatch/trailwatch/internal/app"
	"github.com/trailwatch/trailwatch/internal/store"
	"github.com/trailwatch/trailwatch/internal/store/postgres"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
)

const alertsHelp = "alerts list [--data DIR | --postgres URL] [--state S] [--rule R] [--limit N] [--format text|json] | alerts ack [--data DIR | --postgres URL] [--by NAME] ID..."

// runAlerts is `trailwatch alerts list|ack`: it reads and writes serve's
// store directly (SQLite allows it while serve runs; PostgreSQL is shared
// anyway).
func runAlerts(ctx context.Context, args []string, env *Env) (int, error) {
	if len(args) == 0 {
		fmt.Fprintf(env.Stderr, "Usage: trailwatch %s\n", alertsHelp)
		return ExitFailure, fmt.Errorf("missing subcommand (list or ack)")
	}
	switch args[0] {
	case "list":
		return runAlertsList(ctx, args[1:], env)
	case "ack":
		return runAlertsAck(ctx, args[1:], env)
	}
	fmt.Fprintf(env.Stderr, "Usage: trailwatch %s\n", alertsHelp)
	return ExitFailure, fmt.Errorf("unknown subcommand %q (want list or ack)", args[0])
}

// openStore opens serve's store: the PostgreSQL database at pgURL (or
// $TRAILWATCH_POSTGRES_URL), else the SQLite file in dir.
func openStore(ctx context.Context, dir, pgURL string) (store.Store, error) {
	if pgURL == "" && dir == "" {
		pgURL = os.Getenv("TRAILWATCH_POSTGRES_URL")
	}
	if pgURL != "" {
		s, err := postgres.Open(ctx, pgURL, postgres.Options{})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	if dir == "" {
		d, err := app.DefaultDataDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	path := filepath.Join(dir, "trailwatch.db")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no store at %s (give serve's --data): %w", path, err)
	}
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, err
	}
	return s, nil
}

var alertStates = []string{store.StateNew, store.StateNotified, store.StateAcked, store.StateDeadLettered, store.StatePending}

func runAlertsList(ctx context.Context, args []string, env *Env) (int, error) {
	fs := newFlagSet("alerts list", env, alertsHelp)
	data := fs.String("data", "", "serve's state `DIR`")
	pgURL := fs.String("postgres", "", "serve's PostgreSQL database `URL` (default $TRAILWATCH_POSTGRES_URL unless --data)")
	state := fs.String("state", "", "only alerts in this `STATE`: "+strings.Join(alertStates, ", "))
	ruleName := fs.String("rule", "", "only alerts of this `RULE`")
	severity := fs.String("severity", "", "only alerts of this `SEVERITY` (info, low, medium, high, critical)")
	account := fs.String("account", "", "only alerts of this AWS `ACCOUNT` ID")
	limit := fs.Int("limit", 100, "at most `N` alerts, newest first (0: all)")
	format := fs.String("format", "text", "output `format`: text or json")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return ExitFailure, err
	}
	if len(rest) > 0 {
		return ExitFailure, fmt.Errorf("unexpected argument %q", rest[0])
	}
	if *state != "" && !contains(alertStates, *state) {
		return ExitFailure, fmt.Errorf("--state: %q is not one of %s", *state, strings.Join(alertStates, ", "))
	}
	if *format != "text" && *format != "json" {
		return ExitFailure, fmt.Errorf("--format: %q is not text or json", *format)
	}
	st, err := openStore(ctx, *data, *pgURL)
	if err != nil {
		return ExitFailure, err
	}
	defer st.Close()
	rows, err := st.Alerts(ctx, store.AlertFilter{State: *state, Rule: *ruleName, Severity: *severity, Account: *account, Limit: *limit})
	if err != nil {
		return ExitFailure, err
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetEscapeHTML(false)
		for _, r := range rows {
			if err := enc.Encode(alertJSON(r)); err != nil {
				return ExitFailure, err
			}
		}
		return ExitOK, nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tSEVERITY\tRULE\tCOUNT\tFIRST SEEN\tPRINCIPAL\tSOURCE IP\tSUMMARY")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", r.ID, r.State, r.Severity, r.Rule, r.Count,
			r.FirstSeen.UTC().Format(time.RFC3339), cell(r.Alert.Principal), cell(r.Alert.SourceIP), cell(r.Alert.Summary))
	}
	return ExitOK, tw.Flush()
}

// alertJSON is an alert as `alerts list --format json` prints it: the
// alert's own fields plus its state.
func alertJSON(r store.AlertRow) map[string]any {
	m := map[string]any{}
	b, _ := json.Marshal(r.Alert)
	json.Unmarshal(b, &m)
	m["id"] = r.ID
	m["state"] = r.State
	m["count"] = r.Count
	m["first_seen"] = r.FirstSeen.UTC().Format(time.RFC3339)
	m["last_seen"] = r.LastSeen.UTC().Format(time.RFC3339)
	if !r.NotifiedAt.IsZero() {
		m["notified_at"] = r.NotifiedAt.UTC().Format(time.RFC3339)
	}
	if !r.AckedAt.IsZero() {
		m["acked_at"] = r.AckedAt.UTC().Format(time.RFC3339)
		m["acked_by"] = r.AckedBy
	}
	m["reminders"] = r.Reminders
	var dels []map[string]any
	for _, d := range r.Deliveries {
		dm := map[string]any{"receiver": d.Receiver, "reminder": d.Reminder, "state": d.State, "attempts": d.Attempts}
		if d.LastError != "" {
			dm["last_error"] = d.LastError
		}
		dels = append(dels, dm)
	}
	m["deliveries"] = dels
	return m
}

func runAlertsAck(ctx context.Context, args []string, env *Env) (int, error) {
	fs := newFlagSet("alerts ack", env, alertsHelp)
	data := fs.String("data", "", "serve's state `DIR`")
	pgURL := fs.String("postgres", "", "serve's PostgreSQL database `URL` (default $TRAILWATCH_POSTGRES_URL unless --data)")
	by := fs.String("by", "", "who acknowledges (default: $USER)")
	ids, err := parseFlags(fs, args)
	if err != nil {
		return ExitFailure, err
	}
	if len(ids) == 0 {
		return ExitFailure, fmt.Errorf("no alert ID (see trailwatch alerts list)")
	}
	who := *by
	if who == "" {
		who = os.Getenv("USER")
	}
	if who == "" {
		who = "cli"
	}
	st, err := openStore(ctx, *data, *pgURL)
	if err != nil {
		return ExitFailure, err
	}
	defer st.Close()
	var errs []error
	for _, id := range ids {
		if err := st.Ack(ctx, id, who); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
			continue
		}
		fmt.Fprintf(env.Stdout, "%s acked\n", id)
	}
	if err := errors.Join(errs...); err != nil {
		return ExitFailure, err
	}
	return ExitOK, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
