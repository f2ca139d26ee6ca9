package awstest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// TrailTargetPrefixes are the X-Amz-Target prefixes CloudTrail accepts: the
// documented one and the short one the AWS SDK for Go v2 sends.
var TrailTargetPrefixes = []string{"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.", "CloudTrail_20131101."}

// Trail serves CloudTrail's LookupEvents (the event history) over records
// put per region with Put; the region is the one a request was signed for.
// It is faithful in what a poller depends on:
//   - events come back newest first (ties in reverse order of Put);
//   - StartTime and EndTime are epoch seconds (JSON numbers, fractions
//     allowed), both inclusive; EndTime defaults to now, StartTime to 90
//     days before; StartTime after EndTime is an InvalidTimeRangeException;
//   - MaxResults is 1 to 50 (default 50); NextToken pages through a
//     snapshot taken by the first request (InvalidNextTokenException when
//     unknown or used in another region);
//   - Events[] carry EventId, EventName, ReadOnly ("true"/"false"),
//     AccessKeyId, EventTime, EventSource, Username and CloudTrailEvent, the
//     record as a JSON string;
//   - LookupAttributes (at most one) are honoured for EventId, EventName,
//     EventSource, ReadOnly, Username and AccessKeyId; ResourceType and
//     ResourceName answer InvalidLookupAttributesException (not served);
//     EventCategory "insight" finds nothing (no Insights events here);
//   - throttling: at most Rate requests per second per region (a token
//     bucket of Rate tokens on Now), beyond which ThrottlingException
//     ("Rate exceeded"), as CloudTrail's 2 requests/s per account per
//     region; Fail queues any other error type;
//   - an event appears Delay after it was put (event history lags the API
//     call by minutes).
type Trail struct {
	calls
	// Now is the server's clock.
	Now func() time.Time
	// Rate is the per-region request limit per second (0: unlimited).
	Rate float64
	// Delay is how long after Put an event shows in the history.
	Delay time.Duration

	mu      sync.Mutex
	regions map[string][]trailEvent
	buckets map[string]*bucket
	scans   map[string]*trailScan
	seq     int
}

type trailEvent struct {
	rec   []byte
	f     recordFields
	at    time.Time // eventTime
	added time.Time
}

type recordFields struct {
	EventID      string `json:"eventID"`
	EventName    string `json:"eventName"`
	EventSource  string `json:"eventSource"`
	EventTime    string `json:"eventTime"`
	ReadOnly     *bool  `json:"readOnly"`
	UserIdentity struct {
		UserName    string `json:"userName"`
		AccessKeyID string `json:"accessKeyId"`
		PrincipalID string `json:"principalId"`
	} `json:"userIdentity"`
}

type trailScan struct {
	region string
	events []trailEvent
}

type bucket struct {
	tokens float64
	at     time.Time
}

// NewTrail returns an empty server whose clock is now, limited to 2
// requests per second per region.
func NewTrail(now func() time.Time) *Trail {
	return &Trail{Now: now, Rate: 2, regions: map[string][]trailEvent{}, buckets: map[string]*bucket{}, scans: map[string]*trailScan{}}
}

// Put adds CloudTrail records (JSON objects with an eventTime) to region's
// history.
func (t *Trail) Put(region string, records ...[]byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, rec := range records {
		var f recordFields
		if err := json.Unmarshal(rec, &f); err != nil {
			return fmt.Errorf("trail put: %w", err)
		}
		at, err := time.Parse(time.RFC3339, f.EventTime)
		if err != nil {
			return fmt.Errorf("trail put: eventTime: %w", err)
		}
		t.regions[region] = append(t.regions[region], trailEvent{rec: slices.Clone(rec), f: f, at: at, added: t.Now()})
	}
	return nil
}

type lookupIn struct {
	LookupAttributes []struct {
		AttributeKey   string `json:"AttributeKey"`
		AttributeValue string `json:"AttributeValue"`
	} `json:"LookupAttributes"`
	StartTime     *float64 `json:"StartTime"`
	EndTime       *float64 `json:"EndTime"`
	EventCategory string   `json:"EventCategory"`
	MaxResults    *int     `json:"MaxResults"`
	NextToken     string   `json:"NextToken"`
}

type lookupEvent struct {
	AccessKeyID     string     `json:"AccessKeyId,omitempty"`
	CloudTrailEvent string     `json:"CloudTrailEvent"`
	EventID         string     `json:"EventId"`
	EventName       string     `json:"EventName"`
	EventSource     string     `json:"EventSource"`
	EventTime       float64    `json:"EventTime"`
	ReadOnly        string     `json:"ReadOnly,omitempty"`
	Resources       []struct{} `json:"Resources"`
	Username        string     `json:"Username,omitempty"`
}

