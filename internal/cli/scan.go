package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/rule"
	"github.com/trailwatch/trailwatch/internal/source/s3src"
)

const scanHelp = "scan [--rules PATH]... [--format text|json] [flags] PATH|s3://BUCKET/PREFIX..."

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
	since := fs.String("since", "", "only log files delivered since `TIME`: a duration before now (7d, 36h), an RFC 3339 time or a date")
	until := fs.String("until", "", "only log files delivered before `TIME` (and up to an hour after, for late events); same forms as --since")
	accounts := fs.String("accounts", "", "only log files of these account IDs (`a,b`)")
	regions := fs.String("regions", "", "only log files of these regions (`r1,r2`)")
	endpoint := fs.String("endpoint-url", "", "S3-compatible endpoint `URL` for s3:// inputs (path-style addressing)")
	region := fs.String("region", "", "AWS `region` of s3:// buckets (found from the bucket when not given)")
	roleARN := fs.String("role-arn", "", "IAM role `ARN` to assume for reading s3:// buckets (another account's)")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return ExitFailure, err
	}
	workersSet := false
	fs.Visit(func(f *flag.Flag) { workersSet = workersSet || f.Name == "workers" })
	inOpts := inputOptions{s3: s3src.Options{
		Accounts: splitList(*accounts), Regions: splitList(*regions),
		Endpoint: *endpoint, Region: *region, RoleARN: *roleARN,
	}}
	for _, t := range []struct {
		name, value string
		dst         *time.Time
	}{{"since", *since, &inOpts.s3.Since}, {"until", *until, &inOpts.s3.Until}} {
		if t.value == "" {
			continue
		}
		v, err := s3src.ParseTime(t.value, env.Now())
		if err != nil {
			return ExitFailure, fmt.Errorf("--%s: %w", t.name, err)
		}
		*t.dst = v
	}
	if !inOpts.s3.Since.IsZero() && !inOpts.s3.Until.IsZero() && !inOpts.s3.Since.Before(inOpts.s3.Until) {
		return ExitFailure, fmt.Errorf("--since %s is not before --until %s", *since, *until)
	}
	inOpts.filtered = *since != "" || *until != "" || *accounts != "" || *regions != ""
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
	// A scan streams: its live heap stays small, so fewer collections buy
	// throughput (about 12% here) for a few MB, unless the user set GOGC.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
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
	inOpts.s3.Concurrency = max(*workers, s3src.DefaultConcurrency)
	ins, inputErr := collectInputs(ctx, paths, inOpts, func(msg string) { fmt.Fprintf(env.Stderr, "trailwatch scan: %s\n", msg) })
	if inputErr != nil {
		fmt.Fprintf(env.Stderr, "trailwatch scan: %v\n", inputErr)
	}
	for _, in := range ins {
		s.totalBytes += in.size
		if in.obj != nil {
			s.objects = true
		}
	}
	s.files = len(ins)
	if s.objects && !workersSet {
		// Reading S3 waits on the network more than on the CPU.
		*workers = max(*workers, s3src.DefaultConcurrency)
	}

	var prog interface{ stop() }
	if showProgress {
		s.clearLine = "\r\033[K"
		if s.objects {
			prog = startObjectProgress(env, s)
		} else {
			prog = startProgress(env, s)
		}
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
	objects      bool // some inputs are S3 objects
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
	// Jobs are made as workers take them, so a backfill of many objects
	// holds buffers for a few of them only; the writer takes them from
	// ordered in input order.
	queue := make(chan *job)
	ordered := make(chan *job, 2*workers)
	go func() {
		defer close(queue)
		defer close(ordered)
		for _, in := range ins {
			j := &job{in: in, out: make(chan alert.Alert, 256)}
			select {
			case ordered <- j:
			case <-ctx.Done():
				return
			}
			select {
			case queue <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range min(workers, len(ins)) {
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
	for j := range ordered {
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
	switch {
	case j.in.obj != nil:
		body, err := s3src.Open(ctx, j.in.client, *j.in.obj)
		if err != nil {
			s.recordError(err)
			return
		}
		defer body.Close()
		r = body
	case name == "-":
		r = s.env.Stdin
	default:
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

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// objectProgress redraws the status line of a scan that reads S3 objects:
// objects, bytes, events/s and the time left at the rate so far (the
// listing gave every object's size).
type objectProgress struct {
	s    *scanner
	done chan struct{}
	wg   sync.WaitGroup
}

func startObjectProgress(env *Env, s *scanner) *objectProgress {
	p := &objectProgress{s: s, done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			line := p.s.objectLine(env.Now())
			s.errMu.Lock()
			fmt.Fprint(env.Stderr, "\r\033[K"+line)
			s.errMu.Unlock()
			select {
			case <-t.C:
			case <-p.done:
				fmt.Fprint(env.Stderr, "\r\033[K")
				return
			}
		}
	}()
	return p
}

func (p *objectProgress) stop() {
	close(p.done)
	p.wg.Wait()
}

// objectLine is the progress line at now.
func (s *scanner) objectLine(now time.Time) string {
	elapsed := now.Sub(s.start).Seconds()
	events, read := s.events.Load(), s.bytesRead.Load()
	rate := 0.0
	eta := "-"
	if elapsed > 0 {
		rate = float64(events) / elapsed
		if read > 0 && s.totalBytes > read {
			left := float64(s.totalBytes-read) / (float64(read) / elapsed)
			eta = time.Duration(left * float64(time.Second)).Round(time.Second).String()
		} else if read >= s.totalBytes {
			eta = "0s"
		}
	}
	const width = 24
	n := 0
	if s.totalBytes > 0 {
		n = int(min(float64(read)/float64(s.totalBytes), 1) * width)
	}
	return fmt.Sprintf("[%s%s] objects %d/%d  %s/%s  %d events  %.0f events/s  ETA %s",
		strings.Repeat("=", n), strings.Repeat(" ", width-n),
		s.filesDone.Load(), s.files, humanBytes(read), humanBytes(s.totalBytes), events, rate, eta)
}
