// Command genlogs writes a volume of CloudTrail log files for benchmarks by
// replicating real records (from ../shared/data/cloudtrail/real by default)
// with fresh eventIDs and times, into S3-layout .json.gz files of a few
// hundred records each, as CloudTrail delivers them.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/event"
)

func main() {
	src := flag.String("src", "../shared/data/cloudtrail/real", "directory of real CloudTrail files to replicate")
	out := flag.String("out", ".bench/logs", "output directory")
	records := flag.Int("records", 100000, "records to write")
	perFile := flag.Int("per-file", 300, "records per file")
	flag.Parse()
	log.SetFlags(0)

	recs, err := readRecords(*src)
	if err != nil {
		log.Fatal(err)
	}
	if len(recs) == 0 {
		log.Fatalf("genlogs: no records under %s", *src)
	}
	if err := os.RemoveAll(*out); err != nil {
		log.Fatal(err)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	files := 0
	for n := 0; n < *records; {
		buf.Reset()
		buf.WriteString(`{"Records":[`)
		for i := 0; i < *perFile && n < *records; i, n = i+1, n+1 {
			if i > 0 {
				buf.WriteByte(',')
			}
			r := recs[n%len(recs)]
			rec := r.raw
			if r.id != "" {
				rec = bytes.ReplaceAll(rec, []byte(r.id), []byte(uuid(n)))
			}
			if r.time != "" {
				t := base.Add(time.Duration(n) * 100 * time.Millisecond).Format(time.RFC3339)
				rec = bytes.Replace(rec, []byte(`"`+r.time+`"`), []byte(`"`+t+`"`), 1)
			}
			buf.Write(rec)
		}
		buf.WriteString("]}")
		t := base.Add(time.Duration(files) * 5 * time.Minute)
		dir := filepath.Join(*out, "AWSLogs", "123456789012", "CloudTrail", "us-east-1", t.Format("2006/01/02"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			log.Fatal(err)
		}
		name := fmt.Sprintf("123456789012_CloudTrail_us-east-1_%s_%08d.json.gz", t.Format("20060102T1504Z"), files)
		if err := writeGzip(filepath.Join(dir, name), buf.Bytes()); err != nil {
			log.Fatal(err)
		}
		files++
	}
	fmt.Printf("genlogs: %d records from %d originals in %d files under %s\n", *records, len(recs), files, *out)
}

type record struct {
	raw      []byte
	id, time string
}

func readRecords(root string) ([]record, error) {
	var recs []record
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || event.IsDigest(path) {
			return err
		}
		if strings.HasSuffix(path, ".md") || strings.HasSuffix(path, ".tsv") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		dec := event.NewDecoder(f, path)
		for {
			ev, err := dec.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil || ev.Record == nil {
				continue // the real data has one malformed file: skip what does not decode
			}
			recs = append(recs, record{
				raw:  bytes.Clone(ev.Record),
				id:   ev.EventID,
				time: findTime(ev.Record),
			})
		}
	})
	return recs, err
}

// findTime returns the record's eventTime text, to be replaced.
func findTime(rec []byte) string {
	const key = `"eventTime":`
	i := bytes.Index(rec, []byte(key))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(rec[i+len(key):], " ")
	if len(rest) == 0 || rest[0] != '"' {
		return ""
	}
	j := bytes.IndexByte(rest[1:], '"')
	if j < 0 {
		return ""
	}
	return string(rest[1 : 1+j])
}

// uuid is a deterministic version-5-style UUID for record n.
func uuid(n int) string {
	h := sha1.Sum([]byte(fmt.Sprintf("trailwatch-bench-%d", n)))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func writeGzip(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
