package s3src_test

import (
	"context"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/source/s3src"
	"github.com/trailwatch/trailwatch/internal/source/s3src/s3srctest"
)

var (
	accounts = []string{"111122223333", "218007301253"}
	regions  = []string{"eu-west-1", "us-east-1"}
	days     = []time.Time{
		time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC),
	}
)

const bucket = "trail-bucket"

// fixture is a bucket with the example files (and the shared real ones
// when present) over two accounts, two regions and three days, under an
// organization trail's prefix and without one, plus a digest file and
// keys outside the layout.
type fixture struct {
	srv    *s3srctest.Server
	placed []s3srctest.Placed // at the bucket's root
	org    []s3srctest.Placed // under trails/AWSLogs/o-abc123def4/
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := s3srctest.Start(t)
	srv.CreateBucket(t, bucket)
	files := s3srctest.RealFiles(t, "../../..", false)
	// Enough files for every account, region and day.
	for len(files) < 12 {
		files = append(files, files...)
	}
	f := &fixture{srv: srv}
	f.placed = s3srctest.Layout(t, "", files[:12], accounts, regions, days)
	f.org = s3srctest.Layout(t, "trails/AWSLogs/o-abc123def4/", files[:4], accounts, regions, days[:1])
	for i := range f.org {
		f.org[i].Key = strings.Replace(f.org[i].Key, "trails/AWSLogs/o-abc123def4/AWSLogs/", "trails/AWSLogs/o-abc123def4/", 1)
	}
	srv.Upload(t, bucket, f.placed)
	srv.Upload(t, bucket, f.org)
	srv.Put(t, bucket, "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/20/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20261120T0100Z.json.gz", []byte("{}"))
	srv.Put(t, bucket, "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20261120T0101Z.json.gz", []byte("{}"))
	srv.Put(t, bucket, "README.txt", []byte("not a log"))
	srv.Put(t, bucket, "AWSLogs/111122223333/elasticloadbalancing/us-east-1/2026/11/20/elb.log", []byte("not cloudtrail"))
	srv.Put(t, bucket, "exports/one.json", []byte(`{"Records":[]}`))
	srv.Put(t, bucket, "exports/111122223333_CloudTrail_us-east-1_20261120T0100Z_x.json.gz", []byte(`{"Records":[]}`))
	return f
}

func keys(objs []s3src.Object) []string {
	var k []string
	for _, o := range objs {
		k = append(k, o.Key)
	}
	return k
}

func placedKeys(ps []s3srctest.Placed, keep func(s3srctest.Placed) bool) []string {
	var k []string
	for _, p := range ps {
		if keep(p) {
			k = append(k, p.Key)
		}
	}
	slices.Sort(k)
	return k
}

