// Package export generates the AWS side of a Trailwatch deployment, as a
// CloudFormation template or Terraform configuration: EventBridge rules in
// every region that forward console sign-in and API-call events to
// Trailwatch (over HTTP through an API destination, or to an SQS queue), S3
// -> SQS notifications for an organization trail's bucket, and the
// read-only IAM role Trailwatch reads with.
package export

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/trailwatch/trailwatch/internal/rule"
)

// DefaultRegions are the regions where console sign-in events land whatever
// the user's own region (seed 001: sign-in events arrive in varying
// regions, switch role in its region and us-east-1).
var DefaultRegions = []string{"us-east-1", "us-east-2", "eu-north-1", "ap-southeast-2"}

// Options choose what to generate. Exactly one of Endpoint and QueueARN is
// set.
type Options struct {
	// Endpoint is Trailwatch's HTTPS URL; "/events" is added when it has no
	// path. Rules forward to it through an API destination.
	Endpoint string
	// QueueARN is an SQS queue Trailwatch polls; rules in its region target
	// it, rules in other regions forward to its region's default bus.
	QueueARN string
	// Regions get the rules; empty: DefaultRegions and HomeRegion.
	Regions []string
	// HomeRegion holds the one-off resources (the reader role, the
	// organization trail's queue); with QueueARN it is the queue's region.
	// Empty: us-east-1.
	HomeRegion string
	// OrganizationTrailBucket, if set, gets S3 -> SQS notifications of new
	// log files (the queue is created in HomeRegion, which must be the
	// bucket's region).
	OrganizationTrailBucket string
	// Rules, if not nil, narrow the API-call rule to their event sources
	// (see BuildPatterns).
	Rules []*rule.Rule
	// ReadOnlyEvents forwards read-only API calls too.
	ReadOnlyEvents bool
	// Name prefixes the names of what is created; empty: "trailwatch".
	Name string
	// Command is the command line that generated the output, shown in its
	// header.
	Command string
}

// Sentinels.
var (
	ErrPath   = errors.New("give exactly one of an endpoint and a queue ARN")
	ErrOption = errors.New("bad option")
)

var (
	regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	nameRE   = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}$`)
	bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	queueRE  = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):sqs:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$`)
)

// plan is Options checked and completed, what the generators read.
type plan struct {
	Options
	Endpoint   string // with its path
	HTTP       bool
	Queue      queue
	Regions    []string
	Forward    []string // regions other than home (SQS path: they forward to home's bus)
	Patterns   *Patterns
	APIState   string
	OrgTrail   bool
	ReaderSQS  bool // the reader role reads some queue
	HomeIsOnly bool
}

type queue struct {
	ARN, Partition, Region, Account, Name, URL string
}

func (o Options) plan() (*plan, error) {
	p := &plan{Options: o}
	if (o.Endpoint == "") == (o.QueueARN == "") {
		return nil, ErrPath
	}
	if p.Name == "" {
		p.Name = "trailwatch"
	}
	if !nameRE.MatchString(p.Name) {
		return nil, fmt.Errorf("%w: name %q: want 1 to 31 lowercase letters, digits and '-', starting with a letter", ErrOption, p.Name)
	}
	if o.Endpoint != "" {
		u, err := url.Parse(o.Endpoint)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("%w: endpoint %q: want an https:// URL (API destinations call HTTPS only)", ErrOption, o.Endpoint)
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = "/events"
		}
		p.Endpoint = u.String()
		p.HTTP = true
	}
	if o.QueueARN != "" {
		m := queueRE.FindStringSubmatch(o.QueueARN)
		if m == nil {
			return nil, fmt.Errorf("%w: queue %q: want an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)", ErrOption, o.QueueARN)
		}
		suffix := "amazonaws.com"
		if m[1] == "aws-cn" {
			suffix = "amazonaws.com.cn"
		}
		p.Queue = queue{ARN: o.QueueARN, Partition: m[1], Region: m[2], Account: m[3], Name: m[4],
			URL: fmt.Sprintf("https://sqs.%s.%s/%s/%s", m[2], suffix, m[3], m[4])}
		if o.HomeRegion != "" && o.HomeRegion != p.Queue.Region {
			return nil, fmt.Errorf("%w: home region %s: with a queue, the home region is the queue's (%s)", ErrOption, o.HomeRegion, p.Queue.Region)
		}
		p.HomeRegion = p.Queue.Region
		p.ReaderSQS = true
	}
	if p.HomeRegion == "" {
		p.HomeRegion = "us-east-1"
	}
	regions := o.Regions
	if len(regions) == 0 {
		regions = append(append([]string(nil), DefaultRegions...), p.HomeRegion)
	} else {
		regions = append(append([]string(nil), regions...), p.HomeRegion)
	}
	seen := map[string]bool{}
	for _, r := range regions {
		r = strings.TrimSpace(r)
		if r == "" || seen[r] {
			continue
		}
		if !regionRE.MatchString(r) {
			return nil, fmt.Errorf("%w: region %q: want a region name like eu-west-1", ErrOption, r)
		}
		seen[r] = true
		p.Regions = append(p.Regions, r)
		if r != p.HomeRegion {
			p.Forward = append(p.Forward, r)
		}
	}
	if b := o.OrganizationTrailBucket; b != "" {
		if !bucketRE.MatchString(b) || strings.Contains(b, "..") {
			return nil, fmt.Errorf("%w: bucket %q: want an S3 bucket name", ErrOption, b)
		}
		p.OrgTrail = true
		p.ReaderSQS = true
	}
	pats, err := BuildPatterns(o.Rules)
	if err != nil {
		return nil, err
	}
	p.Patterns = pats
	p.APIState = "ENABLED"
	if o.ReadOnlyEvents || pats.ReadOnly {
		p.APIState = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
	}
	return p, nil
}
