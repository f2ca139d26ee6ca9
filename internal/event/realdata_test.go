package event

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// realData is the shared corpus of real CloudTrail files, when present.
const realData = "../../../shared/data/cloudtrail/real"

// decodeAll reads every event and error of one input.
func decodeAll(t testing.TB, r io.Reader, name string) (evs []*Event, errs []error) {
	t.Helper()
	d := NewDecoder(r, name)
	for n := 0; ; n++ {
		if n > 1e6 {
			t.Fatalf("%s: decoder does not end", name)
		}
		e, err := d.Next()
		if err == io.EOF {
			return evs, errs
		}
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
				t.Errorf("%s: error %v is not a *RecordError", name, err)
			}
			errs = append(errs, err)
			continue
		}
		evs = append(evs, e)
	}
}

func TestDecodeRealData(t *testing.T) {
	if _, err := os.Stat(realData); err != nil {
		t.Skip("no shared real data")
	}
	var files, events int
	bySet := map[string]int{}
	err := filepath.WalkDir(realData, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || strings.HasSuffix(path, ".md") || strings.HasSuffix(path, ".tsv") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, _ := filepath.Rel(realData, path)
		evs, errs := decodeAll(t, f, rel)
		files++
		events += len(evs)
		bySet[strings.Split(rel, string(filepath.Separator))[0]] += len(evs)
		malformed := strings.Contains(rel, "zmallen") && strings.HasSuffix(rel, "aws.execution.ec2-user-data.json")
		switch {
		case malformed && len(errs) != 1:
			t.Errorf("%s: got errors %v, want the one malformed record reported", rel, errs)
		case malformed:
			t.Logf("reported: %v", errs[0])
		case len(errs) > 0:
			t.Errorf("%s: unexpected errors %v", rel, errs)
		}
		if fi, _ := de.Info(); len(evs) == 0 && fi.Size() > 8 {
			t.Errorf("%s: no events", rel)
		}
		for _, e := range evs {
			if e.EventID == "" || e.Time.IsZero() || e.Source == "aws." || len(e.Record) == 0 {
				t.Errorf("%s: record %d: incomplete event %+v", rel, e.Origin.Index, e)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d files, %d events: %v", files, events, bySet)
	if files < 400 || events < 3500 {
		t.Errorf("got %d files, %d events; want about 430 files and 3,700 events", files, events)
	}
}
