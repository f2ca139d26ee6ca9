package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/trailwatch/trailwatch/filterpattern"
	"github.com/trailwatch/trailwatch/internal/event"
)

const filterHelp = "filter test --pattern P --events FILE [--format text|json]   (P is the pattern text or @file; FILE may be - for stdin)"

// runFilter is `trailwatch filter test`, like `aws logs test-metric-filter`:
// it prints each matching log event (its number, the message and the values
// extracted), exits 0 when any matched, 1 when none did, 2 on an invalid
// pattern.
//
// Events are log messages, one per line, as a CloudTrail log group holds
// them; a CloudTrail log file ({"Records":[...]}, a JSON array, gzip) is
// read as one message per record.
func runFilter(args []string, env *Env) (int, error) {
	if len(args) == 0 || args[0] != "test" {
		fmt.Fprintf(env.Stderr, "Usage: trailwatch %s\n", filterHelp)
		return ExitFailure, fmt.Errorf("unknown or missing subcommand (want: test)")
	}
	fs := newFlagSet("filter test", env, filterHelp)
	pat := fs.String("pattern", "", "the filter `pattern` (CloudWatch Logs syntax), or @file")
	events := fs.String("events", "", "`FILE` of log events: one message per line, or a CloudTrail log file; - for stdin")
	format := fs.String("format", "text", "output `format`: text, or json (TestMetricFilter's response)")
	rest, err := parseFlags(fs, args[1:])
	if err != nil {
		return ExitFailure, err
	}
	if len(rest) > 0 {
		return ExitFailure, fmt.Errorf("unexpected argument %q", rest[0])
	}
	if *events == "" {
		fs.Usage()
		return ExitFailure, fmt.Errorf("--events is required")
	}
	if *format != "text" && *format != "json" {
		return ExitFailure, fmt.Errorf("--format: %q is not text or json", *format)
	}
	src, err := readArg(*pat, env)
	if err != nil {
		return ExitFailure, fmt.Errorf("--pattern: %w", err)
	}
	p, err := filterpattern.Parse(string(src))
	if err != nil {
		return ExitFailure, fmt.Errorf("invalid pattern: %w", err)
	}
	var r io.Reader
	if *events == "-" {
		r = env.Stdin
	} else {
		f, err := os.Open(*events)
		if err != nil {
			return ExitFailure, fmt.Errorf("--events: %w", err)
		}
		defer f.Close()
		r = f
	}
	msgs, err := logMessages(r, *events)
	if err != nil {
		return ExitFailure, fmt.Errorf("--events: %w", err)
	}
	type match struct {
		EventNumber     int               `json:"eventNumber"`
		EventMessage    string            `json:"eventMessage"`
		ExtractedValues map[string]string `json:"extractedValues"`
	}
	var matches []match
	for i, m := range msgs {
		got, ok := p.Match(m)
		if !ok {
			continue
		}
		matches = append(matches, match{EventNumber: i + 1, EventMessage: string(m), ExtractedValues: got.Values()})
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "    ")
		if matches == nil {
			matches = []match{}
		}
		if err := enc.Encode(map[string]any{"matches": matches}); err != nil {
			return ExitFailure, err
		}
	} else {
		for _, m := range matches {
			fmt.Fprintf(env.Stdout, "%d: %s\n", m.EventNumber, m.EventMessage)
			keys := make([]string, 0, len(m.ExtractedValues))
			for k := range m.ExtractedValues {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(env.Stdout, "    %s = %s\n", k, m.ExtractedValues[k])
			}
		}
		fmt.Fprintf(env.Stderr, "trailwatch filter: %d of %d event(s) matched\n", len(matches), len(msgs))
	}
	if len(matches) == 0 {
		return ExitFound, nil
	}
	return ExitOK, nil
}

// logMessages reads log messages: the records of a CloudTrail log file, or
// else one message per non-empty line.
func logMessages(r io.Reader, name string) ([][]byte, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(512)
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	gz := len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b
	if gz || bytes.HasPrefix(trimmed, []byte(`{"Records"`)) || bytes.HasPrefix(trimmed, []byte("[")) {
		dec := event.NewDecoder(br, name)
		defer dec.Close()
		var msgs [][]byte
		for {
			ev, err := dec.Next()
			if err == io.EOF {
				return msgs, nil
			}
			if err != nil {
				return nil, err
			}
			if ev.Record != nil {
				msgs = append(msgs, ev.Record)
			} else {
				msgs = append(msgs, ev.JSON)
			}
		}
	}
	var msgs [][]byte
	sc := bufio.NewScanner(br)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		msgs = append(msgs, []byte(line))
	}
	return msgs, sc.Err()
}
