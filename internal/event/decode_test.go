package event

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
)

const (
	invictusFile = "218007301253_CloudTrail_us-east-1_20230710T1225Z_4iD2boYSOwmb6sWd.json"
	gzFile       = "222222222222_CloudTrail_us-east-1_20250306T0230Z_QF6qcgyiaVnSueXa.json.gz"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// s3Records returns the records of an S3 log file, by encoding/json.
func s3Records(t testing.TB, name string) []json.RawMessage {
	t.Helper()
	b := readTestdata(t, name)
	if b[0] == 0x1f {
		r, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(r); err != nil {
			t.Fatal(err)
		}
	}
	var f struct{ Records []json.RawMessage }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Records
}

// eventIDs lists the eventIDs of records, compacted by encoding/json.
func eventIDs(t testing.TB, recs []json.RawMessage) []string {
	var ids []string
	for _, r := range recs {
		var x struct{ EventID string }
		if err := json.Unmarshal(r, &x); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, x.EventID)
	}
	return ids
}

// cwlPayload is a CloudWatch Logs subscription payload carrying recs.
func cwlPayload(t testing.TB, messageType string, recs []json.RawMessage) []byte {
	type logEvent struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	p := struct {
		MessageType         string     `json:"messageType"`
		Owner               string     `json:"owner"`
		LogGroup            string     `json:"logGroup"`
		LogStream           string     `json:"logStream"`
		SubscriptionFilters []string   `json:"subscriptionFilters"`
		LogEvents           []logEvent `json:"logEvents"`
	}{messageType, "218007301253", "aws-cloudtrail-logs", "218007301253_CloudTrail_us-east-1", []string{"trailwatch"}, []logEvent{}}
	for i, r := range recs {
		var c bytes.Buffer
		if err := json.Compact(&c, r); err != nil {
			t.Fatal(err)
		}
		p.LogEvents = append(p.LogEvents, logEvent{ID: strings.Repeat("3", 50) + string(rune('0'+i%10)), Timestamp: 1688990000000 + int64(i), Message: c.String()})
	}
	if messageType == "CONTROL_MESSAGE" {
		p.LogEvents = []logEvent{{ID: "", Timestamp: 1688990000000, Message: "CWL CONTROL MESSAGE: Checking health of destination Firehose."}}
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// result is what decoding one input gave.
type result struct {
	ids  []string // eventIDs in order
	errs []*RecordError
	evs  []*Event
}

func decode(t testing.TB, r io.Reader, name string) result {
	t.Helper()
	evs, errs := decodeAll(t, r, name)
	var res result
	res.evs = evs
	for i, e := range evs {
		res.ids = append(res.ids, e.Key())
		if e.Origin.Name != name {
			t.Errorf("event %d: origin %q, want %q", i, e.Origin.Name, name)
		}
		if e.Record != nil && !json.Valid(e.Record) || !json.Valid(e.JSON) {
			t.Errorf("event %d: invalid JSON", i)
		}
	}
	for _, err := range errs {
		var re *RecordError
		errors.As(err, &re)
		res.errs = append(res.errs, re)
	}
	return res
}

func equalIDs(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("eventIDs:\n got %d %v\nwant %d %v", len(got), got, len(want), want)
	}
}

func TestDecodeForms(t *testing.T) {
	recs := s3Records(t, invictusFile)
	ids := eventIDs(t, recs)
	if len(recs) < 10 {
		t.Fatalf("only %d records", len(recs))
	}
	s3 := readTestdata(t, invictusFile)
	var lines, envLines, mixed, concat bytes.Buffer
	var envArray = []byte{'['}
	for i, r := range recs {
		var c bytes.Buffer
		json.Compact(&c, r)
		lines.Write(c.Bytes())
		lines.WriteByte('\n')
		concat.Write(c.Bytes())
		e, err := FromRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		envLines.Write(e.JSON)
		envLines.WriteString("\r\n")
		if i%2 == 0 {
			mixed.Write(c.Bytes())
		} else {
			mixed.Write(e.JSON)
		}
		mixed.WriteString("\n")
		if i > 0 {
			envArray = append(envArray, ",\n "...)
		}
		envArray = append(envArray, e.JSON...)
	}
	envArray = append(envArray, ']')
	recArray, _ := json.MarshalIndent(recs, "", "  ")
	cwl := cwlPayload(t, "DATA_MESSAGE", recs)
	half := len(recs) / 2
	cwl1, cwl2 := cwlPayload(t, "DATA_MESSAGE", recs[:half]), cwlPayload(t, "DATA_MESSAGE", recs[half:])
	control := cwlPayload(t, "CONTROL_MESSAGE", nil)
	lambda := func(p []byte) []byte {
		return []byte(`{"awslogs":{"data":"` + base64.StdEncoding.EncodeToString(gz(t, p)) + `"}}`)
	}
	b64 := base64.StdEncoding.EncodeToString
	var cribl bytes.Buffer
	cribl.WriteByte('[')
	for i, r := range recs {
		if i > 0 {
			cribl.WriteByte(',')
		}
		s, _ := json.Marshal(map[string]string{"_raw": string(r)})
		cribl.Write(s)
	}
	cribl.WriteByte(']')

	tests := []struct {
		name string
		in   []byte
	}{
		{"s3 file", s3},
		{"s3 file gzipped", gz(t, s3)},
		{"s3 file, then another (Firehose)", append(append([]byte{}, `{"Records":[`+string(recs[0])+`]}`...), `{"Records":[`+string(bytes.Join(asBytes(recs[1:]), []byte(",")))+`]}`...)},
		{"json lines", lines.Bytes()},
		{"json lines gzipped", gz(t, lines.Bytes())},
		{"concatenated records", concat.Bytes()},
		{"eventbridge lines", envLines.Bytes()},
		{"mixed lines", mixed.Bytes()},
		{"array of records", recArray},
		{"array of events", envArray},
		{"cloudwatch logs payload", cwl},
		{"cloudwatch logs payload gzipped", gz(t, cwl)},
		{"cloudwatch logs payloads with a control message", append(append(append([]byte{}, cwl1...), control...), cwl2...)},
		{"lambda awslogs", lambda(cwl)},
		{"lambda awslogs lines", append(append(lambda(cwl1), '\n'), lambda(cwl2)...)},
		{"base64 of gzip lines", []byte(b64(gz(t, cwl1)) + "\n" + b64(gz(t, control)) + "\n" + b64(gz(t, cwl2)) + "\n")},
		{"cribl _raw", cribl.Bytes()},
		{"one byte at a time", s3}, // read through iotest.OneByteReader below
		{"byte order mark", append([]byte("\xef\xbb\xbf"), lines.Bytes()...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = bytes.NewReader(tt.in)
			if strings.HasPrefix(tt.name, "one byte") {
				r = iotest.OneByteReader(r)
			}
			res := decode(t, r, "in.json")
			if len(res.errs) > 0 {
				t.Fatalf("errors: %v", res.errs)
			}
			equalIDs(t, res.ids, ids)
			for i, e := range res.evs {
				if e.Origin.Index != i {
					t.Errorf("event %d: index %d", i, e.Origin.Index)
				}
				if e.Account != res.evs[0].Account || e.Account == "" || e.Region == "" || e.Time.IsZero() {
					t.Errorf("event %d: account %q region %q time %v", i, e.Account, e.Region, e.Time)
				}
			}
		})
	}
}

func asBytes(rs []json.RawMessage) [][]byte {
	out := make([][]byte, len(rs))
	for i, r := range rs {
		out[i] = r
	}
	return out
}

func TestDecodeFiles(t *testing.T) {
	tests := []struct {
		file    string
		events  int
		errs    []string // "index:problem", problem matched with errors.Is by name
		firstID string
	}{
		{gzFile, len(s3Records(t, gzFile)), nil, ""},
		{"SerializerTestFileCompact.json.gz", 6, nil, ""},
		{"aws.initial-access.console-login-without-mfa.json", 1, nil, ""},
		{"ListAccountAliases.json.cloudtrail", 1, nil, ""},
		{"otrf_ec2_proxy_s3_exfiltration.jsonl", 103, nil, "fd4f1042-c7f6-4107-a6ee-d841d92596e7"},
		{"cribl_BeVTW2.json", 44, nil, ""},
		{"SerializerVariousUserIdentityTestFile.json", 1, nil, ""},
		{"SerializerAllFieldsNull.json", 2, nil, ""},
		{"SerializerTestFileMissField.json", 4, nil, ""},
		{"SerializerTestFileBadJsonFormat.json", 0, []string{"0:ErrSyntax"}, ""},
		{"zmallen_aws.execution.ec2-user-data.json", 1, []string{"1:ErrSyntax"}, ""},
	}
	sentinels := map[string]error{"ErrSyntax": ErrSyntax}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			res := decode(t, f, tt.file)
			if len(res.evs) != tt.events {
				t.Errorf("%d events, want %d", len(res.evs), tt.events)
			}
			if tt.firstID != "" && (len(res.ids) == 0 || res.ids[0] != tt.firstID) {
				t.Errorf("first eventID %v, want %s", res.ids, tt.firstID)
			}
			if len(res.errs) != len(tt.errs) {
				t.Fatalf("errors %v, want %v", res.errs, tt.errs)
			}
			for i, want := range tt.errs {
				idx, name, _ := strings.Cut(want, ":")
				e := res.errs[i]
				if e.Name != tt.file || itoa(e.Index) != idx || !errors.Is(e, sentinels[name]) {
					t.Errorf("error %v, want %s", e, want)
				}
			}
		})
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

