package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/rule"
	"github.com/trailwatch/trailwatch/pattern"
)

const patternHelp = "pattern test --pattern P --event E   (P and E are JSON text, @file, or @- for stdin)"

// runPattern is "trailwatch pattern test", like aws events test-event-pattern:
// it prints true or false and exits 0 on a match, 1 on no match, 2 on an
// invalid pattern or event.
func runPattern(args []string, env *Env) (int, error) {
	if len(args) == 0 || args[0] != "test" {
		fmt.Fprintf(env.Stderr, "Usage: trailwatch %s\n", patternHelp)
		return ExitFailure, fmt.Errorf("unknown or missing subcommand (want: test)")
	}
	fs := newFlagSet("pattern test", env, patternHelp)
	pat := fs.String("pattern", "", "the event `pattern`: JSON text or @file")
	evt := fs.String("event", "", "the `event`: an EventBridge event or a CloudTrail record, JSON text or @file")
	rest, err := parseFlags(fs, args[1:])
	if err != nil {
		return ExitFailure, err
	}
	if len(rest) > 0 {
		return ExitFailure, fmt.Errorf("unexpected argument %q", rest[0])
	}
	if *pat == "" || *evt == "" {
		fs.Usage()
		return ExitFailure, fmt.Errorf("--pattern and --event are required")
	}
	psrc, err := readArg(*pat, env)
	if err != nil {
		return ExitFailure, fmt.Errorf("--pattern: %w", err)
	}
	esrc, err := readArg(*evt, env)
	if err != nil {
		return ExitFailure, fmt.Errorf("--event: %w", err)
	}
	// As everywhere in Trailwatch, a pattern naming either spelling of the
	// sign-in detail-type matches sign-in events.
	p, err := rule.ParsePattern(psrc)
	if err != nil {
		return ExitFailure, fmt.Errorf("invalid pattern: %w", err)
	}
	evJSON, err := eventJSON(esrc)
	if err != nil {
		return ExitFailure, fmt.Errorf("invalid event: %w", err)
	}
	ok, err := pattern.Matches(p, evJSON)
	if err != nil {
		return ExitFailure, fmt.Errorf("invalid event: %w", err)
	}
	fmt.Fprintln(env.Stdout, ok)
	if !ok {
		return ExitFound, nil
	}
	return ExitOK, nil
}

// readArg returns the text of a flag value: the value itself, or the
// contents of the file it names after "@" ("@-" is stdin).
func readArg(v string, env *Env) ([]byte, error) {
	name, ok := strings.CutPrefix(v, "@")
	if !ok {
		return []byte(v), nil
	}
	if name == "-" {
		return io.ReadAll(env.Stdin)
	}
	return os.ReadFile(name)
}

// eventJSON returns the EventBridge event to test: the text itself when it
// is an EventBridge event (or any other JSON object), or the envelope
// EventBridge would build when it is a CloudTrail record.
func eventJSON(src []byte) ([]byte, error) {
	src = bytes.TrimSpace(src)
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(src, &probe); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	_, hasDetailType := probe["detail-type"]
	_, hasEventVersion := probe["eventVersion"]
	_, hasEventSource := probe["eventSource"]
	if !hasDetailType && (hasEventVersion || hasEventSource) {
		ev, err := event.FromRecord(src)
		if err != nil {
			return nil, err
		}
		return ev.JSON, nil
	}
	return src, nil
}
