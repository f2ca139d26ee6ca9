package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/rule"
)

const scanHelp = "scan [--rules PATH]... [--format text|json] [flags] PATH..."

func runScan(ctx context.Context, args []string, env *Env) (int, error) {
	fs := newFlagSet("scan", env, scanHelp)
	var rulePaths stringList
	fs.Var(&rulePaths, "rules", "rule `PATH` (file or directory); repeatable; replaces the built-in packs unless --builtin")
	builtin := fs.Bool("builtin", false, "also run the built-in packs when --rules is given")
	format := fs.String("format", "text", "output `format`: text or json")
	progressMode := fs.String("progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "files read in parallel")
	strict := fs.Bool("strict", false, "exit 2 when any record or file could not be read (they are always reported)")
	quiet := fs.Bool("quiet", false, "no summary line on stderr")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to `FILE` (for development)")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return ExitFailure, err
	}
	if *format != "text" && *format != "json" {
		return ExitFailure, fmt.Errorf("--format: %q is not text or json", *format)
	}
	showProgress := false
	switch *progressMode {
	case "auto":
		showProgress = env.Terminal
	case "always":
		showProgress = true
	case "never":
	default:
		return ExitFailure, fmt.Errorf("--progress: %q is not auto, always or never", *progressMode)
	}
	if len(paths) == 0 {
		fs.Usage()
		return ExitFailure, fmt.Errorf("no PATH to scan (use - for stdin)")
	}
	if *workers < 1 {
		*workers = 1
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return ExitFailure, err
		}
		defer stop()
	}
	rules, err := loadRules(rulePaths, *builtin || len(rulePaths) == 0)
	if err != nil {
		return ExitFailure, err
	}
	set, err := rule.NewSet(rules)
	if err != nil {
		return ExitFailure, err
	}

	s := &scanner{env: env, set: set, start: env.Now()}
	ins, inputErr := collectInputs(paths, func(msg string) { fmt.Fprintf(env.Stderr, "trailwatch scan: %s\n", msg) })
	if inputErr != nil {
		fmt.Fprintf(env.Stderr, "trailwatch scan: %v\n", inputErr)
	}
	for _, in := range ins {
		s.totalBytes += in.size
	}
	s.files = len(ins)

	var prog *progressBar
	if showProgress {
		s.clearLine = "\r\033[K"
		prog = startProgress(env, s)
	}
	var w alertWriter
	if *format == "json" {
		w = newJSONWriter(env.Stdout)
	} else {
		w = newTextWriter(env.Stdout)
	}
	alerts, dups, err := s.run(ctx, ins, *workers, w)
	if prog != nil {
		prog.stop()
	}
	if err != nil {
		return ExitFailure, err
	}
	if err := w.Close(); err != nil {
		return ExitFailure, fmt.Errorf("output: %w", err)
	}
	errCount := s.recordErrors.Load()
	if !*quiet {
		elapsed := env.Now().Sub(s.start).Round(time.Millisecond)
		msg := fmt.Sprintf("scanned %d file(s), %d event(s), %d alert(s)", s.filesDone.Load(), s.events.Load(), alerts)
		if dups > 0 {
			msg += fmt.Sprintf(" (%d duplicate(s) dropped)", dups)
		}
		if errCount > 0 {
			msg += fmt.Sprintf(", %d unreadable record(s) or file(s)", errCount)
		}
		fmt.Fprintf(env.Stderr, "trailwatch scan: %s in %s\n", msg, elapsed)
	}
	switch {
	case inputErr != nil:
		return ExitFailure, nil
	case *strict && errCount > 0:
		return ExitFailure, nil
	case alerts > 0:
		return ExitFound, nil
	}
	return ExitOK, nil
}

// loadRules reads the rule files at paths, plus the built-in packs when
// builtin is set.
func loadRules(paths []string, builtin bool) ([]*rule.Rule, error) {
	var rules []*rule.Rule
	if builtin {
		b, err := rule.Builtin()
		if err != nil {
			return nil, fmt.Errorf("built-in rules: %w", err)
		}
		rules = append(rules, b...)
	}
	if len(paths) > 0 {
		r, err := rule.LoadFiles(paths...)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r...)
	}
	return rules, nil
}

// scanner runs a rule set over inputs with a pool of workers and hands the
// alerts to one writer in input order, so output is the same on every run.
type scanner struct {
	env   *Env
	set   *rule.Set
	start time.Time

	files        int
	totalBytes   int64
	filesDone    atomic.Int64
	bytesRead    atomic.Int64
	events       atomic.Int64
	recordErrors atomic.Int64

	errMu     sync.Mutex // serialises lines on stderr
	clearLine string     // erases the progress line before an error line
}

// job is one input's work: the worker sends its alerts on out and closes it.
type job struct {
	in  input
	out chan alert.Alert
}