func TestDecodeBadRecords(t *testing.T) {
	recs := s3Records(t, invictusFile)[:4]
	ids := eventIDs(t, recs)
	r := func(i int) string { return string(recs[i]) }
	tests := []struct {
		name string
		in   string
		ids  []string
		errs []string // index:sentinel
		off  []int64  // offsets of errors, -1 not checked
	}{
		{"records array: scalar and bad time in the middle",
			`{"Records":[` + r(0) + `, 42 ,{"eventTime":"never"},` + r(1) + `]}`, ids[:2], []string{"1:ErrNotObject", "2:ErrNotRecord"}, []int64{14 + int64(len(r(0))), -1}},
		{"json lines: a broken line in the middle",
			r(0) + "\n" + `{"eventTime": "2020-01-01T00:00:00Z", "x": [1,}` + "\n" + r(1) + "\n", ids[:2], []string{"1:ErrSyntax"}, []int64{int64(len(r(0)) + 1)}},
		{"json lines: a line missing its close",
			compact(recs[0]) + "\n" + `{"eventTime": "2020-01-01T00:00:00Z"` + "\n" + compact(recs[1]) + "\n" + compact(recs[2]), ids[:3], []string{"1:ErrSyntax"}, []int64{-1}},
		{"top-level scalars", `1 "x" ` + r(0) + ` null [1, {"eventTime":"2020-01-01T00:00:00Z","eventID":"z"}]`, []string{ids[0], "z"},
			[]string{"0:ErrNotObject", "1:ErrNotObject", "3:ErrNotObject", "4:ErrNotObject"}, []int64{0, 2, -1, -1}},
		{"records array loses framing", `{"Records":[` + r(0) + `,` + r(1) + ` ` + r(2) + `]}`, ids[:2], []string{"2:ErrSyntax"}, []int64{-1}},
		{"truncated", `{"Records":[` + r(0) + `,` + r(1)[:40], ids[:1], []string{"1:ErrTruncated"}, []int64{13 + int64(len(r(0)))}},
		{"not json", `hello`, nil, []string{"0:ErrSyntax"}, []int64{0}},
		{"bad base64 line", "H4sI!!!!\n" + compact(recs[0]), ids[:1], []string{"0:ErrBadPayload"}, []int64{0}},
		{"cloudwatch logs message not json", `{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","timestamp":1,"message":"not json"},{"id":"2","timestamp":2,"message":` + jsonString(r(3)) + `}]}`,
			ids[3:4], []string{"0:ErrSyntax"}, []int64{-1}},
		{"empty", "", nil, nil, nil},
		{"space", " \n\t\r\n", nil, nil, nil},
		{"empty records", `{"Records":[]}` + "\n" + `{"Records":[ ]}`, nil, nil, nil},
		{"members after records", `{"Records":[` + r(0) + `],"x":{"y":[1,2]},"z":null}`, ids[:1], nil, nil},
	}
	sentinels := map[string]error{"ErrNotRecord": ErrNotRecord, "ErrSyntax": ErrSyntax, "ErrNotObject": ErrNotObject, "ErrTruncated": ErrTruncated, "ErrBadPayload": ErrBadPayload}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := decode(t, strings.NewReader(tt.in), "x.json")
			equalIDs(t, res.ids, tt.ids)
			if len(res.errs) != len(tt.errs) {
				t.Fatalf("errors %v, want %v", res.errs, tt.errs)
			}
			for i, want := range tt.errs {
				idx, name, _ := strings.Cut(want, ":")
				e := res.errs[i]
				if e.Name != "x.json" || itoa(e.Index) != idx || !errors.Is(e, sentinels[name]) {
					t.Errorf("error %v, want %s", e, want)
				}
				if tt.off[i] >= 0 && e.Offset != tt.off[i] {
					t.Errorf("error %v: offset %d, want %d", e, e.Offset, tt.off[i])
				}
			}
		})
	}
}

