package sqssrc

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseBody(t *testing.T) {
	eb := ebEvent("66666666-aaaa-bbbb-cccc-000000000001")
	cases := []struct {
		name    string
		body    string
		want    parsed
		wantErr error
	}{
		{"eventbridge event", eb, parsed{events: []byte(eb)}, nil},
		{"eventbridge via sns", snsEnvelope(eb), parsed{events: []byte(eb)}, nil},
		{"json lines of records", "{\"eventID\":\"a\"}\n{\"eventID\":\"b\"}", parsed{events: []byte("{\"eventID\":\"a\"}\n{\"eventID\":\"b\"}")}, nil},
		{"array", ` [1] `, parsed{events: []byte(`[1]`)}, nil},
		{"s3 test event", s3TestEvent, parsed{test: true}, nil},
		{"s3 test event via sns", snsEnvelope(s3TestEvent), parsed{test: true}, nil},
		{"sns subscription confirmation", `{"Type":"SubscriptionConfirmation","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"confirm"}`, parsed{test: true}, nil},
		{"s3 notification", s3Notification("b", "AWSLogs/1/CloudTrail/us-east-1/2024/05/01/f.json.gz"),
			parsed{objects: []s3Object{{"b", "AWSLogs/1/CloudTrail/us-east-1/2024/05/01/f.json.gz"}}}, nil},
		{"s3 notification, url-encoded key", s3Notification("b", "logs/my+file%3D1.json.gz"),
			parsed{objects: []s3Object{{"b", "logs/my file=1.json.gz"}}}, nil},
		{"s3 notification, two objects", s3Notification("b", "x.json.gz", "y.json.gz"),
			parsed{objects: []s3Object{{"b", "x.json.gz"}, {"b", "y.json.gz"}}}, nil},
		{"s3 object removed", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`,
			parsed{objects: []s3Object{}}, nil},
		{"cloudtrail sns message", `{"s3Bucket":"b","s3ObjectKey":["AWSLogs/1/CloudTrail/x.json.gz","AWSLogs/1/CloudTrail/y.json.gz"]}`,
			parsed{objects: []s3Object{{"b", "AWSLogs/1/CloudTrail/x.json.gz"}, {"b", "AWSLogs/1/CloudTrail/y.json.gz"}}}, nil},
		{"cloudtrail sns via sns", snsEnvelope(`{"s3Bucket":"b","s3ObjectKey":["k"]}`), parsed{objects: []s3Object{{"b", "k"}}}, nil},
		{"cloudtrail records pass through", `{"Records":[{"eventID":"a","eventSource":"iam.amazonaws.com"}]}`,
			parsed{events: []byte(`{"Records":[{"eventID":"a","eventSource":"iam.amazonaws.com"}]}`)}, nil},
		{"bad json", `{"Records":`, parsed{}, ErrBadMessage},
		{"empty", "  ", parsed{}, ErrBadMessage},
		{"sns without message", `{"Type":"Notification","TopicArn":"arn:aws:sns:us-east-1:1:t"}`, parsed{}, ErrBadMessage},
		{"sns in sns", snsEnvelope(snsEnvelope(eb)), parsed{}, ErrBadMessage},
		{"s3 record without key", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{}}}]}`, parsed{}, ErrBadMessage},
		{"mixed records", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}},{"eventSource":"x"}]}`, parsed{}, ErrBadMessage},
		{"cloudtrail sns without keys", `{"s3Bucket":"b"}`, parsed{}, ErrBadMessage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseBody([]byte(tc.body))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func FuzzParseBody(f *testing.F) {
	for _, s := range []string{
		ebEvent("x"), snsEnvelope(ebEvent("x")), s3TestEvent, s3Notification("b", "k"),
		snsEnvelope(s3Notification("b", "k%20")), `{"s3Bucket":"b","s3ObjectKey":["k"]}`, `{"Records":[]}`, "[]", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		p, err := parseBody([]byte(body))
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v is not ErrBadMessage", err)
			}
			return
		}
		kinds := 0
		if p.test {
			kinds++
		}
		if p.objects != nil {
			kinds++
		}
		if p.events != nil {
			kinds++
		}
		if kinds != 1 {
			t.Fatalf("%d kinds in %+v", kinds, p)
		}
		for _, o := range p.objects {
			if o.bucket == "" || o.key == "" {
				t.Fatalf("object without bucket or key: %+v", o)
			}
		}
	})
}
