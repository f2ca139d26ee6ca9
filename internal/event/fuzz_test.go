package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"testing"
)

// fuzzSeeds are small inputs of every form.
func fuzzSeeds(f *testing.F) {
	for _, name := range []string{
		"333333333333_CloudTrail_us-east-1_20250306T0320Z_ZgdYr0lP8M9fWEH8.json.gz",
		"SerializerTestFileCompact.json.gz",
		"SerializerTestFileBadJsonFormat.json",
		"aws.defense-evasion.cloudtrail-stop.json",
		"ListAccountAliases.json.cloudtrail",
		"zmallen_aws.defense-evasion.cloudtrail-delete.json",
	} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	e, _ := FromRecord([]byte(createBucket))
	f.Add(e.JSON)
	f.Add([]byte(createBucket + "\n" + createBucket))
	f.Add([]byte(`[{"_raw":"{\"eventTime\":\"2020-01-01T00:00:00Z\"}"}]`))
	f.Add([]byte(`{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","timestamp":1,"message":"{\"eventTime\":\"2020-01-01T00:00:00Z\"}"}]}`))
	f.Add([]byte(`{"awslogs":{"data":"H4sIAAAAAAAA/6tWyk0tLk5MT1WyUkrOz0vOLEgtSsxJTVGqBQAmTAc3HQAAAA=="}}`))
	f.Add([]byte("H4sIAAAAAAAA/6tWyk0tLk5MT1WyUkrOz0vOLEgtSsxJTVGqBQAmTAc3HQAAAA==\n"))
	f.Add([]byte(`1 "x" null [1,{}] {"Records":[{},2]} {`))
}

func FuzzDecoder(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(bytes.NewReader(data), "fuzz")
		// Every call consumes input or ends: far fewer calls than bytes
		// (nested payloads can expand, hence the slack).
		limit := 64*len(data) + 16
		last := -1
		for n := 0; ; n++ {
			if n > limit {
				t.Fatalf("more than %d results from %d bytes", limit, len(data))
			}
			e, err := d.Next()
			if err == io.EOF {
				break
			}
			var re *RecordError
			if err != nil {
				if !errors.As(err, &re) || re.Name != "fuzz" {
					t.Fatalf("error %v is not a *RecordError", err)
				}
				if re.Index < last {
					t.Fatalf("index went back: %d after %d", re.Index, last)
				}
				last = re.Index
				continue
			}
			if !json.Valid(e.JSON) || e.Record != nil && !json.Valid(e.Record) {
				t.Fatalf("invalid JSON out: %q", e.JSON)
			}
			if e.Origin.Index <= last {
				t.Fatalf("index %d after %d", e.Origin.Index, last)
			}
			last = e.Origin.Index
		}
		if _, err := d.Next(); err != io.EOF {
			t.Fatalf("after io.EOF: %v", err)
		}
	})
}

func FuzzFromRecord(f *testing.F) {
	fuzzSeeds(f)
	f.Add([]byte(`{"eventTime":"2025-01-20 15:59:33.000000000","eventSource":"s\u0033.amazonaws.com","awsRegion":"\ud83d\ude00","eventID":"\"","readOnly":true}`))
	f.Add([]byte(`{"eventTime":"2020-01-01T00:00:00Z","a":[[[[{"b":-1.5e+3}]]]],"c":"\u00e9"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := FromRecord(data)
		valid := json.Valid(data)
		if err != nil {
			if valid && errors.Is(err, ErrSyntax) {
				t.Fatalf("valid JSON rejected: %v", err)
			}
			return
		}
		if !valid {
			t.Fatalf("invalid JSON accepted: %q", data)
		}
		if !json.Valid(e.JSON) || !bytes.Equal(e.Record, bytes.TrimSpace(data)) {
			t.Fatalf("bad event for %q: %s", data, e.JSON)
		}
		_ = e.Facts()
		if _, err := FromEnvelope(e.JSON); err != nil {
			t.Fatalf("own envelope rejected: %v", err)
		}
	})
}

// FuzzScan checks the scanner against encoding/json.
func FuzzScan(f *testing.F) {
	fuzzSeeds(f)
	for _, s := range []string{`0`, `-0.5e-10`, `"\u12"`, `[1,]`, `{"a" 1}`, `tru`, `1.`, `[]`, `{}`, "\"\x01\"", `"\/"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s scanner
		b := bytes.Trim(data, " \t\r\n")
		end, err := s.valueEnd(b, 0, true)
		got := err == nil && end == len(b)
		if want := json.Valid(data); got != want && !errors.Is(err, ErrTooDeep) {
			t.Fatalf("scan %q: end %d err %v; json.Valid %v", data, end, err, want)
		}
	})
}
