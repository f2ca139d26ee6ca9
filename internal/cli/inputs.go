package cli

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/source/s3src"
)

// input is one file (or stdin, or an S3 object) to scan.
type input struct {
	path string // "-" for stdin; s3://bucket/key for an object
	size int64  // bytes on disk or in S3; 0 when unknown

	obj    *s3src.Object // set for an S3 object
	client s3src.Client  // reads obj
}

// inputOptions says how to read s3:// arguments and which CloudTrail log
// files to keep (by account, region and delivery time).
type inputOptions struct {
	s3       s3src.Options // Bucket and Prefix are set per argument
	filtered bool          // whether --accounts, --regions, --since or --until were given
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
//
// An s3://bucket/prefix argument lists the bucket (see s3src.List); with
// the filter flags, local files with CloudTrail log file names are
// filtered the same way.
func collectInputs(ctx context.Context, paths []string, opts inputOptions, note func(string)) ([]input, error) {
	var ins []input
	var errs []string
	keep := func(string) bool { return true }
	if opts.filtered {
		keep = opts.s3.Filter()
	}
	clients := map[string]s3src.Client{}
	for _, p := range paths {
		if p == "-" {
			ins = append(ins, input{path: "-"})
			continue
		}
		if strings.HasPrefix(p, "s3://") {
			objs, err := listS3(ctx, p, opts.s3, clients, note)
			if err != nil {
				errs = append(errs, err.Error())
			}
			ins = append(ins, objs...)
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
			if keep(p) {
				ins = append(ins, input{path: p, size: fi.Size()})
			}
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
			if !keep(name) {
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

// listS3 lists the objects of an s3://bucket/prefix argument, with one
// client per bucket (buckets may be in different regions).
func listS3(ctx context.Context, url string, o s3src.Options, clients map[string]s3src.Client, note func(string)) ([]input, error) {
	bucket, prefix, err := s3src.ParseURL(url)
	if err != nil {
		return nil, err
	}
	o.Bucket, o.Prefix = bucket, prefix
	c, ok := clients[bucket]
	if !ok {
		sc, err := s3src.NewClient(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", url, err)
		}
		c = sc
		clients[bucket] = c
	}
	objs, st, err := s3src.List(ctx, c, o)
	if err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("%s: %d object(s), %s", url, st.Objects, humanBytes(st.Bytes))
	if st.Filtered > 0 {
		msg += fmt.Sprintf("; %d folder(s) or file(s) left out by account, region or time", st.Filtered)
	}
	if st.Digests > 0 {
		msg += fmt.Sprintf("; %d CloudTrail digest file(s) skipped", st.Digests)
	}
	if !st.Layout && st.Objects > 0 {
		msg += " (not in the CloudTrail layout: listed as is)"
	}
	note(msg)
	ins := make([]input, len(objs))
	for i := range objs {
		ins[i] = input{path: objs[i].URL(), size: objs[i].Size, obj: &objs[i], client: c}
	}
	return ins, nil
}
