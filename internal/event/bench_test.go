package event

import (
	"bytes"
	stdgzip "compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// benchInputs are the real S3 log files: the uncompressed invictus-ir files
// as they are and gzipped (as CloudTrail delivers them), and the real
// .json.gz files. Falls back to testdata without the shared data.
func benchInputs(b *testing.B) map[string][][]byte {
	in := map[string][][]byte{}
	jsons, _ := filepath.Glob(filepath.Join(realData, "invictus-ir_aws_dataset/CloudTrail/*.json"))
	gzs, _ := filepath.Glob(filepath.Join(realData, "ccbrown_cloud-snitch/aws-cloudtrail-logs/AWSLogs/*/*/*/*/*/*/*.json.gz"))
	gzs2, _ := filepath.Glob(filepath.Join(realData, "ccbrown_cloud-snitch/aws-cloudtrail-logs/AWSLogs/*/*/*/*/*/*/*/*.json.gz"))
	gzs = append(gzs, gzs2...)
	if len(jsons) == 0 {
		jsons = []string{"testdata/" + invictusFile}
		gzs = []string{"testdata/" + gzFile}
	}
	for _, p := range jsons {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		in["json"] = append(in["json"], data)
		in["json.gz"] = append(in["json.gz"], gz(b, data))
	}
	for _, p := range gzs {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		in["real.json.gz"] = append(in["real.json.gz"], data)
	}
	return in
}

// BenchmarkDecode decodes whole files; SetBytes counts the input bytes as
// read (compressed for gzip).
func BenchmarkDecode(b *testing.B) {
	in := benchInputs(b)
	for _, form := range []string{"json", "json.gz", "real.json.gz"} {
		files := in[form]
		var size int64
		for _, f := range files {
			size += int64(len(f))
		}
		b.Run(form, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			var n int
			for b.Loop() {
				n = 0
				for _, f := range files {
					d := NewDecoder(bytes.NewReader(f), "bench")
					for {
						_, err := d.Next()
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
						n++
					}
					d.Close()
				}
			}
			b.ReportMetric(float64(n), "events/op")
		})
	}
}

// BenchmarkGunzip is decompression alone, for comparison with
// BenchmarkDecode/json.gz: klauspost's gzip and the standard library's.
func BenchmarkGunzip(b *testing.B) {
	files := benchInputs(b)["json.gz"]
	var size int64
	for _, f := range files {
		size += int64(len(f))
	}
	buf := make([]byte, 256<<10)
	b.Run("klauspost", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for _, f := range files {
				r, err := gzip.NewReader(bytes.NewReader(f))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.CopyBuffer(io.Discard, r, buf); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for _, f := range files {
				r, err := stdgzip.NewReader(bytes.NewReader(f))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
