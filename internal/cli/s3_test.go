package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/source/s3src/s3srctest"
)

// awsTestEnv points the standard credential chain at static test
// credentials and away from the machine's AWS config and instance role.
// It uses t.Setenv, so its tests do not run in parallel.
func awsTestEnv(t testing.TB) {
	t.Setenv("AWS_ACCESS_KEY_ID", s3srctest.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3srctest.SecretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", s3srctest.Region)
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(os.DevNull, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(os.DevNull, "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

var s3Days = []time.Time{
	time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
	time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC),
	time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC),
}

// s3Fixture puts the example CloudTrail files (and the shared real ones
// when present) in a bucket in the CloudTrail layout over two accounts, two
// regions and three days, with a digest file and keys outside the layout,
// and writes the same tree to a directory.
func s3Fixture(t testing.TB, withShared bool) (srv *s3srctest.Server, placed []s3srctest.Placed, dir string) {
	t.Helper()
	srv = s3srctest.Start(t)
	srv.CreateBucket(t, "trail")
	files := s3srctest.RealFiles(t, "../..", withShared)
	placed = s3srctest.Layout(t, "", files, []string{"111122223333", "218007301253"}, []string{"eu-west-1", "us-east-1"}, s3Days)
	srv.Upload(t, "trail", placed)
	srv.Put(t, "trail", "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/21/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20261121T0100Z.json.gz", []byte("{}"))
	srv.Put(t, "trail", "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/21/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20261121T0101Z.json.gz", []byte("{}"))
	srv.Put(t, "trail", "README.txt", []byte("not a log"))
	dir = t.TempDir()
	s3srctest.WriteTree(t, dir, placed)
	return srv, placed, dir
}

// withoutFile drops the "file" member of JSON alert lines (an S3 URL or a
// path), keeping everything else byte for byte.
func withoutFile(t *testing.T, jsonl string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		if line == "" {
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		delete(m, "file")
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	return out
}

// scan s3://... gives exactly the alerts scan gives for the same files on
// disk, fetching only the objects the filters keep.
func TestScanS3SameAsDisk(t *testing.T) {
	awsTestEnv(t)
	srv, placed, dir := s3Fixture(t, true)
	since := "2026-11-21T00:00:00Z"
	var kept []string
	for _, p := range placed {
		if !p.Time.Before(s3Days[1]) && p.Account == "218007301253" {
			kept = append(kept, p.Key)
		}
	}
	sort.Strings(kept)
	var diskPaths []string
	for _, k := range kept {
		diskPaths = append(diskPaths, filepath.Join(dir, filepath.FromSlash(k)))
	}

	code, viaS3, errS3 := run(t, "", "scan", "--format", "json", "--since", since, "--accounts", "218007301253",
		"--endpoint-url", srv.URL, "s3://trail/")
	if code != ExitFound {
		t.Fatalf("s3: exit %d; stderr:\n%s", code, errS3)
	}
	code, onDisk, errDisk := run(t, "", append([]string{"scan", "--format", "json"}, diskPaths...)...)
	if code != ExitFound {
		t.Fatalf("disk: exit %d; stderr:\n%s", code, errDisk)
	}
	got, want := withoutFile(t, viaS3), withoutFile(t, onDisk)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("s3 gives %d alerts, disk %d; first difference:\n%s", len(got), len(want), diffLines(strings.Join(want, "\n"), strings.Join(got, "\n")))
	}
	if !strings.Contains(viaS3, `"file":"s3://trail/AWSLogs/218007301253/CloudTrail/`) {
		t.Error("alerts do not name their S3 object")
	}
	if fetched := srv.FetchedKeys(); !reflect.DeepEqual(fetched, kept) {
		t.Errorf("fetched %d object(s), want the %d kept:\n%q", len(fetched), len(kept), fetched)
	}
	wantSummary := fmt.Sprintf("scanned %d file(s)", len(kept))
	if !strings.Contains(errS3, wantSummary) || !strings.Contains(errS3, fmt.Sprintf("s3://trail/: %d object(s)", len(kept))) {
		t.Errorf("stderr lacks %q and the listing note:\n%s", wantSummary, errS3)
	}
	if !strings.Contains(errDisk, wantSummary) {
		t.Errorf("disk stderr lacks %q:\n%s", wantSummary, errDisk)
	}
	// The same filters on the directory tree pick the same files.
	code, dirFiltered, errDir := run(t, "", "scan", "--format", "json", "--since", since, "--accounts", "218007301253", dir)
	if code != ExitFound || !reflect.DeepEqual(withoutFile(t, dirFiltered), want) {
		t.Errorf("filtered directory: exit %d, %d alerts, want %d; stderr:\n%s", code, len(withoutFile(t, dirFiltered)), len(want), errDir)
	}
	// The whole bucket, text output, against the whole tree.
	code, allS3, errAll := run(t, "", "scan", "--endpoint-url", srv.URL, "--workers", "3", "s3://trail")
	if code != ExitFound {
		t.Fatalf("whole bucket: exit %d; stderr:\n%s", code, errAll)
	}
	_, allDisk, _ := run(t, "", "scan", dir)
	if allS3 != allDisk {
		t.Errorf("whole bucket differs from the tree:\n%s", diffLines(allDisk, allS3))
	}
	if !strings.Contains(errAll, "1 CloudTrail digest file(s) skipped") {
		t.Errorf("digest not reported as skipped:\n%s", errAll)
	}
}

// S3 objects and local files mix; alerts come in argument order, and an
// event met twice alerts once.
func TestScanS3MixedWithFiles(t *testing.T) {
	awsTestEnv(t)
	srv, placed, _ := s3Fixture(t, false)
	prefix := "s3://trail/AWSLogs/"
	code, mixed, errOut := run(t, "", "scan", "--format", "json", "--endpoint-url", srv.URL, examples, prefix)
	if code != ExitFound {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	_, local, _ := run(t, "", "scan", "--format", "json", examples)
	// The examples come first; the S3 copies of the same events are
	// duplicates, dropped.
	if got, want := rulesAndIDs(t, mixed), rulesAndIDs(t, local); !reflect.DeepEqual(got, want) {
		t.Errorf("mixed gives %d alerts, the examples %d", len(got), len(want))
	}
	if !strings.Contains(errOut, "duplicate(s) dropped") {
		t.Errorf("no duplicates reported:\n%s", errOut)
	}
	n := 0
	for _, p := range placed {
		if strings.HasPrefix("s3://trail/"+p.Key, prefix) {
			n++
		}
	}
	if want := fmt.Sprintf("scanned %d file(s)", 5+n); !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
}

func TestScanS3MissingBucket(t *testing.T) {
	awsTestEnv(t)
	srv := s3srctest.Start(t)
	code, out, errOut := run(t, "", "scan", "--endpoint-url", srv.URL, "s3://no-such-bucket/AWSLogs/")
	if code != ExitFailure {
		t.Errorf("exit %d, want %d", code, ExitFailure)
	}
	if out != "" {
		t.Errorf("stdout: %q", out)
	}
	if !strings.Contains(errOut, "s3://no-such-bucket/") || !strings.Contains(errOut, "bucket does not exist") {
		t.Errorf("stderr does not say the bucket is missing:\n%s", errOut)
	}
	// Other inputs are still scanned.
	code, out, errOut = run(t, "", "scan", "--endpoint-url", srv.URL, "s3://no-such-bucket", examples)
	if code != ExitFailure || !strings.Contains(out, "RULE") || !strings.Contains(errOut, "scanned 5 file(s)") {
		t.Errorf("exit %d; stdout %d bytes; stderr:\n%s", code, len(out), errOut)
	}
}

// A corrupt object is reported with its key and record index; the rest of
// it and the other objects count.
func TestScanS3CorruptObject(t *testing.T) {
	awsTestEnv(t)
	srv, placed, _ := s3Fixture(t, false)
	// A log file whose second record is broken, and a truncated gzip.
	key := "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/22/111122223333_CloudTrail_eu-west-1_20261122T2300Z_BadRecord0000001.json.gz"
	rec := `{"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"DeleteTrail","eventType":"AwsApiCall","eventTime":"2026-11-22T22:55:00Z","awsRegion":"eu-west-1","recipientAccountId":"111122223333","eventID":"ok-1","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root"}}`
	srv.Put(t, "trail", key, gz(`{"Records":[`+rec+`,42,`+strings.Replace(rec, "ok-1", "ok-2", 1)+`]}`))
	truncKey := "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/22/111122223333_CloudTrail_eu-west-1_20261122T2305Z_Truncated0000001.json.gz"
	whole := placed[0].Body
	srv.Put(t, "trail", truncKey, whole[:len(whole)/2])

	code, out, errOut := run(t, "", "scan", "--format", "json", "--endpoint-url", srv.URL, "--since", "2026-11-22T00:00:00Z", "s3://trail/")
	if code != ExitFound {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "s3://trail/"+key+": record 1") {
		t.Errorf("stderr does not name the bad record:\n%s", errOut)
	}
	if !strings.Contains(errOut, "s3://trail/"+truncKey+": record ") {
		t.Errorf("stderr does not name the truncated object:\n%s", errOut)
	}
	if !strings.Contains(errOut, "2 unreadable record(s) or file(s)") {
		t.Errorf("summary does not count the errors:\n%s", errOut)
	}
	if !strings.Contains(out, `"event_id":"ok-2"`) {
		t.Error("the record after the bad one did not count")
	}
	if code, _, _ := run(t, "", "scan", "--strict", "--endpoint-url", srv.URL, "--since", "2026-11-22T00:00:00Z", "s3://trail/"); code != ExitFailure {
		t.Errorf("--strict: exit %d, want %d", code, ExitFailure)
	}
}

func gz(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

func TestScanS3BadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"scan", "--since", "yesterday", examples},
		{"scan", "--until", "7x", examples},
		{"scan", "--since", "1d", "--until", "2d", examples},
		{"scan", "s3://"},
	} {
		code, _, errOut := run(t, "", args...)
		if code != ExitFailure || errOut == "" {
			t.Errorf("%q: exit %d; stderr %q", args, code, errOut)
		}
	}
}

// The progress line of an S3 scan: objects, bytes, events/s and ETA.
func TestObjectProgressLine(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	s := &scanner{start: start, files: 40, totalBytes: 4 << 20}
	s.filesDone.Store(10)
	s.bytesRead.Store(1 << 20)
	s.events.Store(5000)
	got := s.objectLine(start.Add(10 * time.Second))
	want := "[======                  ] objects 10/40  1.0 MiB/4.0 MiB  5000 events  500 events/s  ETA 30s"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	s.filesDone.Store(40)
	s.bytesRead.Store(4 << 20)
	if got := s.objectLine(start.Add(40 * time.Second)); !strings.HasSuffix(got, "ETA 0s") {
		t.Errorf("done: %q", got)
	}
	s = &scanner{start: start, files: 1, totalBytes: 100}
	if got := s.objectLine(start); !strings.HasSuffix(got, "ETA -") {
		t.Errorf("start: %q", got)
	}
}

// BenchmarkBackfill scans a local bucket of real CloudTrail files (the
// examples and, when present, the shared invictus-ir data set) through
// the SDK: objects/s and events/s.
func BenchmarkBackfill(b *testing.B) {
	awsTestEnv(b)
	srv, placed, _ := s3Fixture(b, true)
	var size int64
	for _, p := range placed {
		size += int64(len(p.Body))
	}
	for _, workers := range []string{"4", "16"} {
		b.Run("workers="+workers, func(b *testing.B) {
			b.SetBytes(size)
			var events int64
			for b.Loop() {
				var errb bytes.Buffer
				env := &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &errb, Now: time.Now}
				if code := Main(context.Background(), []string{"scan", "--format", "json", "--workers", workers, "--endpoint-url", srv.URL, "s3://trail/"}, env); code == ExitFailure {
					b.Fatalf("exit %d: %s", code, errb.String())
				}
				var n, files int64
				var alerts int
				line := errb.String()[strings.Index(errb.String(), "scanned "):]
				fmt.Sscanf(line, "scanned %d file(s), %d event(s), %d alert(s)", &files, &n, &alerts)
				events += n
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(len(placed))*float64(b.N)/sec, "objects/s")
			b.ReportMetric(float64(events)/sec, "events/s")
		})
	}
}
