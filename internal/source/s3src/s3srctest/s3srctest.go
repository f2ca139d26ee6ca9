// Package s3srctest runs an S3-compatible server (gofakes3 with its
// in-memory backend) on 127.0.0.1 for tests, counts the object GETs it
// serves, and lays real CloudTrail files out in a bucket as CloudTrail
// delivers them.
package s3srctest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Access key and secret the server accepts (gofakes3 accepts any).
const (
	AccessKey = "AKIDTRAILWATCHTEST"
	SecretKey = "trailwatch-test-secret"
	Region    = "us-east-1"
)

// Server is a running S3-compatible server.
type Server struct {
	URL string // http://127.0.0.1:port

	gets  atomic.Int64
	lists atomic.Int64
	mu    sync.Mutex
	keys  []string // object keys fetched, in arrival order
}

// Start starts a server that stops when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	faker := gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(false))
	s := &Server{}
	inner := faker.Server()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
			switch {
			case bucket != "" && key != "":
				s.gets.Add(1)
				s.mu.Lock()
				s.keys = append(s.keys, key)
				s.mu.Unlock()
			case bucket != "":
				s.lists.Add(1)
			}
		}
		inner.ServeHTTP(w, r)
	}))
	tb.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// Gets returns the number of object GETs served so far.
func (s *Server) Gets() int64 { return s.gets.Load() }

// Lists returns the number of bucket GETs (listings) served so far.
func (s *Server) Lists() int64 { return s.lists.Load() }

// FetchedKeys returns the keys of the objects fetched so far, sorted.
func (s *Server) FetchedKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := append([]string(nil), s.keys...)
	sort.Strings(k)
	return k
}

// Client returns an SDK client for the server, with static credentials and
// path-style addressing.
func (s *Server) Client() *s3.Client {
	return s3.NewFromConfig(aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
	}, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(s.URL)
		o.UsePathStyle = true
	})
}

// CreateBucket creates a bucket.
func (s *Server) CreateBucket(tb testing.TB, bucket string) {
	tb.Helper()
	if _, err := s.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		tb.Fatalf("create bucket %s: %v", bucket, err)
	}
}

// Put stores an object.
func (s *Server) Put(tb testing.TB, bucket, key string, body []byte) {
	tb.Helper()
	_, err := s.Client().PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		tb.Fatalf("put %s: %v", key, err)
	}
}

// Placed is a local file put at a key.
type Placed struct {
	Key     string
	Path    string // the source file
	Account string
	Region  string
	Time    time.Time // delivery time in the name
	Body    []byte    // gzipped, as uploaded
}

// Layout places files in the CloudTrail layout under prefix (which ends in
// "/" or is empty): file i goes to accounts[i%len], regions[(i/len(accounts))%len]
// and days[i/(len(accounts)*len(regions))%len], delivered at 01:00 + i
// minutes. Files not gzipped are gzipped.
func Layout(tb testing.TB, prefix string, files, accounts, regions []string, days []time.Time) []Placed {
	tb.Helper()
	var out []Placed
	na, nr := len(accounts), len(regions)
	for i, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(b)
			zw.Close()
			b = z.Bytes()
		}
		acct, region := accounts[i%na], regions[(i/na)%nr]
		day := days[(i/(na*nr))%len(days)]
		t := day.Add(time.Hour + time.Duration(i)*time.Minute)
		key := fmt.Sprintf("%sAWSLogs/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%s.json.gz",
			prefix, acct, region, t.Format("2006/01/02"), acct, region, t.Format("20060102T1504Z"), id(i))
		out = append(out, Placed{Key: key, Path: path, Account: acct, Region: region, Time: t, Body: b})
	}
	return out
}

// id makes a CloudTrail-like 16-character file id.
func id(i int) string {
	return fmt.Sprintf("Tw%014d", i)
}

// Upload puts placed files in a bucket.
func (s *Server) Upload(tb testing.TB, bucket string, placed []Placed) {
	tb.Helper()
	for _, p := range placed {
		s.Put(tb, bucket, p.Key, p.Body)
	}
}

// WriteTree writes placed files under dir at their keys, as `aws s3 sync`
// would download them.
func WriteTree(tb testing.TB, dir string, placed []Placed) {
	tb.Helper()
	for _, p := range placed {
		path := filepath.Join(dir, filepath.FromSlash(p.Key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, p.Body, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// RealFiles returns the CloudTrail log files of the repository's examples
// and, when present, of the invictus-ir data set in ../shared/data beside
// the repository; root is the path to the repository from the test's
// directory.
func RealFiles(tb testing.TB, root string, withShared bool) []string {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join(root, "examples/cloudtrail/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"))
	if len(files) == 0 {
		tb.Fatalf("no example files under %s", root)
	}
	if withShared {
		more, _ := filepath.Glob(filepath.Join(root, "../shared/data/cloudtrail/real/invictus-ir_aws_dataset/CloudTrail/*.json"))
		sort.Strings(more)
		files = append(files, more...)
	}
	return files
}