type lookupOut struct {
	Events    []lookupEvent `json:"Events"`
	NextToken string        `json:"NextToken,omitempty"`
}

// ServeHTTP implements the CloudTrail JSON 1.1 endpoint.
func (t *Trail) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	serveJSON11(w, r, &t.calls, t.Now, TrailTargetPrefixes, map[string]func(string, []byte) (any, error){
		"LookupEvents": t.lookup,
	})
}

func (t *Trail) allow(region string) bool {
	if t.Rate <= 0 {
		return true
	}
	now := t.Now()
	b := t.buckets[region]
	if b == nil {
		b = &bucket{tokens: t.Rate, at: now}
		t.buckets[region] = b
	}
	b.tokens = math.Min(t.Rate, b.tokens+now.Sub(b.at).Seconds()*t.Rate)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func seconds(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC()
}

func (t *Trail) lookup(region string, body []byte) (any, error) {
	var in lookupIn
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, awsError("SerializationException", err.Error())
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.allow(region) {
		return nil, awsError("ThrottlingException", "Rate exceeded")
	}
	max := 50
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			return nil, awsError("InvalidMaxResultsException", "MaxResults must be between 1 and 50")
		}
		max = *in.MaxResults
	}
	var sc *trailScan
	if in.NextToken != "" {
		sc = t.scans[in.NextToken]
		if sc == nil || sc.region != region {
			return nil, awsError("InvalidNextTokenException", "Invalid NextToken")
		}
		delete(t.scans, in.NextToken)
	} else {
		var err error
		if sc, err = t.newScan(region, in); err != nil {
			return nil, err
		}
	}
	out := lookupOut{Events: []lookupEvent{}}
	n := min(max, len(sc.events))
	for _, e := range sc.events[:n] {
		le := lookupEvent{
			AccessKeyID: e.f.UserIdentity.AccessKeyID, CloudTrailEvent: string(e.rec), EventID: e.f.EventID,
			EventName: e.f.EventName, EventSource: e.f.EventSource, Resources: []struct{}{},
			EventTime: float64(e.at.UnixMilli()) / 1000, Username: e.f.UserIdentity.UserName,
		}
		if e.f.ReadOnly != nil {
			le.ReadOnly = strconv.FormatBool(*e.f.ReadOnly)
		}
		out.Events = append(out.Events, le)
	}
	sc.events = sc.events[n:]
	if len(sc.events) > 0 {
		t.seq++
		out.NextToken = "t" + strconv.Itoa(t.seq) + region
		t.scans[out.NextToken] = sc
	}
	return out, nil
}

func (t *Trail) newScan(region string, in lookupIn) (*trailScan, error) {
	now := t.Now()
	end := now
	if in.EndTime != nil {
		end = seconds(*in.EndTime)
	}
	start := now.AddDate(0, 0, -90)
	if in.StartTime != nil {
		start = seconds(*in.StartTime)
	}
	if start.After(end) {
		return nil, awsError("InvalidTimeRangeException", "Start time must be before end time")
	}
	if len(in.LookupAttributes) > 1 {
		return nil, awsError("InvalidLookupAttributesException", "Only one lookup attribute is allowed")
	}
	var key, val string
	if len(in.LookupAttributes) == 1 {
		key, val = in.LookupAttributes[0].AttributeKey, in.LookupAttributes[0].AttributeValue
		switch key {
		case "EventId", "EventName", "EventSource", "ReadOnly", "Username", "AccessKeyId":
		default:
			return nil, awsError("InvalidLookupAttributesException", "unsupported attribute key "+key)
		}
	}
	sc := &trailScan{region: region}
	if in.EventCategory == "insight" {
		return sc, nil
	}
	evs := t.regions[region]
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		if e.at.Before(start) || e.at.After(end) || now.Sub(e.added) < t.Delay {
			continue
		}
		if key != "" && attribute(e.f, key) != val {
			continue
		}
		sc.events = append(sc.events, e)
	}
	slices.SortStableFunc(sc.events, func(a, b trailEvent) int { return b.at.Compare(a.at) })
	return sc, nil
}

func attribute(f recordFields, key string) string {
	switch key {
	case "EventId":
		return f.EventID
	case "EventName":
		return f.EventName
	case "EventSource":
		return f.EventSource
	case "ReadOnly":
		if f.ReadOnly == nil {
			return ""
		}
		return strconv.FormatBool(*f.ReadOnly)
	case "Username":
		return f.UserIdentity.UserName
	case "AccessKeyId":
		return f.UserIdentity.AccessKeyID
	}
	return ""
}
