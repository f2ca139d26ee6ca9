package sqssrc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// parsed is what a message body asks for: nothing (a test event), log
// files to fetch, or events to decode.
type parsed struct {
	test    bool
	objects []s3Object // non-nil for a notification of log files
	events  []byte     // otherwise: EventBridge events or records, for event.Decoder
}

type s3Object struct {
	bucket, key string
}

// parseBody recognises, in order: an SNS notification envelope (whose
// Message is parsed in turn); S3's s3:TestEvent; an S3 event notification
// ({"Records":[{"eventSource":"aws:s3",...}]}); CloudTrail's SNS message
// ({"s3Bucket":...,"s3ObjectKey":[...]}). Anything else is handed to
// event.Decoder as it is (an EventBridge event, or CloudTrail records).
func parseBody(b []byte) (parsed, error) {
	return parseLevel(b, 0)
}

func parseLevel(b []byte, level int) (parsed, error) {
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return parsed{}, fmt.Errorf("%w: empty body", ErrBadMessage)
	}
	if t[0] != '{' {
		return parsed{events: t}, nil
	}
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(t))
	if err := dec.Decode(&top); err != nil {
		return parsed{}, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	if dec.InputOffset() < int64(len(t)) {
		// Several values (JSON lines of records or events): only
		// event.Decoder reads those.
		return parsed{events: t}, nil
	}
	str := func(k string) string {
		var s string
		if raw, ok := top[k]; ok {
			_ = json.Unmarshal(raw, &s)
		}
		return s
	}

	// SNS envelope (raw message delivery off): the payload is Message.
	if typ := str("Type"); typ != "" && top["TopicArn"] != nil {
		switch typ {
		case "Notification":
			if level > 0 {
				return parsed{}, fmt.Errorf("%w: sns envelope inside an sns envelope", ErrBadMessage)
			}
			msg, ok := top["Message"]
			var inner string
			if !ok || json.Unmarshal(msg, &inner) != nil {
				return parsed{}, fmt.Errorf("%w: sns notification without a string Message", ErrBadMessage)
			}
			return parseLevel([]byte(inner), level+1)
		case "SubscriptionConfirmation", "UnsubscribeConfirmation":
			// SNS to SQS needs no confirmation; nothing to do.
			return parsed{test: true}, nil
		}
	}

	if str("Event") == "s3:TestEvent" {
		return parsed{test: true}, nil
	}

	if raw, ok := top["Records"]; ok {
		var recs []s3Record
		if json.Unmarshal(raw, &recs) == nil && len(recs) > 0 && recs[0].EventSource == "aws:s3" {
			objs := make([]s3Object, 0, len(recs))
			for i, r := range recs {
				if r.EventSource != "aws:s3" {
					return parsed{}, fmt.Errorf("%w: record %d: eventSource %q in an s3 notification", ErrBadMessage, i, r.EventSource)
				}
				if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
					continue // ObjectRemoved, restores...: no new log file
				}
				if r.S3.Bucket.Name == "" || r.S3.Object.Key == "" {
					return parsed{}, fmt.Errorf("%w: record %d: no bucket or key", ErrBadMessage, i)
				}
				objs = append(objs, s3Object{bucket: r.S3.Bucket.Name, key: unescapeKey(r.S3.Object.Key)})
			}
			return parsed{objects: objs}, nil
		}
	}

	if raw, ok := top["s3Bucket"]; ok {
		var bucket string
		var keys []string
		if json.Unmarshal(raw, &bucket) != nil || bucket == "" || json.Unmarshal(top["s3ObjectKey"], &keys) != nil {
			return parsed{}, fmt.Errorf("%w: cloudtrail notification needs s3Bucket and s3ObjectKey", ErrBadMessage)
		}
		objs := make([]s3Object, 0, len(keys))
		for _, k := range keys {
			objs = append(objs, s3Object{bucket: bucket, key: k})
		}
		return parsed{objects: objs}, nil
	}

	return parsed{events: t}, nil
}

// s3Record is the part of an S3 event notification record the source reads.
type s3Record struct {
	EventSource string `json:"eventSource"`
	EventName   string `json:"eventName"`
	S3          struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key  string `json:"key"`
			Size int64  `json:"size"`
		} `json:"object"`
	} `json:"s3"`
}

// unescapeKey decodes an S3 notification's object key, which S3 sends
// URL-encoded (a space as "+").
func unescapeKey(k string) string {
	if u, err := url.QueryUnescape(k); err == nil {
		return u
	}
	return k
}

func readerOf(b []byte) io.Reader { return bytes.NewReader(b) }
