package event

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

const (
	// maxValue bounds the bytes one value may need in memory: a record, or
	// the whole of a top-level object that holds no Records array.
	maxValue = 64 << 20
	// maxNesting bounds payloads inside payloads (base64 of gzip of a
	// CloudWatch Logs payload...).
	maxNesting = 3
	// firstBuf is the first buffer size: most CloudTrail files are a few
	// tens of kilobytes uncompressed, and a buffer per file is the main
	// allocation.
	firstBuf = 32 << 10
	// bigValue is the pending size above which a fill reads until it has
	// doubled, rather than once.
	bigValue = 256 << 10
)

// state says where the decoder is in its input.
type state uint8

const (
	stTop       state = iota // between top-level values
	stArray                  // elements of a top-level array
	stRecords                // elements of a "Records" array
	stLogEvents              // elements of a CloudWatch Logs "logEvents" array
	stRest                   // members after a Records or logEvents array
)

// errAgain says a step made progress without an event to return.
var errAgain = errors.New("again")

// Decoder reads events from every form CloudTrail data arrives in,
// streaming: it holds one record (or one top-level value that is not a
// container of records) in memory at a time.
//
// Forms: S3 log files {"Records":[...]}; JSON lines or concatenated JSON of
// records and EventBridge events (mixed); a JSON array of records or
// events; CloudWatch Logs subscription payloads (decoded, gzipped, the
// Lambda {"awslogs":{"data":...}} form, or a line of base64 of gzip);
// Cribl's [{"_raw":"<json>"}]. Any of these may be gzipped.
type Decoder struct {
	name  string
	cr    countReader
	in    io.Reader // decompressed input; nil until sniffed
	zr    *gzip.Reader
	depth int

	buf      []byte
	pos, end int
	base     int64 // input offset of buf[0]
	at       int64 // input offset of the value being read
	eof      bool  // in has no more bytes
	rerr     error // why in ended, when not io.EOF

	sc      scanner
	f       fields
	tmp     []byte
	st      state
	first   bool // no element read yet in the current array
	control bool // the current logEvents are CloudWatch Logs control messages
	lines   bool // the input is JSON lines: resynchronise at a newline after a syntax error
	values  int  // top-level values read
	index   int
	done    bool
	sub     *Decoder // a nested payload being read
	pooled  *pooledState
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// NewDecoder reads events from r; name is used in errors and Event.Origin.
// It sniffs gzip (by its magic bytes, not the file name) and the JSON shape.
func NewDecoder(r io.Reader, name string) *Decoder {
	return newDecoder(r, name, 0)
}

func newDecoder(r io.Reader, name string, depth int) *Decoder {
	d := &Decoder{name: name, cr: countReader{r: r}, depth: depth}
	if depth == 0 {
		d.pooled = statePool.Get().(*pooledState)
		d.buf = d.pooled.buf
	}
	return d
}

// pooledState is what a Decoder needs per input and can reuse for the next
// one: the read buffer and the gzip reader, the main allocations of a
// decoder (CloudTrail writes many small files).
type pooledState struct {
	buf []byte
	br  *bufio.Reader
	zr  *gzip.Reader
}

// statePool holds the state of closed decoders.
var statePool = sync.Pool{New: func() any { return new(pooledState) }}

// maxPooledBuf is the largest read buffer kept for reuse.
const maxPooledBuf = 1 << 20

// Close releases the decoder's buffers for reuse by later decoders. The
// decoder must not be used after Close; events it returned stay valid (they
// never alias its buffers). Close does not close the underlying reader.
func (d *Decoder) Close() error {
	p := d.pooled
	if p == nil {
		return nil
	}
	d.pooled = nil
	d.done = true
	if cap(d.buf) <= maxPooledBuf {
		p.buf = d.buf[:cap(d.buf)]
	} else {
		p.buf = nil
	}
	d.buf, d.pos, d.end = nil, 0, 0
	d.in = eofReader{}
	statePool.Put(p)
	return nil
}

// BytesRead returns the input bytes (compressed, when gzipped) consumed so
// far, for progress.
func (d *Decoder) BytesRead() int64 { return d.cr.n }

// IsDigest reports whether a path is a CloudTrail digest file (in a
// CloudTrail-Digest folder, or with _CloudTrail-Digest_ in its name), which
// scanners skip.
func IsDigest(path string) bool {
	p := strings.ReplaceAll(path, `\`, "/")
	return strings.Contains("/"+p, "/CloudTrail-Digest/") || strings.Contains(p[strings.LastIndexByte(p, '/')+1:], "_CloudTrail-Digest_")
}

// Next returns the next event, or io.EOF at the end. A bad record gives a
// *RecordError (name, index, problem) and Next may be called again: the
// rest of the input still counts. A broken input (truncated gzip, JSON
// that loses framing) gives a *RecordError naming the input and index, and
// then io.EOF; the events before it stand.
func (d *Decoder) Next() (*Event, error) {
	for {
		if d.sub != nil {
			e, err := d.sub.Next()
			if err == io.EOF {
				d.sub = nil
				continue
			}
			if e != nil {
				e.Origin = Origin{Name: d.name, Index: d.index}
			}
			var re *RecordError
			if errors.As(err, &re) {
				re.Name, re.Index, re.Offset = d.name, d.index, d.at
			}
			d.index++
			return e, err
		}
		if d.done {
			return nil, io.EOF
		}
		e, err := d.step()
		switch err {
		case errAgain:
			continue
		case errShort:
			if d.eof {
				return nil, d.fatal(ErrTruncated)
			}
			if ferr := d.fill(); ferr != nil {
				return nil, d.fatal(ferr)
			}
			continue
		case io.EOF, nil:
			if err == io.EOF {
				d.done = true
			}
			return e, err
		}
		if _, ok := err.(*RecordError); !ok {
			err = d.fatal(err)
		}
		return e, err
	}
}

// fill reads more input after the unread bytes, moving or growing the buffer.
func (d *Decoder) fill() error {
	if d.in == nil {
		if err := d.sniff(); err != nil {
			return err
		}
	}
	if d.pos > 0 {
		d.base += int64(d.pos)
		d.end = copy(d.buf, d.buf[d.pos:d.end])
		d.pos = 0
	}
	if len(d.buf)-d.end < firstBuf/4 {
		if d.end >= maxValue {
			return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxValue)
		}
		nb := make([]byte, max(firstBuf, 2*len(d.buf)))
		copy(nb, d.buf[:d.end])
		d.buf = nb
	}
	// One read is enough for a live stream waiting on its next record. A
	// large value is rescanned from its start after each fill, so its
	// pending bytes are doubled before the next try: the rescans add up
	// to a few times the value, not its square.
	want := d.end + 1
	if d.end >= bigValue {
		want = min(len(d.buf), 2*d.end)
	}
	for d.end < want {
		n, err := d.in.Read(d.buf[d.end:])
		d.end += n
		if err != nil {
			d.eof = true
			if err != io.EOF {
				d.rerr = err
			}
			return nil
		}
	}
	return nil
}

// sniff picks the decompressor by the input's first bytes. Plain input is
// read straight into the buffer; gzip through a small bufio.Reader, which
// its decompressor wants.
func (d *Decoder) sniff() error {
	var head [2]byte
	n, err := io.ReadFull(&d.cr, head[:])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		d.in = io.MultiReader(bytes.NewReader(head[:n]), errReader{err})
		return nil
	}
	r := io.MultiReader(bytes.NewReader(head[:n]), &d.cr)
	if n < 2 || head[0] != 0x1f || head[1] != 0x8b {
		d.in = r
		return nil
	}
	var zr *gzip.Reader
	if p := d.pooled; p != nil && p.zr != nil {
		p.br.Reset(r)
		zr = p.zr
		err = zr.Reset(p.br)
	} else {
		br := bufio.NewReaderSize(r, 32<<10)
		zr, err = gzip.NewReader(br)
		if p := d.pooled; p != nil && err == nil {
			p.br, p.zr = br, zr
		}
	}
	if err != nil {
		d.in = eofReader{}
		return fmt.Errorf("gzip: %w", err)
	}
	d.zr = zr
	d.in = zr
	return nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// fatal ends the input with err.
func (d *Decoder) fatal(err error) error {
	d.done = true
	if d.rerr != nil && (errors.Is(err, ErrTruncated) || errors.Is(err, ErrSyntax)) {
		err = fmt.Errorf("read: %w", d.rerr)
	}
	return &RecordError{Name: d.name, Index: d.index, Offset: d.at, Err: err}
}

// bad reports a bad record position; decoding goes on.
func (d *Decoder) bad(err error) error {
	re := &RecordError{Name: d.name, Index: d.index, Offset: d.at, Err: err}
	d.index++
	return re
}

// emit numbers an event.
func (d *Decoder) emit(e *Event) (*Event, error) {
	e.Origin = Origin{Name: d.name, Index: d.index}
	d.index++
	return e, nil
}

// step reads one thing at the current state: an event, an error, or
// progress (errAgain), or asks for more input (errShort).
func (d *Decoder) step() (*Event, error) {
	b := d.buf[d.pos:d.end]
	switch d.st {
	case stTop:
		return d.stepTop(b)
	case stRest:
		return d.stepRest(b)
	}
	return d.stepElement(b)
}

func (d *Decoder) stepTop(b []byte) (*Event, error) {
	final := d.eof
	i := skipSpace(b, 0)
	if d.values > 0 && !d.lines && bytes.IndexByte(b[:i], '\n') >= 0 {
		d.lines = true
	}
	d.pos += i
	d.at = d.base + int64(d.pos)
	b = b[i:]
	if len(b) == 0 {
		if !d.eof {
			return nil, errShort
		}
		if d.rerr != nil {
			return nil, d.fatal(fmt.Errorf("read: %w", d.rerr))
		}
		return nil, io.EOF
	}
	switch c := b[0]; {
	case c == '{':
		end, err := d.sc.walkObject(b, 0, final, true, &d.f)
		if err != nil {
			return d.topSyntax(b, err)
		}
		if d.f.container != "" {
			d.control = str(b, d.f.messageType) == "CONTROL_MESSAGE"
			d.st, d.first = stRecords, true
			if d.f.container == "logEvents" {
				d.st = stLogEvents
			}
			d.pos += d.f.containerAt + 1
			return nil, errAgain
		}
		d.pos += end
		d.values++
		return d.object(b[:end], &d.f, 0)
	case c == '[':
		d.pos++
		d.values++
		d.st, d.first = stArray, true
		return nil, errAgain
	case c == 0xef: // a UTF-8 byte order mark
		if len(b) < 3 && !final {
			return nil, errShort
		}
		if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
			d.pos += 3
			return nil, errAgain
		}
	case c == 'H': // a line of base64 of gzip: "H4sI..."
		if len(b) < 4 && !final {
			return nil, errShort
		}
		if bytes.HasPrefix(b, []byte("H4sI")) {
			n := bytes.IndexByte(b, '\n')
			if n < 0 {
				if !final {
					return nil, errShort
				}
				n = len(b)
			}
			d.pos += n
			d.values++
			return d.payload(bytes.TrimSpace(b[:n]))
		}
	}
	end, err := d.sc.valueEnd(b, 0, final)
	if err != nil {
		return d.topSyntax(b, err)
	}
	d.pos += end
	d.values++
	return nil, d.bad(ErrNotObject)
}

// topSyntax handles an error in a top-level value: in JSON lines, the line
// is skipped and reading goes on at the next; otherwise the input has lost
// its framing.
func (d *Decoder) topSyntax(b []byte, err error) (*Event, error) {
	if err == errShort {
		return nil, err
	}
	if !d.lines || errors.Is(err, ErrTruncated) && d.rerr != nil {
		return nil, d.fatal(err)
	}
	n := bytes.IndexByte(b, '\n')
	if n < 0 {
		if !d.eof {
			return nil, errShort
		}
		n = len(b)
	}
	d.pos += n
	return nil, d.bad(err)
}

// stepElement reads one element of an array, or its end.
func (d *Decoder) stepElement(b []byte) (*Event, error) {
	final := d.eof
	i := skipSpace(b, 0)
	d.at = d.base + int64(d.pos+i)
	if i >= len(b) {
		return nil, short(final)
	}
	switch {
	case b[i] == ']':
		d.pos += i + 1
		if d.st == stArray {
			d.st = stTop
		} else {
			d.st = stRest
		}
		return nil, errAgain
	case !d.first && b[i] == ',':
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return nil, short(final)
		}
	case !d.first:
		return nil, d.fatal(fmt.Errorf("%w: expected ',' or ']' after element, found %s", ErrSyntax, quoteByte(b[i])))
	}
	d.at = d.base + int64(d.pos+i)
	b = b[i:]
	if b[0] != '{' {
		end, err := d.sc.valueEnd(b, 0, final)
		if err != nil {
			if err == errShort {
				return nil, err
			}
			return nil, d.fatal(err)
		}
		d.pos += i + end
		d.first = false
		return nil, d.bad(ErrNotObject)
	}
	end, err := d.sc.walkObject(b, 0, final, false, &d.f)
	if err != nil {
		if err == errShort {
			return nil, err
		}
		return nil, d.fatal(err)
	}
	d.pos += i + end
	d.first = false
	if d.st != stLogEvents {
		return d.object(b[:end], &d.f, 0)
	}
	// A CloudWatch Logs log event: its message is the record.
	if d.control {
		return nil, errAgain
	}
	m := d.f.message
	if !m.ok() || b[m.start] != '"' {
		return nil, d.bad(fmt.Errorf("log event: %w", ErrNotRecord))
	}
	d.tmp = appendUnescaped(d.tmp[:0], b[m.start+1:m.end-1])
	return d.inner(d.tmp, 0)
}

// stepRest reads one member after a Records or logEvents array, or the end
// of the object holding it.
func (d *Decoder) stepRest(b []byte) (*Event, error) {
	final := d.eof
	i := skipSpace(b, 0)
	d.at = d.base + int64(d.pos+i)
	if i >= len(b) {
		return nil, short(final)
	}
	switch b[i] {
	case '}':
		d.pos += i + 1
		d.st = stTop
		d.values++
		return nil, errAgain
	case ',':
		j, err := scanKey(b, skipSpace(b, i+1), final)
		if err == nil {
			j, err = d.sc.valueEnd(b, skipSpace(b, j), final)
		}
		if err != nil {
			if err == errShort {
				return nil, err
			}
			return nil, d.fatal(err)
		}
		d.pos += j
		return nil, errAgain
	}
	return nil, d.fatal(fmt.Errorf("%w: expected ',' or '}' after member, found %s", ErrSyntax, quoteByte(b[i])))
}

// inner decodes a JSON text held in a string (a log event's message,
// Cribl's _raw): a record or an EventBridge event.
func (d *Decoder) inner(text []byte, level int) (*Event, error) {
	text = bytes.TrimSpace(text)
	if len(text) > 0 && text[0] != '{' && d.st == stLogEvents && bytes.HasPrefix(text, []byte("CWL CONTROL MESSAGE")) {
		return nil, errAgain
	}
	var f fields
	if err := d.sc.walkWhole(text, &f); err != nil {
		return nil, d.bad(err)
	}
	return d.object(text, &f, level+1)
}

// object makes the event of a whole object obj (not owned), whose fields
// f are relative to obj.
func (d *Decoder) object(obj []byte, f *fields, level int) (*Event, error) {
	switch {
	case f.detailType.ok() && f.detail.ok():
		e, err := fromEnvelope(bytes.Clone(obj), f, &d.sc)
		if err != nil {
			return nil, d.bad(err)
		}
		return d.emit(e)
	case f.raw.ok() && !f.eventVersion.ok() && obj[f.raw.start] == '"' && level == 0:
		raw := appendUnescaped(nil, obj[f.raw.start+1:f.raw.end-1])
		return d.inner(raw, level)
	case f.awslogs.ok() && obj[f.awslogs.start] == '{':
		var g fields
		a := f.awslogs.of(obj)
		if _, err := d.sc.walkObject(a, 0, true, false, &g); err != nil || !g.data.ok() || a[g.data.start] != '"' {
			return nil, d.bad(fmt.Errorf("awslogs: %w", ErrBadPayload))
		}
		return d.payload(a[g.data.start+1 : g.data.end-1])
	case f.messageType.ok():
		if str(obj, f.messageType) == "CONTROL_MESSAGE" {
			return nil, errAgain
		}
		return nil, d.bad(fmt.Errorf("log events: %w", ErrNotRecord))
	}
	e, err := fromRecord(obj, f, &d.sc)
	if err != nil {
		return nil, d.bad(err)
	}
	return d.emit(e)
}

// payload starts reading base64 text (of gzip, usually) as a nested input.
func (d *Decoder) payload(text []byte) (*Event, error) {
	if d.depth >= maxNesting {
		return nil, d.bad(fmt.Errorf("%w: nested too deeply", ErrBadPayload))
	}
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	n, err := base64.StdEncoding.Decode(raw, text)
	if err != nil {
		return nil, d.bad(fmt.Errorf("%w: base64: %w", ErrBadPayload, err))
	}
	d.sub = newDecoder(bytes.NewReader(raw[:n]), d.name, d.depth+1)
	return nil, errAgain
}