func TestList(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.srv.Client()
	all := func(s3srctest.Placed) bool { return true }
	tests := []struct {
		name   string
		opts   s3src.Options
		want   []string
		layout bool
	}{
		{"whole bucket", s3src.Options{}, placedKeys(f.placed, all), true},
		{"account", s3src.Options{Accounts: []string{"218007301253"}},
			placedKeys(f.placed, func(p s3srctest.Placed) bool { return p.Account == "218007301253" }), true},
		{"region", s3src.Options{Regions: []string{"eu-west-1"}},
			placedKeys(f.placed, func(p s3srctest.Placed) bool { return p.Region == "eu-west-1" }), true},
		{"account and regions", s3src.Options{Accounts: []string{"111122223333"}, Regions: []string{"eu-west-1", "us-east-1"}},
			placedKeys(f.placed, func(p s3srctest.Placed) bool { return p.Account == "111122223333" }), true},
		{"since a day", s3src.Options{Since: days[1]},
			placedKeys(f.placed, func(p s3srctest.Placed) bool { return !p.Time.Before(days[1]) }), true},
		{"until a day", s3src.Options{Until: days[1]},
			placedKeys(f.placed, func(p s3srctest.Placed) bool { return p.Time.Before(days[1]) }), true},
		{"one day", s3src.Options{Since: days[1], Until: days[2]},
			placedKeys(f.placed, func(p s3srctest.Placed) bool { return p.Time.Day() == 21 }), true},
		{"since within a day's files", s3src.Options{Since: f.placed[9].Time},
			placedKeys(f.placed, func(p s3srctest.Placed) bool { return !p.Time.Before(f.placed[9].Time) }), true},
		{"until covers the delivery lag", s3src.Options{Until: f.placed[3].Time.Add(-s3src.DeliveryLag)},
			placedKeys(f.placed, func(p s3srctest.Placed) bool { return p.Time.Before(f.placed[3].Time) }), true},
		{"prefix at a region", s3src.Options{Prefix: "AWSLogs/218007301253/CloudTrail/us-east-1/"},
			placedKeys(f.placed, func(p s3srctest.Placed) bool { return p.Account == "218007301253" && p.Region == "us-east-1" }), true},
		{"prefix inside a day name", s3src.Options{Prefix: "AWSLogs/218007301253/CloudTrail/us-east-1/2026/11/2"},
			placedKeys(f.placed, func(p s3srctest.Placed) bool { return p.Account == "218007301253" && p.Region == "us-east-1" }), true},
		{"prefix at a day", s3src.Options{Prefix: "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/21/"},
			placedKeys(f.placed, func(p s3srctest.Placed) bool {
				return p.Account == "111122223333" && p.Region == "eu-west-1" && p.Time.Day() == 21
			}), true},
		{"prefix at a day, filtered out", s3src.Options{Prefix: "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/21/", Since: days[2]}, nil, true},
		{"organization trail", s3src.Options{Prefix: "trails"}, placedKeys(f.org, all), true},
		{"organization trail, one account", s3src.Options{Prefix: "trails/", Accounts: []string{"218007301253"}},
			placedKeys(f.org, func(p s3srctest.Placed) bool { return p.Account == "218007301253" }), true},
		{"organization", s3src.Options{Prefix: "trails/AWSLogs/o-abc123def4/111122223333/"},
			placedKeys(f.org, func(p s3srctest.Placed) bool { return p.Account == "111122223333" }), true},
		{"not the layout", s3src.Options{Prefix: "exports/"},
			[]string{"exports/111122223333_CloudTrail_us-east-1_20261120T0100Z_x.json.gz", "exports/one.json"}, false},
		{"not the layout, names filtered", s3src.Options{Prefix: "exports/", Regions: []string{"eu-west-1"}},
			[]string{"exports/one.json"}, false},
		{"nothing there", s3src.Options{Prefix: "nothing/"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := tt.opts
			o.Bucket = bucket
			objs, st, err := s3src.List(context.Background(), c, o)
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(objs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %d keys, want %d:\n got %q\nwant %q", len(got), len(tt.want), got, tt.want)
			}
			if st.Layout != tt.layout {
				t.Errorf("Layout = %v, want %v", st.Layout, tt.layout)
			}
			if st.Objects != len(objs) {
				t.Errorf("Stats.Objects = %d, want %d", st.Objects, len(objs))
			}
			var size int64
			for _, ob := range objs {
				size += ob.Size
				if ob.Bucket != bucket || ob.Size <= 0 || ob.LastModified.IsZero() {
					t.Errorf("object %+v", ob)
				}
			}
			if st.Bytes != size {
				t.Errorf("Stats.Bytes = %d, want %d", st.Bytes, size)
			}
		})
	}
}

