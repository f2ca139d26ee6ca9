package awstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trailwatch/trailwatch/filterpattern"
)

// LogsTargetPrefix is the X-Amz-Target prefix of CloudWatch Logs.
const LogsTargetPrefix = "Logs_20140328."

// Logs serves CloudWatch Logs' FilterLogEvents over log groups filled with
// Put. It is faithful in what a poller depends on:
//   - events come back in timestamp order (ties in the order they were put),
//     interleaved across streams;
//   - startTime and endTime are epoch milliseconds, both inclusive;
//   - logStreamNames and logStreamNamePrefix are honoured (giving both is
//     an InvalidParameterException), and so is filterPattern, with the
//     CloudWatch Logs filter pattern language of package filterpattern;
//   - a page holds at most limit events (default and maximum 10,000) and
//     1 MB of messages; nextToken pages through a snapshot taken by the
//     first request, so events put meanwhile are not seen by that scan;
//   - EmptyPages makes a scan answer that many empty pages with a nextToken
//     first, as FilterLogEvents does while it searches;
//   - an event becomes searchable SearchDelay after it was put (ingestion
//     time), FilterLogEvents' eventual consistency;
//   - errors: ResourceNotFoundException (no such group),
//     InvalidParameterException, and any type queued with Fail (for
//     example "ThrottlingException").
//
// interleaved, unmask and logGroupIdentifier ARNs are accepted and ignored
// (a logGroupIdentifier is used as a name).
type Logs struct {
	calls
	// Now is the server's clock (ingestion times, SearchDelay).
	Now func() time.Time
	// PageSize, when > 0, caps a page below the request's limit.
	PageSize int
	// EmptyPages is the number of empty pages each scan starts with.
	EmptyPages int
	// SearchDelay is how long after ingestion an event becomes searchable.
	SearchDelay time.Duration

	mu     sync.Mutex
	groups map[string][]LogEvent
	seq    int
	scans  map[string]*scan
}

// LogEvent is one stored log event.
type LogEvent struct {
	Stream    string
	Timestamp time.Time
	Message   string
	Ingestion time.Time // set by Put
	ID        string    // set by Put
}

type scan struct {
	events []LogEvent
	empty  int
}

// NewLogs returns an empty server whose clock is now.
func NewLogs(now func() time.Time) *Logs {
	return &Logs{Now: now, groups: map[string][]LogEvent{}, scans: map[string]*scan{}}
}

// CreateGroup creates an empty log group.
func (l *Logs) CreateGroup(group string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.groups[group]; !ok {
		l.groups[group] = nil
	}
}

// Put stores events in group (created if need be), ingested now.
func (l *Logs) Put(group string, evs ...LogEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	for _, e := range evs {
		l.seq++
		e.Ingestion = now
		e.ID = fmt.Sprintf("%056d", l.seq)
		l.groups[group] = append(l.groups[group], e)
	}
}

