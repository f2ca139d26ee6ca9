package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkScan runs `trailwatch scan --format json` with the built-in packs
// over the real CloudTrail files in ../shared/data (about 3,700 records),
// with one worker and with all of them. scripts/bench compares whole-binary
// throughput with gzip -dc.
func BenchmarkScan(b *testing.B) {
	dir := "../../../shared/data/cloudtrail/real"
	if _, err := os.Stat(dir); err != nil {
		b.Skip("no ../shared/data beside the repository")
	}
	var size int64
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && isLogName(d.Name()) {
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
			}
		}
		return nil
	})
	for _, workers := range []string{"1", "2"} {
		b.Run("workers="+workers, func(b *testing.B) {
			b.SetBytes(size)
			env := &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Now: time.Now}
			for b.Loop() {
				if code := Main(context.Background(), []string{"scan", "--format", "json", "--quiet", "--workers", workers, dir}, env); code == ExitFailure {
					b.Fatalf("exit %d", code)
				}
			}
		})
	}
}