// Filters skip whole folders: a listing never fetches an object, and one
// day of one region of one account costs a handful of listings however
// many other days, regions and accounts there are.
func TestListSkipsWithoutFetching(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.srv.Client()
	before := f.srv.Lists()
	objs, st, err := s3src.List(context.Background(), c, s3src.Options{
		Bucket: bucket, Accounts: []string{"111122223333"}, Regions: []string{"us-east-1"},
		Since: days[2], Until: days[2].Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := placedKeys(f.placed, func(p s3srctest.Placed) bool {
		return p.Account == "111122223333" && p.Region == "us-east-1" && p.Time.Day() == 22
	})
	if got := keys(objs); !reflect.DeepEqual(got, want) || len(want) == 0 {
		t.Fatalf("got %q, want %q", got, want)
	}
	if n := f.srv.Gets(); n != 0 {
		t.Errorf("listing fetched %d object(s)", n)
	}
	// AWSLogs/ (accounts and organizations), then the one day folder:
	// CloudTrail/, the region and the dates are known.
	lists := f.srv.Lists() - before
	if lists != int64(st.Lists) || lists != 2 {
		t.Errorf("%d listings (stats say %d), want 2", lists, st.Lists)
	}
	if st.Filtered == 0 {
		t.Error("Stats.Filtered = 0")
	}
	// Digests are counted, never kept.
	_, st, err = s3src.List(context.Background(), c, s3src.Options{Bucket: bucket, Accounts: []string{"111122223333"}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Digests != 1 {
		t.Errorf("Stats.Digests = %d, want 1", st.Digests)
	}
}

func TestListMissingBucket(t *testing.T) {
	t.Parallel()
	srv := s3srctest.Start(t)
	_, _, err := s3src.List(context.Background(), srv.Client(), s3src.Options{Bucket: "no-such-bucket", Prefix: "AWSLogs/"})
	if !errors.Is(err, s3src.ErrNoBucket) {
		t.Fatalf("err = %v, want ErrNoBucket", err)
	}
	if !strings.Contains(err.Error(), "s3://no-such-bucket/") {
		t.Errorf("error %q does not name the bucket", err)
	}
}

// Open streams an object into the decoder: the events are those of the
// file on disk.
func TestOpen(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.srv.Client()
	p := f.placed[0]
	rc, err := s3src.Open(context.Background(), c, s3src.Object{Bucket: bucket, Key: p.Key})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got := eventIDs(t, rc, "s3")
	want := eventIDs(t, strings.NewReader(string(p.Body)), "disk")
	if len(got) == 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("%d events from S3, %d from the file", len(got), len(want))
	}
	_, err = s3src.Open(context.Background(), c, s3src.Object{Bucket: bucket, Key: "AWSLogs/none.json.gz"})
	if !errors.Is(err, s3src.ErrNoKey) {
		t.Errorf("missing key: err = %v, want ErrNoKey", err)
	}
}

func eventIDs(t *testing.T, r io.Reader, name string) []string {
	t.Helper()
	dec := event.NewDecoder(r, name)
	defer dec.Close()
	var ids []string
	for {
		ev, err := dec.Next()
		if err == io.EOF {
			return ids
		}
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.Key())
	}
}

func TestParseURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, bucket, prefix string }{
		{"s3://b", "b", ""},
		{"s3://b/", "b", ""},
		{"s3://b/AWSLogs/1/", "b", "AWSLogs/1/"},
	}
	for _, tt := range tests {
		b, p, err := s3src.ParseURL(tt.in)
		if err != nil || b != tt.bucket || p != tt.prefix {
			t.Errorf("ParseURL(%q) = %q, %q, %v", tt.in, b, p, err)
		}
	}
	for _, bad := range []string{"s3:///x", "http://b/x", "b/x"} {
		if _, _, err := s3src.ParseURL(bad); !errors.Is(err, s3src.ErrBadURL) {
			t.Errorf("ParseURL(%q): err = %v", bad, err)
		}
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"7d", now.AddDate(0, 0, -7)},
		{"36h", now.Add(-36 * time.Hour)},
		{"1d12h", now.Add(-36 * time.Hour)},
		{"2w", now.AddDate(0, 0, -14)},
		{"90m", now.Add(-90 * time.Minute)},
		{"2026-11-01T00:00:00Z", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		{"2026-11-01T02:00:00+02:00", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		{"2026-11-01", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := s3src.ParseTime(tt.in, now)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "7", "d", "-5h", "7x", "yesterday", "2026-13-01"} {
		if _, err := s3src.ParseTime(bad, now); err == nil {
			t.Errorf("ParseTime(%q): no error", bad)
		}
	}
}

func TestParseName(t *testing.T) {
	t.Parallel()
	lf, ok := s3src.ParseName("AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json.gz")
	want := s3src.LogFile{Account: "218007301253", Region: "us-east-1", Delivered: time.Date(2023, 7, 10, 12, 5, 0, 0, time.UTC)}
	if !ok || lf != want {
		t.Errorf("got %+v, %v", lf, ok)
	}
	for _, bad := range []string{
		"218007301253_CloudTrail-Digest_us-east-1_trail_us-east-1_20230710T1205Z.json.gz",
		"218007301253_CloudTrail_us-east-1_2023-07-10_x.json.gz",
		"2180073012_CloudTrail_us-east-1_20230710T1205Z_x.json.gz",
		"README.txt",
	} {
		if _, ok := s3src.ParseName(bad); ok {
			t.Errorf("ParseName(%q) ok", bad)
		}
	}
}