type filterIn struct {
	LogGroupName        string   `json:"logGroupName"`
	LogGroupIdentifier  string   `json:"logGroupIdentifier"`
	LogStreamNames      []string `json:"logStreamNames"`
	LogStreamNamePrefix string   `json:"logStreamNamePrefix"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	FilterPattern       string   `json:"filterPattern"`
	NextToken           string   `json:"nextToken"`
	Limit               *int     `json:"limit"`
	Interleaved         *bool    `json:"interleaved"`
	Unmask              *bool    `json:"unmask"`
}

type filteredEvent struct {
	EventID       string `json:"eventId"`
	IngestionTime int64  `json:"ingestionTime"`
	LogStreamName string `json:"logStreamName"`
	Message       string `json:"message"`
	Timestamp     int64  `json:"timestamp"`
}

type filterOut struct {
	Events    []filteredEvent `json:"events"`
	NextToken string          `json:"nextToken,omitempty"`
}

// ServeHTTP implements the CloudWatch Logs JSON 1.1 endpoint.
func (l *Logs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	serveJSON11(w, r, &l.calls, l.Now, []string{LogsTargetPrefix}, map[string]func(string, []byte) (any, error){
		"FilterLogEvents": l.filter,
	})
}

const maxPageBytes = 1 << 20

func (l *Logs) filter(_ string, body []byte) (any, error) {
	var in filterIn
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, awsError("SerializationException", err.Error())
	}
	limit := 10000
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 10000 {
			return nil, awsError("InvalidParameterException", "limit must be between 1 and 10000")
		}
		limit = *in.Limit
	}
	if l.PageSize > 0 && l.PageSize < limit {
		limit = l.PageSize
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var sc *scan
	if in.NextToken != "" {
		sc = l.scans[in.NextToken]
		if sc == nil {
			return nil, awsError("InvalidParameterException", "The specified nextToken is invalid.")
		}
		delete(l.scans, in.NextToken)
	} else {
		var err error
		if sc, err = l.newScan(in); err != nil {
			return nil, err
		}
	}
	out := filterOut{Events: []filteredEvent{}}
	if sc.empty > 0 {
		sc.empty--
	} else {
		size := 0
		n := 0
		for n < len(sc.events) && n < limit {
			size += len(sc.events[n].Message)
			if n > 0 && size > maxPageBytes {
				break
			}
			e := sc.events[n]
			out.Events = append(out.Events, filteredEvent{
				EventID: e.ID, IngestionTime: e.Ingestion.UnixMilli(), LogStreamName: e.Stream,
				Message: e.Message, Timestamp: e.Timestamp.UnixMilli(),
			})
			n++
		}
		sc.events = sc.events[n:]
	}
	if sc.empty > 0 || len(sc.events) > 0 {
		l.seq++
		out.NextToken = "f/" + strconv.Itoa(l.seq) + "/s/" + strconv.FormatInt(l.Now().UnixNano(), 36)
		l.scans[out.NextToken] = sc
	}
	return out, nil
}

func (l *Logs) newScan(in filterIn) (*scan, error) {
	group := in.LogGroupName
	if group == "" {
		group = in.LogGroupIdentifier
	} else if in.LogGroupIdentifier != "" {
		return nil, awsError("InvalidParameterException", "LogGroupName and LogGroupIdentifier are mutually exclusive")
	}
	if group == "" {
		return nil, awsError("InvalidParameterException", "logGroupName or logGroupIdentifier is required")
	}
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != "" {
		return nil, awsError("InvalidParameterException", "Cannot specify both logStreamNames and logStreamNamePrefix")
	}
	if in.StartTime != nil && in.EndTime != nil && *in.EndTime < *in.StartTime {
		return nil, awsError("InvalidParameterException", "endTime must be greater than or equal to startTime")
	}
	var pat *filterpattern.Pattern
	if strings.TrimSpace(in.FilterPattern) != "" {
		p, err := filterpattern.Parse(in.FilterPattern)
		if err != nil {
			return nil, awsError("InvalidParameterException", "Invalid filter pattern: "+err.Error())
		}
		pat = p
	}
	evs, ok := l.groups[group]
	if !ok {
		return nil, awsError("ResourceNotFoundException", "The specified log group does not exist.")
	}
	visible := l.Now().Add(-l.SearchDelay)
	var got []LogEvent
	for _, e := range evs {
		ms := e.Timestamp.UnixMilli()
		switch {
		case e.Ingestion.After(visible),
			in.StartTime != nil && ms < *in.StartTime,
			in.EndTime != nil && ms > *in.EndTime,
			len(in.LogStreamNames) > 0 && !slices.Contains(in.LogStreamNames, e.Stream),
			in.LogStreamNamePrefix != "" && !strings.HasPrefix(e.Stream, in.LogStreamNamePrefix),
			pat != nil && !pat.Matches([]byte(e.Message)):
			continue
		}
		got = append(got, e)
	}
	slices.SortStableFunc(got, func(a, b LogEvent) int { return a.Timestamp.Compare(b.Timestamp) })
	return &scan{events: got, empty: l.EmptyPages}, nil
}
