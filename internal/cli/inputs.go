package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/trailwatch/trailwatch/internal/event"
)

// input is one file (or stdin) to scan.
type input struct {
	path string // "-" for stdin
	size int64  // bytes on disk; 0 when unknown
}

// logExtensions are the file names a directory walk picks up: CloudTrail
// delivers .json.gz; exports and tools write .json, .jsonl and friends.
var logExtensions = []string{".json", ".gz", ".jsonl", ".ndjson", ".cloudtrail", ".log"}

func isLogName(name string) bool {
	lower := strings.ToLower(name)
	for _, ext := range logExtensions {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}

// collectInputs expands paths into the files to read, in a stable order:
// arguments in the order given, directories walked in lexical order.
// A file named explicitly is always read; inside directories only log-like
// names are, and hidden entries and CloudTrail digest files are skipped.
// Notes about skipped files go to note.
func collectInputs(paths []string, note func(string)) ([]input, error) {
	var ins []input
	var errs []string
	for _, p := range paths {
		if p == "-" {
			ins = append(ins, input{path: "-"})
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if !fi.IsDir() {
			if event.IsDigest(p) {
				note(fmt.Sprintf("%s: CloudTrail digest file, skipped", p))
				continue
			}
			ins = append(ins, input{path: p, size: fi.Size()})
			continue
		}
		digests := 0
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, err.Error())
				return nil
			}
			name := d.Name()
			if path != p && strings.HasPrefix(name, ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || !d.Type().IsRegular() || !isLogName(name) {
				return nil
			}
			if event.IsDigest(path) {
				digests++
				return nil
			}
			info, err := d.Info()
			if err != nil {
				errs = append(errs, err.Error())
				return nil
			}
			ins = append(ins, input{path: path, size: info.Size()})
			return nil
		})
		if err != nil {
			errs = append(errs, err.Error())
		}
		if digests > 0 {
			note(fmt.Sprintf("%s: %d CloudTrail digest file(s) skipped", p, digests))
		}
	}
	if len(errs) > 0 {
		return ins, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return ins, nil
}
