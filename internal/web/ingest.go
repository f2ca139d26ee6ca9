package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/trailwatch/trailwatch/internal/event"
)

// errBody is a request body problem with the status to answer.
type errBody struct {
	code   int
	reason string // metric label
	msg    string
}

func (e *errBody) Error() string { return e.msg }

// handlePostEvents ingests events: EventBridge events (one, an array, JSON
// lines), CloudTrail log files (gzipped or not) and SNS HTTP(S) messages.
func (s *Server) handlePostEvents(w http.ResponseWriter, r *http.Request) {
	if !s.ingestAuthOK(r) {
		s.m.rejected.WithLabelValues("auth").Inc()
		s.challenge(w)
		return
	}
	body, err := s.readBody(w, r)
	if err != nil {
		var eb *errBody
		if !errors.As(err, &eb) {
			eb = &errBody{http.StatusBadRequest, "bad_body", err.Error()}
		}
		s.m.rejected.WithLabelValues(eb.reason).Inc()
		writeError(w, eb.code, eb.msg, nil)
		return
	}
	mt := r.Header.Get("X-Amz-Sns-Message-Type")
	switch {
	case strings.EqualFold(r.Header.Get("X-Amz-Sns-Rawdelivery"), "true"):
		// Raw message delivery: the bare message, unsigned.
		if isS3Notification(body) {
			s.acceptS3(w, "sns raw delivery")
			return
		}
		s.ingest(w, r, body, "sns:raw")
	case mt != "":
		s.handleSNS(w, r, body, mt)
	case looksSNS(body):
		if _, err := parseSNS(body); err == nil {
			s.handleSNS(w, r, body, "")
			return
		}
		s.ingest(w, r, body, "http")
	default:
		s.ingest(w, r, body, "http")
	}
}

// readBody reads the whole body within the limit, decompressing gzip (by
// Content-Encoding or by its magic bytes) within the limit again.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity", "gzip", "x-gzip":
	default:
		return nil, &errBody{http.StatusUnsupportedMediaType, "bad_body", fmt.Sprintf("content encoding %q not supported (gzip or none)", truncate(enc, 40))}
	}
	tooLarge := &errBody{http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body larger than %d bytes", s.maxBody)}
	if r.ContentLength > s.maxBody {
		return nil, tooLarge
	}
	rd := http.MaxBytesReader(w, r.Body, s.maxBody)
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + 1)
	}
	if _, err := buf.ReadFrom(rd); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge
		}
		return nil, fmt.Errorf("body read: %w", err)
	}
	data := buf.Bytes()
	isGzip := len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b
	if enc == "gzip" || enc == "x-gzip" || isGzip {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("body gzip: %w", err)
		}
		var out bytes.Buffer
		out.Grow(min(4*len(data), int(s.maxBody)+1))
		if _, err := out.ReadFrom(io.LimitReader(zr, s.maxBody+1)); err != nil {
			return nil, fmt.Errorf("body gzip: %w", err)
		}
		if int64(out.Len()) > s.maxBody {
			return nil, &errBody{http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("decompressed body larger than %d bytes", s.maxBody)}
		}
		data = out.Bytes()
	}
	return data, nil
}

