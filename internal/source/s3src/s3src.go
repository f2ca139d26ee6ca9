// Package s3src reads CloudTrail log files from an S3 bucket: it lists a
// bucket and prefix in the CloudTrail layout
//
//	[prefix/]AWSLogs/[o-org-id/]account/CloudTrail/region/yyyy/mm/dd/
//	    <account>_CloudTrail_<region>_<yyyymmddThhmmZ>_<id>.json.gz
//
// filtered by accounts, regions and a time range, and opens objects as
// streams for event.NewDecoder. Filters work on keys alone: a whole
// account, region, year, month or day is skipped without listing it, and a
// file whose name is out of range is never fetched.
package s3src

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// Errors List and Open can fail with; test them with errors.Is.
var (
	ErrNoBucket = errors.New("bucket does not exist")
	ErrNoKey    = errors.New("object does not exist")
	ErrDenied   = errors.New("access denied")
	ErrBadURL   = errors.New("not an s3://bucket/prefix url")
)

// DeliveryLag is how long after an event CloudTrail may deliver the file
// that holds it. A file delivered before Since holds only events before
// Since, so Since is exact; files delivered up to DeliveryLag after Until
// are kept, as they may hold events from before Until.
const DeliveryLag = time.Hour

// DefaultConcurrency is the number of list and get requests in flight when
// Options.Concurrency is not set.
const DefaultConcurrency = 16

// Options says which bucket to read, what to keep of it, and how to reach it.
type Options struct {
	Bucket string
	Prefix string // a prefix anywhere in (or above) the layout; "" for the whole bucket

	Accounts []string  // keep only these account IDs; all when empty
	Regions  []string  // keep only these regions; all when empty
	Since    time.Time // keep files delivered at or after Since; no bound when zero
	Until    time.Time // keep files delivered before Until (+ DeliveryLag); no bound when zero

	Concurrency int // requests in flight while listing; DefaultConcurrency when < 1

	Endpoint string // S3-compatible endpoint URL; path-style addressing when set
	Region   string // the bucket's region; found with a HeadBucket when empty and no Endpoint
	RoleARN  string // role to assume (STS) before reading, for buckets in other accounts
}

// Object is one log file to read.
type Object struct {
	Bucket       string
	Key          string
	Size         int64
	LastModified time.Time
}

// URL returns s3://bucket/key.
func (o Object) URL() string { return "s3://" + o.Bucket + "/" + o.Key }

// Client is what List and Open need of an S3 client; *s3.Client is one.
type Client interface {
	s3.ListObjectsV2APIClient
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ Client = (*s3.Client)(nil)

// ParseURL splits s3://bucket/prefix.
func ParseURL(s string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q: %w", s, ErrBadURL)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q: %w: no bucket", s, ErrBadURL)
	}
	return bucket, prefix, nil
}

// NewClient builds an S3 client from the standard credential chain
// (environment, shared config and profiles, web identity, container and
// instance roles), with Options' endpoint, region and role.
func NewClient(ctx context.Context, o Options) (*s3.Client, error) {
	var lo []func(*config.LoadOptions) error
	if o.Region != "" {
		lo = append(lo, config.WithRegion(o.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if o.RoleARN != "" {
		provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), o.RoleARN, func(ao *stscreds.AssumeRoleOptions) {
			ao.RoleSessionName = "trailwatch"
		})
		cfg.Credentials = aws.NewCredentialsCache(provider)
	}
	endpoint := func(so *s3.Options) {
		// S3-compatible servers may send no checksum: not worth a log line.
		so.DisableLogOutputChecksumValidationSkipped = true
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
			so.UsePathStyle = true
		}
	}
	client := s3.NewFromConfig(cfg, endpoint)
	if o.Region == "" && o.Endpoint == "" && o.Bucket != "" {
		// CloudTrail buckets often live in another region than the
		// caller's default: ask S3 where this one is.
		if region, err := manager.GetBucketRegion(ctx, client, o.Bucket); err == nil && region != cfg.Region {
			cfg.Region = region
			client = s3.NewFromConfig(cfg, endpoint)
		}
	}
	return client, nil
}

// Open starts reading an object; the body streams from S3 as it is read.
func Open(ctx context.Context, c Client, obj Object) (io.ReadCloser, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(obj.Bucket), Key: aws.String(obj.Key)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", obj.URL(), classify(err))
	}
	return out.Body, nil
}

// classify wraps S3's error codes in this package's sentinels, keeping the
// original error in the chain.
func classify(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.ErrorCode() {
	case "NoSuchBucket":
		return fmt.Errorf("%w (%s)", ErrNoBucket, ae.ErrorMessage())
	case "NoSuchKey", "NotFound":
		return fmt.Errorf("%w (%s)", ErrNoKey, ae.ErrorMessage())
	case "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken":
		return fmt.Errorf("%w: %w", ErrDenied, err)
	}
	return err
}