func compact(r json.RawMessage) string {
	var c bytes.Buffer
	json.Compact(&c, r)
	return c.String()
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestDecodeTruncatedGzip(t *testing.T) {
	s3 := readTestdata(t, invictusFile)
	recs := s3Records(t, invictusFile)
	z := gz(t, s3)
	cut := z[:len(z)*2/3]
	d := NewDecoder(bytes.NewReader(cut), "cut.json.gz")
	var n int
	var errs []error
	for {
		e, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if e.Origin.Index != n {
			t.Errorf("index %d, want %d", e.Origin.Index, n)
		}
		n++
	}
	if n == 0 || n >= len(recs) {
		t.Errorf("%d events of %d", n, len(recs))
	}
	var re *RecordError
	if len(errs) != 1 || !errors.As(errs[0], &re) || re.Name != "cut.json.gz" || re.Index != n || !errors.Is(errs[0], io.ErrUnexpectedEOF) {
		t.Errorf("errors %v, want one unexpected EOF at record %d", errs, n)
	}
	if d.BytesRead() != int64(len(cut)) {
		t.Errorf("BytesRead %d, want %d", d.BytesRead(), len(cut))
	}
	if _, err := d.Next(); err != io.EOF {
		t.Errorf("after the end: %v", err)
	}

	// A corrupt gzip header, and gzip with trailing garbage.
	res := decode(t, bytes.NewReader([]byte{0x1f, 0x8b, 0, 0, 0}), "bad.gz")
	if len(res.evs) != 0 || len(res.errs) != 1 {
		t.Errorf("bad header: %v", res.errs)
	}
	res = decode(t, bytes.NewReader(append(gz(t, s3), "garbage"...)), "trail.gz")
	if len(res.evs) != len(recs) || len(res.errs) != 1 {
		t.Errorf("trailing garbage: %d events, errors %v", len(res.evs), res.errs)
	}
}

func TestDecodeBytesRead(t *testing.T) {
	b := readTestdata(t, gzFile)
	d := NewDecoder(bytes.NewReader(b), gzFile)
	for {
		if _, err := d.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if d.BytesRead() != int64(len(b)) {
		t.Errorf("BytesRead %d, want %d", d.BytesRead(), len(b))
	}
}

func TestDecodeLargeRecord(t *testing.T) {
	big := strings.Repeat(`{"k":"`+strings.Repeat("x", 1000)+`"},`, 3000)
	rec := `{"eventTime":"2020-01-01T00:00:00Z","eventID":"big","requestParameters":[` + big + `1]}`
	in := `{"Records":[` + rec + `,` + rec + "]}\n" + rec
	res := decode(t, iotest.HalfReader(strings.NewReader(in)), "big.json")
	if len(res.errs) > 0 || len(res.evs) != 3 || string(res.evs[2].Record) != rec {
		t.Errorf("%d events, errors %v", len(res.evs), res.errs)
	}
}

func TestIsDigest(t *testing.T) {
	tests := map[string]bool{
		"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2025/03/06/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20250306T032000Z.json.gz": true,
		"111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20250306T032000Z.json.gz":                                                             true,
		`C:\logs\CloudTrail-Digest\x.json.gz`: true,
		"AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/06/111122223333_CloudTrail_us-east-1_20250306T0320Z_ZgdYr0lP8M9fWEH8.json.gz": false,
		"CloudTrail-Digest-notes/x.json": false,
		"":                               false,
	}
	for path, want := range tests {
		if got := IsDigest(path); got != want {
			t.Errorf("IsDigest(%q) = %v, want %v", path, got, want)
		}
	}
}

// Decoders reuse the buffers and gzip readers of closed ones: events read
// through reused state are the same, and stay valid after Close.
func TestDecoderReuseAfterClose(t *testing.T) {
	var plain bytes.Buffer
	plain.WriteString(`{"Records":[`)
	for i := 0; i < 50; i++ {
		if i > 0 {
			plain.WriteByte(',')
		}
		fmt.Fprintf(&plain, `{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:%02dZ","eventSource":"iam.amazonaws.com","eventName":"E%d","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"id-%d","eventType":"AwsApiCall","pad":"%s"}`, i%60, i, i, strings.Repeat("x", i*100))
	}
	plain.WriteString(`]}`)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain.Bytes())
	zw.Close()

	read := func(b []byte) []*Event {
		d := NewDecoder(bytes.NewReader(b), "x")
		defer d.Close()
		var evs []*Event
		for {
			e, err := d.Next()
			if err == io.EOF {
				return evs
			}
			if err == nil {
				evs = append(evs, e)
			}
		}
	}
	first := read(gz.Bytes())
	want := make([]string, len(first))
	for i, e := range first {
		want[i] = string(e.JSON)
	}
	for _, input := range [][]byte{plain.Bytes(), gz.Bytes(), []byte("garbage"), gz.Bytes()[:100], gz.Bytes()} {
		read(input)
	}
	again := read(gz.Bytes())
	if len(again) != 50 || len(first) != 50 {
		t.Fatalf("got %d and %d events, want 50", len(first), len(again))
	}
	for i := range first {
		if string(first[i].JSON) != want[i] || string(again[i].JSON) != want[i] {
			t.Fatalf("event %d changed after its decoder's state was reused", i)
		}
	}
}