// ingest decodes every event of data and hands them to the sink, all or
// nothing: a bad record refuses the whole request.
func (s *Server) ingest(w http.ResponseWriter, r *http.Request, data []byte, name string) {
	if len(bytes.TrimSpace(data)) == 0 {
		s.m.rejected.WithLabelValues("bad_body").Inc()
		writeError(w, http.StatusBadRequest, "empty body", nil)
		return
	}
	var evs []*event.Event
	d := event.NewDecoder(bytes.NewReader(data), name)
	for {
		e, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			d.Close()
			s.m.rejected.WithLabelValues("bad_record").Inc()
			extra := map[string]any{}
			msg := err.Error()
			var re *event.RecordError
			if errors.As(err, &re) {
				extra["record"] = re.Index
				msg = fmt.Sprintf("record %d: %v", re.Index, re.Err)
			}
			s.log.Warn("ingest: bad record, request refused", "from", name, "err", msg)
			writeError(w, http.StatusBadRequest, "bad record, nothing ingested: "+msg, extra)
			return
		}
		evs = append(evs, e)
	}
	d.Close()
	var res IngestResult
	if len(evs) > 0 {
		var err error
		res, err = s.sink.Ingest(r.Context(), evs)
		if err != nil {
			s.m.rejected.WithLabelValues("sink").Inc()
			s.log.Error("ingest: store events", "events", len(evs), "err", err)
			w.Header().Set("Retry-After", "5")
			writeError(w, http.StatusServiceUnavailable, "events not stored, retry later", nil)
			return
		}
	}
	s.m.events.Add(float64(res.Events))
	s.m.duplicates.Add(float64(res.Duplicates))
	s.m.alerts.Add(float64(res.Alerts))
	writeJSON(w, http.StatusOK, res)
}

// handleSNS verifies an SNS message and acts on its type.
func (s *Server) handleSNS(w http.ResponseWriter, r *http.Request, body []byte, headerType string) {
	m, err := parseSNS(body)
	if err != nil {
		s.m.rejected.WithLabelValues("bad_body").Inc()
		writeError(w, http.StatusBadRequest, err.Error(), nil)
		return
	}
	if headerType != "" && headerType != m.Type {
		s.m.rejected.WithLabelValues("bad_body").Inc()
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%v: header type %q, body type %q", ErrSNSMessage, truncate(headerType, 40), m.Type), nil)
		return
	}
	log := s.log.With("sns_type", m.Type, "topic_arn", m.TopicArn, "message_id", m.MessageID)
	if err := s.sns.verify(r.Context(), m); err != nil {
		code, reason := http.StatusForbidden, "sns_signature"
		switch {
		case errors.Is(err, ErrSNSFetch):
			code, reason = http.StatusServiceUnavailable, "sns_fetch"
		case errors.Is(err, ErrSNSTopic):
			reason = "sns_topic"
		}
		s.m.rejected.WithLabelValues(reason).Inc()
		log.Warn("sns: message refused", "err", err)
		writeError(w, code, err.Error(), nil)
		return
	}
	s.m.sns.WithLabelValues(m.Type).Inc()
	switch m.Type {
	case snsSubscriptionConfirmation:
		if err := s.sns.confirm(r.Context(), m); err != nil {
			code := http.StatusServiceUnavailable
			if errors.Is(err, ErrSNSURL) {
				code = http.StatusForbidden
			}
			log.Warn("sns: subscription not confirmed", "err", err)
			writeError(w, code, "subscription not confirmed: "+err.Error(), nil)
			return
		}
		log.Info("sns: subscription confirmed")
		writeJSON(w, http.StatusOK, map[string]string{"confirmed": m.TopicArn})
	case snsUnsubscribeConfirmation:
		log.Info("sns: subscription ended")
		writeJSON(w, http.StatusOK, map[string]string{"unsubscribed": m.TopicArn})
	default:
		msg := []byte(m.Message)
		if isS3Notification(msg) {
			s.acceptS3(w, "sns notification "+m.MessageID)
			return
		}
		s.ingest(w, r, msg, "sns:"+m.MessageID)
	}
}

// acceptS3 answers an S3 object announcement: reading the announced log
// file is not done here yet (issue 5), so it is accepted and logged.
func (s *Server) acceptS3(w http.ResponseWriter, from string) {
	s.log.Warn("ingest: s3 object notification received; fetching log files from s3 is not supported yet", "from", from)
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "s3 notification accepted, not processed"})
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"response encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// writeError writes {"error": msg, ...extra}.
func writeError(w http.ResponseWriter, code int, msg string, extra map[string]any) {
	v := map[string]any{"error": msg}
	for k, x := range extra {
		v[k] = x
	}
	writeJSON(w, code, v)
}