// Stats counts what a listing saw and left out.
type Stats struct {
	Objects  int   // objects kept
	Bytes    int64 // their total size
	Digests  int   // CloudTrail digest files skipped
	Filtered int   // log files skipped by account, region or time without fetching
	Lists    int   // ListObjectsV2 requests made
	Layout   bool  // whether the prefix was read in the CloudTrail layout
}

// List returns the objects to read under o.Bucket and o.Prefix, in key
// order. In the CloudTrail layout it walks the folders level by level and
// only descends into accounts, regions and dates the filters keep; a prefix
// not in that layout is listed as it is, still skipping digest files and
// filtering CloudTrail file names.
func List(ctx context.Context, c Client, o Options) ([]Object, Stats, error) {
	l := &lister{c: c, o: o, f: newFilter(o)}
	n := o.Concurrency
	if n < 1 {
		n = DefaultConcurrency
	}
	l.sem = make(chan struct{}, n)
	objs, err := l.list(ctx)
	if err != nil {
		return nil, l.stats, err
	}
	slices.SortFunc(objs, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	for _, ob := range objs {
		l.stats.Bytes += ob.Size
	}
	l.stats.Objects = len(objs)
	return objs, l.stats, nil
}

type lister struct {
	c   Client
	o   Options
	f   filter
	sem chan struct{}

	mu    sync.Mutex
	stats Stats
}

// Layout levels below AWSLogs/.
const (
	lvAccount = iota // account ID, or o-org-id then account ID
	lvService        // CloudTrail (not CloudTrail-Digest, CloudTrail-Insight)
	lvRegion
	lvYear
	lvMonth
	lvDay
	lvFile
)

func (l *lister) list(ctx context.Context) ([]Object, error) {
	p := l.o.Prefix
	// Where is the prefix in the layout?
	root, rest := "", ""
	if i := strings.Index("/"+p, "/AWSLogs/"); i >= 0 {
		root, rest = p[:i+len("AWSLogs/")], p[i+len("AWSLogs/"):]
	} else if p == "" || strings.HasSuffix(p, "/") {
		root = p + "AWSLogs/"
	} else if strings.HasSuffix(p, "/AWSLogs") || p == "AWSLogs" {
		root = p + "/"
	} else {
		root = p + "/AWSLogs/"
	}
	segs := strings.Split(rest, "/")
	fixed, partial := segs[:len(segs)-1], segs[len(segs)-1]
	w := walk{dir: root, date: [3]int{}}
	objs, found, err := l.walk(ctx, w, lvAccount, fixed, partial)
	if err != nil {
		return nil, err
	}
	if found {
		l.stats.Layout = true
		return objs, nil
	}
	// Not the CloudTrail layout: list the prefix as it is.
	return l.flat(ctx, p)
}

// walk is where a descent is: the folder, and the dates met on the way.
type walk struct {
	dir  string
	org  bool
	date [3]int // year, month, day; 0 when not met yet
}

// walk lists dir at a level and descends into what the filters keep. fixed
// are the folder names the prefix gives below dir, partial the start of the
// next. found reports whether the level held anything in the layout.
func (l *lister) walk(ctx context.Context, w walk, level int, fixed []string, partial string) (objs []Object, found bool, err error) {
	if level == lvFile {
		objs, err := l.files(ctx, w.dir+strings.Join(fixed, "/")+partialSep(fixed)+partial, true)
		return objs, true, err
	}
	var names []string
	switch {
	case len(fixed) > 0:
		names = []string{fixed[0]}
		fixed = fixed[1:]
	case partial == "" && level == lvService:
		// Only CloudTrail/ holds log files: no need to list the others.
		names = []string{"CloudTrail"}
	case partial == "" && level == lvRegion && len(l.f.regions) > 0:
		names = slices.Sorted(slices.Values(l.f.regions))
	case partial == "" && level == lvYear && l.f.days() != nil:
		// A short time range: go straight to its days.
		return l.days(ctx, w, l.f.days())
	default:
		names, err = l.folders(ctx, w.dir, partial)
		if err != nil {
			return nil, false, err
		}
		partial = ""
	}
	type child struct {
		w     walk
		level int
	}
	var kids []child
	for _, name := range names {
		next := w
		next.dir = w.dir + name + "/"
		nextLevel := level + 1
		keep, inLayout := true, true
		switch level {
		case lvAccount:
			switch {
			case strings.HasPrefix(name, "o-") && !w.org:
				next.org, nextLevel = true, lvAccount
			case isAccount(name):
				keep = l.f.account(name)
			default:
				inLayout = false
			}
		case lvService:
			inLayout = name == "CloudTrail"
			if strings.HasPrefix(name, "CloudTrail-Digest") {
				l.count(func(s *Stats) { s.Digests++ })
			}
		case lvRegion:
			keep = l.f.region(name)
		case lvYear, lvMonth, lvDay:
			v, ok := number(name, map[int]int{lvYear: 4, lvMonth: 2, lvDay: 2}[level])
			if !ok {
				inLayout = false
				break
			}
			next.date[level-lvYear] = v
			keep = l.f.dateOverlaps(next.date)
		}
		if !inLayout {
			continue
		}
		found = true
		if !keep {
			l.count(func(s *Stats) { s.Filtered++ })
			continue
		}
		kids = append(kids, child{next, nextLevel})
	}
	// Descend into the children concurrently; results keep their order.
	results := make([][]Object, len(kids))
	errs := make([]error, len(kids))
	var wg sync.WaitGroup
	for i, k := range kids {
		wg.Go(func() {
			results[i], _, errs[i] = l.walk(ctx, k.w, k.level, fixed, partial)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, found, err
	}
	for _, r := range results {
		objs = append(objs, r...)
	}
	return objs, found, nil
}

// days lists the given day folders under a region folder concurrently.
func (l *lister) days(ctx context.Context, w walk, days []time.Time) ([]Object, bool, error) {
	results := make([][]Object, len(days))
	errs := make([]error, len(days))
	var wg sync.WaitGroup
	for i, d := range days {
		wg.Go(func() {
			results[i], errs[i] = l.files(ctx, w.dir+d.Format("2006/01/02/"), true)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, true, err
	}
	var objs []Object
	for _, r := range results {
		objs = append(objs, r...)
	}
	return objs, true, nil
}

func partialSep(fixed []string) string {
	if len(fixed) > 0 {
		return "/"
	}
	return ""
}

// folders lists the folder names directly under dir that start with partial.
func (l *lister) folders(ctx context.Context, dir, partial string) ([]string, error) {
	var names []string
	err := l.pages(ctx, &s3.ListObjectsV2Input{
		Bucket:    aws.String(l.o.Bucket),
		Prefix:    aws.String(dir + partial),
		Delimiter: aws.String("/"),
	}, func(out *s3.ListObjectsV2Output) {
		for _, cp := range out.CommonPrefixes {
			name := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), dir), "/")
			names = append(names, name)
		}
	})
	return names, err
}

// files lists the objects under prefix (one folder when delimited) and keeps
// those the filters keep.
func (l *lister) files(ctx context.Context, prefix string, delimited bool) ([]Object, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(l.o.Bucket), Prefix: aws.String(prefix)}
	if delimited {
		in.Delimiter = aws.String("/")
	}
	var objs []Object
	var digests, filtered int
	err := l.pages(ctx, in, func(out *s3.ListObjectsV2Output) {
		for _, ob := range out.Contents {
			key := aws.ToString(ob.Key)
			if strings.HasSuffix(key, "/") {
				continue // a folder marker
			}
			if isDigest(key) {
				digests++
				continue
			}
			if !l.f.key(key) {
				filtered++
				continue
			}
			objs = append(objs, Object{Bucket: l.o.Bucket, Key: key, Size: aws.ToInt64(ob.Size), LastModified: aws.ToTime(ob.LastModified)})
		}
	})
	l.count(func(s *Stats) { s.Digests += digests; s.Filtered += filtered })
	return objs, err
}

// flat lists everything under prefix.
func (l *lister) flat(ctx context.Context, prefix string) ([]Object, error) {
	return l.files(ctx, prefix, false)
}

// pages runs a listing to its last page, one request in flight per slot.
func (l *lister) pages(ctx context.Context, in *s3.ListObjectsV2Input, fn func(*s3.ListObjectsV2Output)) error {
	p := s3.NewListObjectsV2Paginator(l.c, in)
	for p.HasMorePages() {
		select {
		case l.sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		out, err := p.NextPage(ctx)
		<-l.sem
		l.count(func(s *Stats) { s.Lists++ })
		if err != nil {
			return fmt.Errorf("s3://%s/%s: %w", l.o.Bucket, aws.ToString(in.Prefix), classify(err))
		}
		fn(out)
	}
	return nil
}

func (l *lister) count(fn func(*Stats)) {
	l.mu.Lock()
	fn(&l.stats)
	l.mu.Unlock()
}

func isDigest(key string) bool {
	return strings.Contains("/"+key, "/CloudTrail-Digest/") || strings.Contains(key[strings.LastIndexByte(key, '/')+1:], "_CloudTrail-Digest_")
}

func isAccount(s string) bool {
	_, ok := number(s, 12)
	return ok
}

// number parses exactly n decimal digits.
func number(s string, n int) (int, bool) {
	if len(s) != n {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}
