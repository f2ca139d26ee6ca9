package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseSNS checks that any body either fails to parse or gives a
// message that survives a JSON round trip with the same string to sign.
func FuzzParseSNS(f *testing.F) {
	f.Add([]byte(`{"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"hi","Timestamp":"2025-03-06T11:59:58.123Z","SignatureVersion":"1","Signature":"AAAA","SigningCertURL":"https://sns.us-east-1.amazonaws.com/x.pem"}`))
	f.Add([]byte(`{"Type":"Notification","MessageId":"m","TopicArn":"t","Subject":"s\n\u00e9","Message":"{\"a\":1}","Timestamp":"t","SignatureVersion":"2","Signature":"QUJD","SigningCertURL":"u"}`))
	f.Add([]byte(`{"Type":"SubscriptionConfirmation","MessageId":"m","Token":"tok","TopicArn":"t","Message":"m","SubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription","Timestamp":"t","SignatureVersion":"1","Signature":"QUJD","SigningCertURL":"u"}`))
	f.Add([]byte(`{"Type":"UnsubscribeConfirmation","Subject":null}`))
	f.Add([]byte(`{"Type":"Notification","Type":"Gossip"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := parseSNS(body)
		if err != nil {
			if m != nil {
				t.Fatal("message with an error")
			}
			return
		}
		switch m.Type {
		case snsNotification, snsSubscriptionConfirmation, snsUnsubscribeConfirmation:
		default:
			t.Fatalf("accepted type %q", m.Type)
		}
		if m.SignatureVersion != "1" && m.SignatureVersion != "2" {
			t.Fatalf("accepted version %q", m.SignatureVersion)
		}
		sts := stringToSign(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := parseSNS(b)
		if err != nil {
			t.Fatalf("re-encoded message does not parse: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, m2)
		}
		if !bytes.Equal(sts, stringToSign(m2)) {
			t.Fatal("round trip changed the string to sign")
		}
		// looksSNS must not miss a message that names its certificate URL,
		// whatever else the body holds.
		if !looksSNS(b) {
			t.Fatalf("looksSNS misses %s", b)
		}
	})
}

func TestParseSNSRefuses(t *testing.T) {
	t.Parallel()
	ok := `{"Type":"SubscriptionConfirmation","MessageId":"m","Token":"tok","TopicArn":"t","Message":"m","SubscribeURL":"https://x/","Timestamp":"t","SignatureVersion":"1","Signature":"QUJD","SigningCertURL":"u"}`
	if _, err := parseSNS([]byte(ok)); err != nil {
		t.Fatalf("valid message refused: %v", err)
	}
	for name, body := range map[string]string{
		"not json":          `Type=Notification`,
		"unknown type":      strings.Replace(ok, `"SubscriptionConfirmation"`, `"Gossip"`, 1),
		"no token":          strings.Replace(ok, `"Token":"tok",`, ``, 1),
		"no subscribe url":  strings.Replace(ok, `"SubscribeURL":"https://x/",`, ``, 1),
		"no signature":      strings.Replace(ok, `"Signature":"QUJD",`, ``, 1),
		"no cert url":       strings.Replace(ok, `,"SigningCertURL":"u"`, ``, 1),
		"version 3":         strings.Replace(ok, `"SignatureVersion":"1"`, `"SignatureVersion":"3"`, 1),
		"version as number": strings.Replace(ok, `"SignatureVersion":"1"`, `"SignatureVersion":1`, 1),
		"bad base64":        strings.Replace(ok, `"QUJD"`, `"QUJD!"`, 1),
	} {
		if _, err := parseSNS([]byte(body)); !errors.Is(err, ErrSNSMessage) {
			t.Errorf("%s: err %v, want ErrSNSMessage", name, err)
		}
	}
}