func (s *scanner) run(ctx context.Context, ins []input, workers int, w alertWriter) (alerts, dups int, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make([]*job, len(ins))
	queue := make(chan *job)
	for i, in := range ins {
		jobs[i] = &job{in: in, out: make(chan alert.Alert, 256)}
	}
	go func() {
		defer close(queue)
		for _, j := range jobs {
			select {
			case queue <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range min(workers, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				s.scanInput(ctx, j)
			}
		}()
	}
	// The writer takes the jobs in order; a worker ahead of it can fill its
	// job's buffer and wait, but the earliest unfinished job always drains.
	seen := make(map[string]struct{})
	var werr error
drain:
	for _, j := range jobs {
		for {
			var a alert.Alert
			var ok bool
			select {
			case a, ok = <-j.out:
			case <-ctx.Done():
				break drain
			}
			if !ok {
				break
			}
			key := a.Rule + "\x00" + a.EventID
			if _, dup := seen[key]; dup {
				dups++
				continue
			}
			seen[key] = struct{}{}
			if werr = w.Write(&a); werr != nil {
				break drain
			}
			alerts++
		}
		if werr = w.Flush(); werr != nil {
			break
		}
	}
	interrupted := ctx.Err()
	cancel()
	wg.Wait()
	if werr != nil {
		return alerts, dups, fmt.Errorf("output: %w", werr)
	}
	if interrupted != nil {
		return alerts, dups, fmt.Errorf("interrupted: %w", interrupted)
	}
	return alerts, dups, nil
}

func (s *scanner) scanInput(ctx context.Context, j *job) {
	defer close(j.out)
	defer s.filesDone.Add(1)
	var r io.Reader
	name := j.in.path
	if name == "-" {
		r = s.env.Stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			s.recordError(err)
			return
		}
		defer f.Close()
		r = f
	}
	dec := event.NewDecoder(r, name)
	defer dec.Close()
	var matched []*rule.Rule
	var lastBytes int64
	for n := 0; ; n++ {
		if n&255 == 0 && ctx.Err() != nil {
			return
		}
		ev, err := dec.Next()
		if b := dec.BytesRead(); b != lastBytes {
			s.bytesRead.Add(b - lastBytes)
			lastBytes = b
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			s.recordError(err)
			continue
		}
		s.events.Add(1)
		matched, err = s.set.Match(ev, matched[:0])
		if err != nil {
			s.recordError(fmt.Errorf("%s: record %d: %w", name, ev.Origin.Index, err))
			continue
		}
		for _, r := range matched {
			select {
			case j.out <- alert.New(r, ev):
			case <-ctx.Done():
				return
			}
		}
	}
}

func (s *scanner) recordError(err error) {
	s.recordErrors.Add(1)
	s.errMu.Lock()
	defer s.errMu.Unlock()
	fmt.Fprintf(s.env.Stderr, "%strailwatch scan: %v\n", s.clearLine, err)
}

// alertWriter prints alerts in one output format.
type alertWriter interface {
	Write(a *alert.Alert) error
	// Flush sends what is buffered (after each input, so a pipe sees
	// alerts as inputs finish).
	Flush() error
	Close() error
}

// jsonWriter prints one JSON object per line. The event, already JSON text,
// is copied in as it is rather than re-encoded.
type jsonWriter struct {
	w       *bufio.Writer
	buf     bytes.Buffer
	enc     *json.Encoder
	compact []byte
}

func newJSONWriter(w io.Writer) *jsonWriter {
	jw := &jsonWriter{w: bufio.NewWriterSize(w, 64<<10)}
	jw.enc = json.NewEncoder(&jw.buf)
	jw.enc.SetEscapeHTML(false)
	return jw
}

func (w *jsonWriter) Write(a *alert.Alert) error {
	ev := a.Event
	b := *a
	b.Event = nil
	w.buf.Reset()
	if err := w.enc.Encode(&b); err != nil {
		return err
	}
	// Encode wrote {..., "event":null}\n: put the event in place of null.
	line := bytes.TrimSuffix(bytes.TrimSuffix(w.buf.Bytes(), []byte("\n")), []byte("null}"))
	w.w.Write(line)
	if bytes.ContainsAny(ev, "\r\n") {
		w.compact = appendCompact(w.compact[:0], ev)
		ev = w.compact
	}
	w.w.Write(ev)
	_, err := w.w.WriteString("}\n")
	return err
}

// appendCompact appends the valid JSON text src to dst without the white
// space between tokens (events keep their records' bytes as read, which may
// be indented; a JSON line must not break).
func appendCompact(dst, src []byte) []byte {
	inString := false
	start := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case inString:
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\n' || c == '\r' || c == '\t':
			dst = append(dst, src[start:i]...)
			start = i + 1
		}
	}
	return append(dst, src[start:]...)
}

func (w *jsonWriter) Flush() error { return w.w.Flush() }
func (w *jsonWriter) Close() error { return w.w.Flush() }

// textWriter prints an aligned table; alignment needs every row, so rows are
// held until Close.
type textWriter struct {
	tw   *tabwriter.Writer
	rows int
}

func newTextWriter(w io.Writer) *textWriter {
	return &textWriter{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

var textColumns = []string{"TIME", "SEVERITY", "RULE", "ACCOUNT", "REGION", "EVENT", "PRINCIPAL", "SOURCE IP", "MFA", "SUMMARY"}

func (w *textWriter) Write(a *alert.Alert) error {
	if w.rows == 0 {
		fmt.Fprintln(w.tw, strings.Join(textColumns, "\t"))
	}
	w.rows++
	cells := []string{a.EventTime, a.Severity, a.Rule, a.Account, a.Region, a.EventName, a.Principal, a.SourceIP, a.MFA, a.Summary}
	for i, c := range cells {
		cells[i] = cell(c)
	}
	_, err := fmt.Fprintln(w.tw, strings.Join(cells, "\t"))
	return err
}

// Flush does nothing: the table is aligned over all rows at Close.
func (w *textWriter) Flush() error { return nil }
func (w *textWriter) Close() error { return w.tw.Flush() }

// cell makes a value safe for one table cell: no tabs or line breaks, "-" for empty.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return ' '
		}
		return r
	}, s)
}

func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
